"""A small shop whose migration history exercises safemigrate; ``./dev demo`` runs it."""
