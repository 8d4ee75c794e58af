"""Fixtures shared by safemigrate's tests; the database comes from tests/settings.py."""
