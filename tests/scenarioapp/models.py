"""The app whose migrations the tests swap in from ``tests/scenarios/`` with MIGRATION_MODULES.

It has no models of its own: each scenario's migrations create what they need, so the test
database starts without them and every test applies them through ``safemigrate``.
"""
