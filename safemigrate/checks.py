"""System checks for safemigrate's settings (filled in with conf.py)."""
