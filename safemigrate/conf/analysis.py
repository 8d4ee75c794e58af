"""The analysis' settings: the baseline, and what makes a table small or hot."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from safemigrate.conf.values import SettingsGroup
from safemigrate.exceptions import ConfigurationError


class AnalysisSettings(SettingsGroup):
    """How the analysis judges a plan."""

    DEFAULTS: ClassVar[dict[str, Any]] = {
        "BASELINE": {},
        "SMALL_TABLE_ROWS": 10_000,
        "HOT_TABLES": [],
        "HOT_WRITES_PER_SECOND": None,
    }

    @property
    def baseline(self) -> dict[str, str]:
        """Per app, the last migration judged already: it and its ancestors are not linted."""
        raw = self._raw("BASELINE")
        if not isinstance(raw, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) and v for k, v in raw.items()
        ):
            raise ConfigurationError(
                "SAFEMIGRATE['BASELINE'] must map app labels to migration names, "
                "e.g. {'shop': '0042_order_status'}."
            )
        return dict(raw)

    @property
    def small_table_rows(self) -> int:
        """Below this many rows (from live statistics), size-bound findings drop to info."""
        return self._count("SMALL_TABLE_ROWS")

    @property
    def hot_tables(self) -> frozenset[str]:
        """Tables so busy that even a brief write-blocking lock is a finding."""
        raw = self._raw("HOT_TABLES")
        if isinstance(raw, str) or not isinstance(raw, list | tuple | set | frozenset):
            raise ConfigurationError(
                "SAFEMIGRATE['HOT_TABLES'] must be a list of table names, e.g. ['shop_order']."
            )
        if not all(isinstance(table, str) and table for table in raw):
            raise ConfigurationError(
                f"SAFEMIGRATE['HOT_TABLES'] must hold table names (strings), not {list(raw)!r}."
            )
        return frozenset(raw)

    @property
    def hot_writes_per_second(self) -> float | None:
        """Tables written faster than this (live statistics) count as hot; ``None`` is off."""
        raw = self._raw("HOT_WRITES_PER_SECOND")
        if raw is None:
            return None
        if isinstance(raw, bool) or not isinstance(raw, int | float) or raw <= 0:
            raise ConfigurationError(
                "SAFEMIGRATE['HOT_WRITES_PER_SECOND'] must be a positive number of rows "
                f"written per second, e.g. 50, or None; not {raw!r}."
            )
        return float(raw)
