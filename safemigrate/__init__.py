"""Safe, reversible and observable Django migrations on PostgreSQL."""

__version__ = "0.1.0.dev0"
