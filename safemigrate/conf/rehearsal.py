"""The rehearsal's settings: how the copy is made and which queries it replays."""

from __future__ import annotations

from typing import Any, ClassVar

from safemigrate.conf.values import SettingsGroup
from safemigrate.exceptions import ConfigurationError


class RehearsalSettings(SettingsGroup):
    """How ``--rehearse`` copies the database, and the queries it checks before and after."""

    DEFAULTS: ClassVar[dict[str, Any]] = {
        "REHEARSAL_SAMPLE_ROWS": None,
        "REHEARSAL_QUERIES": [],
        "REHEARSAL_TOP_QUERIES": 10,
        "REHEARSAL_SLOWDOWN": 2.0,
        "REHEARSAL_QUERY_TIMEOUT": "30s",
    }

    @property
    def rehearsal_sample_rows(self) -> int | None:
        """Copy only this many rows of larger tables no foreign key references; ``None``
        copies every row."""
        return (
            None
            if self._raw("REHEARSAL_SAMPLE_ROWS") is None
            else self._positive("REHEARSAL_SAMPLE_ROWS")
        )

    @property
    def rehearsal_queries(self) -> list[str]:
        """Queries to replay before and after the plan, beside ``pg_stat_statements``'."""
        raw = self._raw("REHEARSAL_QUERIES")
        if not isinstance(raw, list | tuple) or not all(
            isinstance(query, str) and query.strip() for query in raw
        ):
            raise ConfigurationError(
                "SAFEMIGRATE['REHEARSAL_QUERIES'] must be a list of SQL strings, such as "
                f"['SELECT * FROM shop_order WHERE customer_id = 1'], not {raw!r}."
            )
        return [query.strip().rstrip(";") for query in raw]

    @property
    def rehearsal_top_queries(self) -> int:
        """How many of ``pg_stat_statements``' heaviest reading queries to replay (0: none)."""
        return self._count("REHEARSAL_TOP_QUERIES")

    @property
    def rehearsal_slowdown(self) -> float | None:
        """Fail the rehearsal when a query's plan changes and it gets this many times
        slower; ``None`` only reports."""
        raw = self._raw("REHEARSAL_SLOWDOWN")
        if raw is None:
            return None
        if isinstance(raw, bool) or not isinstance(raw, int | float) or raw <= 1:
            raise ConfigurationError(
                f"SAFEMIGRATE['REHEARSAL_SLOWDOWN'] must be a ratio above 1, such as 2.0 "
                f"(or None), not {raw!r}."
            )
        return float(raw)

    @property
    def rehearsal_query_timeout_ms(self) -> int:
        """The longest one replayed query may run on the copy."""
        return self._duration("REHEARSAL_QUERY_TIMEOUT")
