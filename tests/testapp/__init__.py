"""A minimal app with a migration history, for tests that migrate something real."""
