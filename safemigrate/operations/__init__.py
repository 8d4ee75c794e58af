"""safemigrate's migration operations; import them from here."""

from __future__ import annotations

from safemigrate.operations.backfill import Backfill, RunBackfill

__all__ = ["Backfill", "RunBackfill"]
