"""safemigrate's settings: one typed object, read lazily from ``settings.SAFEMIGRATE``.

Every setting has a default here and is validated by the system checks in
``safemigrate.checks``, which call the same parsing code the runtime uses, so a value
that passes the checks is a value the command can use.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from safemigrate.checklist import DEFAULT_CHECKLIST, ChecklistItem, parse_checklist
from safemigrate.exceptions import ConfigurationError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|min|h)?\s*$")
_UNIT_MS = {"ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000, None: 1}

DEFAULTS: dict[str, Any] = {
    "LOCK_TIMEOUT": "200ms",
    "STATEMENT_TIMEOUT": "10min",
    "CONCURRENT_STATEMENT_TIMEOUT": 0,
    "RETRIES": 30,
    "RETRY_BACKOFF": "250ms",
    "RETRY_BACKOFF_MAX": "3s",
    "RETRY_DEADLINE": "10min",
    "PREFLIGHT": True,
    "PREFLIGHT_WAIT": "1min",
    "TERMINATE_IDLE_BLOCKERS_AFTER": None,
    "RUN_LOCK_WAIT": "5min",
    "POOLER": "auto",
    "HISTORY": True,
    "HISTORY_MAX_STATEMENTS": 1000,
    "TABLES": {},
    "BASELINE": {},
    "SMALL_TABLE_ROWS": 10_000,
    "HOT_TABLES": [],
    "HOT_WRITES_PER_SECOND": None,
    "CHECKLIST": None,
    "REQUIRE_APPROVAL": None,
    "BACKFILL_BATCH_SIZE": 1000,
    "BACKFILL_MAX_BATCH_SIZE": 50_000,
    "BACKFILL_TARGET_BATCH_TIME": "50ms",
    "BACKFILL_PAUSE": "5ms",
    "BACKFILL_MAX_REPLICATION_LAG": "10s",
    "BACKFILL_MAX_TRANSACTION_AGE": "10min",
    "BACKFILL_MODE": "inline",
    "BACKFILL_TASK_BACKEND": "default",
    "INDEX_PROGRESS_INTERVAL": "10s",
}

POOLER_CHOICES = ("auto", "none", "session", "transaction")
BACKFILL_MODES = ("inline", "tasks-wait", "tasks-pending")
APPROVAL_CHOICES = (None, "errors", "all")
TABLE_POLICY_KEYS = ("LOCK_TIMEOUT", "STATEMENT_TIMEOUT", "RETRIES")


def parse_duration(value: object, name: str) -> int:
    """Return ``value`` as whole milliseconds.

    Accept what PostgreSQL users write: an int (milliseconds, as ``SET lock_timeout = 200``
    means) or a string such as ``"200ms"``, ``"2s"``, ``"5min"`` or ``"1h"``. ``0`` means
    no limit, as it does for PostgreSQL's own timeouts.
    """
    if isinstance(value, bool):
        raise ConfigurationError(f"{name} must be a duration such as '200ms', not {value!r}.")
    if isinstance(value, int | float):
        if value < 0:
            raise ConfigurationError(f"{name} must not be negative, got {value!r}.")
        return int(value)
    if isinstance(value, str) and (match := _DURATION.match(value)):
        amount, unit = match.groups()
        return int(float(amount) * _UNIT_MS[unit])
    raise ConfigurationError(
        f"{name} must be a duration such as '200ms', '2s' or '5min' "
        f"(or an int of milliseconds), not {value!r}."
    )


def parse_count(value: object, name: str) -> int:
    """Return ``value`` as a non-negative int, or explain what is wrong with it."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigurationError(f"{name} must be a whole number >= 0, not {value!r}.")
    return value


@dataclass(frozen=True)
class TablePolicy:
    """Overrides for one table: hot tables get shorter lock timeouts and more retries."""

    lock_timeout_ms: int | None = None
    statement_timeout_ms: int | None = None
    retries: int | None = None


def parse_table_policy(table: str, raw: object) -> TablePolicy:
    """Validate one entry of ``TABLES``."""
    name = f"SAFEMIGRATE['TABLES'][{table!r}]"
    if not isinstance(raw, Mapping):
        raise ConfigurationError(f"{name} must be a dict such as {{'LOCK_TIMEOUT': '100ms'}}.")
    unknown = sorted(set(raw) - set(TABLE_POLICY_KEYS))
    if unknown:
        raise ConfigurationError(
            f"{name} has unknown keys {unknown}; allowed: {', '.join(TABLE_POLICY_KEYS)}."
        )

    def duration(key: str) -> int | None:
        return parse_duration(raw[key], f"{name}[{key!r}]") if key in raw else None

    retries = parse_count(raw["RETRIES"], f"{name}['RETRIES']") if "RETRIES" in raw else None
    return TablePolicy(duration("LOCK_TIMEOUT"), duration("STATEMENT_TIMEOUT"), retries)


class Settings:
    """Read ``settings.SAFEMIGRATE`` lazily, one property per setting, with its default."""

    def _raw(self, key: str) -> Any:
        user = getattr(settings, "SAFEMIGRATE", {})
        if not isinstance(user, Mapping):
            raise ConfigurationError("SAFEMIGRATE must be a dict of settings.")
        return user.get(key, DEFAULTS[key])

    def _duration(self, key: str) -> int:
        return parse_duration(self._raw(key), f"SAFEMIGRATE['{key}']")

    def _optional_duration(self, key: str) -> int | None:
        raw = self._raw(key)
        return None if raw is None else parse_duration(raw, f"SAFEMIGRATE['{key}']")

    def _bool(self, key: str) -> bool:
        raw = self._raw(key)
        if not isinstance(raw, bool):
            raise ConfigurationError(f"SAFEMIGRATE['{key}'] must be True or False, not {raw!r}.")
        return raw

    def unknown_keys(self) -> list[str]:
        """Return keys in ``settings.SAFEMIGRATE`` that safemigrate does not know."""
        user = getattr(settings, "SAFEMIGRATE", {})
        return sorted(set(user) - set(DEFAULTS)) if isinstance(user, Mapping) else []

    @property
    def lock_timeout_ms(self) -> int:
        """How long one attempt waits for a lock before giving up and retrying."""
        return self._duration("LOCK_TIMEOUT")

    @property
    def statement_timeout_ms(self) -> int:
        """The longest any one migration statement may run."""
        return self._duration("STATEMENT_TIMEOUT")

    @property
    def concurrent_statement_timeout_ms(self) -> int:
        """The statement timeout for ``CONCURRENTLY`` work, which is slow by nature."""
        return self._duration("CONCURRENT_STATEMENT_TIMEOUT")

    @property
    def retries(self) -> int:
        """How many times a migration (or a non-atomic statement) is retried on lock errors."""
        return parse_count(self._raw("RETRIES"), "SAFEMIGRATE['RETRIES']")

    @property
    def retry_backoff_ms(self) -> int:
        """The first pause between attempts; it doubles with each retry."""
        return self._duration("RETRY_BACKOFF")

    @property
    def retry_backoff_max_ms(self) -> int:
        """The longest pause between two attempts."""
        return self._duration("RETRY_BACKOFF_MAX")

    @property
    def retry_deadline_ms(self) -> int:
        """The total time one migration may spend retrying before it fails."""
        return self._duration("RETRY_DEADLINE")

    @property
    def preflight(self) -> bool:
        """Whether to look for long transactions on a table before locking it."""
        return self._bool("PREFLIGHT")

    @property
    def preflight_wait_ms(self) -> int:
        """How long to wait for long transactions to end before trying the lock anyway."""
        return self._duration("PREFLIGHT_WAIT")

    @property
    def terminate_idle_blockers_after_ms(self) -> int | None:
        """Terminate blockers idle in transaction for longer than this; ``None`` is off."""
        return self._optional_duration("TERMINATE_IDLE_BLOCKERS_AFTER")

    @property
    def run_lock_wait_ms(self) -> int:
        """How long a run waits for another safemigrate run on the same database to end."""
        return self._duration("RUN_LOCK_WAIT")

    @property
    def pooler(self) -> str:
        """The connection pooler mode: ``auto`` detects it, or say it outright."""
        raw = self._raw("POOLER")
        if raw not in POOLER_CHOICES:
            raise ConfigurationError(
                f"SAFEMIGRATE['POOLER'] must be one of {', '.join(POOLER_CHOICES)}, not {raw!r}."
            )
        return str(raw)

    @property
    def history(self) -> bool:
        """Whether runs are recorded in the history tables."""
        return self._bool("HISTORY")

    @property
    def history_max_statements(self) -> int:
        """How many statements of one migration the history keeps (the rest are counted)."""
        return parse_count(
            self._raw("HISTORY_MAX_STATEMENTS"), "SAFEMIGRATE['HISTORY_MAX_STATEMENTS']"
        )

    @property
    def tables(self) -> dict[str, TablePolicy]:
        """Per-table overrides, keyed by table name."""
        raw = self._raw("TABLES")
        if not isinstance(raw, Mapping):
            raise ConfigurationError(
                "SAFEMIGRATE['TABLES'] must be a dict of table name to policy, "
                "e.g. {'shop_order': {'LOCK_TIMEOUT': '100ms', 'RETRIES': 60}}."
            )
        return {str(table): parse_table_policy(str(table), policy) for table, policy in raw.items()}

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
        return parse_count(self._raw("SMALL_TABLE_ROWS"), "SAFEMIGRATE['SMALL_TABLE_ROWS']")

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

    @property
    def checklist(self) -> list[ChecklistItem]:
        """The review checklist, ``{section: [item, ...]}``; ``None`` is the seed's checklist."""
        raw = self._raw("CHECKLIST")
        return parse_checklist(DEFAULT_CHECKLIST if raw is None else raw)

    @property
    def require_approval(self) -> str | None:
        """Which migrations need an approved review to run: none, ``errors`` or ``all``."""
        return parse_approval(self._raw("REQUIRE_APPROVAL"), "SAFEMIGRATE['REQUIRE_APPROVAL']")

    def _positive(self, key: str) -> int:
        value = parse_count(self._raw(key), f"SAFEMIGRATE['{key}']")
        if value < 1:
            raise ConfigurationError(f"SAFEMIGRATE['{key}'] must be at least 1, not {value!r}.")
        return value

    @property
    def backfill_batch_size(self) -> int:
        """The rows of a backfill's first batch; later batches adapt to the target time."""
        return self._positive("BACKFILL_BATCH_SIZE")

    @property
    def backfill_max_batch_size(self) -> int:
        """The most rows one batch may grow to, however fast batches run."""
        return self._positive("BACKFILL_MAX_BATCH_SIZE")

    @property
    def backfill_target_batch_time_ms(self) -> int:
        """How long one batch should hold its row locks; batch sizes adapt towards it."""
        value = self._duration("BACKFILL_TARGET_BATCH_TIME")
        if value < 1:
            raise ConfigurationError("SAFEMIGRATE['BACKFILL_TARGET_BATCH_TIME'] must be > 0.")
        return value

    @property
    def backfill_pause_ms(self) -> int:
        """The pause between two batches, which leaves the table to the application."""
        return self._duration("BACKFILL_PAUSE")

    @property
    def backfill_max_replication_lag_ms(self) -> int | None:
        """Wait while a replica lags more than this; ``None`` never waits."""
        return self._optional_duration("BACKFILL_MAX_REPLICATION_LAG")

    @property
    def backfill_max_transaction_age_ms(self) -> int | None:
        """Wait while another transaction is older than this; ``None`` never waits."""
        return self._optional_duration("BACKFILL_MAX_TRANSACTION_AGE")

    @property
    def backfill_mode(self) -> str:
        """Run batches in the migration (``inline``) or on task workers (``tasks-*``)."""
        raw = self._raw("BACKFILL_MODE")
        if raw not in BACKFILL_MODES:
            raise ConfigurationError(
                f"SAFEMIGRATE['BACKFILL_MODE'] must be one of {', '.join(BACKFILL_MODES)}, "
                f"not {raw!r}."
            )
        return str(raw)

    @property
    def backfill_task_backend(self) -> str:
        """The alias in ``settings.TASKS`` that backfill tasks are enqueued on."""
        raw = self._raw("BACKFILL_TASK_BACKEND")
        if not isinstance(raw, str) or not raw:
            raise ConfigurationError(
                f"SAFEMIGRATE['BACKFILL_TASK_BACKEND'] must be a TASKS alias, not {raw!r}."
            )
        return raw

    @property
    def index_progress_interval_ms(self) -> int:
        """How often a concurrent index build logs its progress; ``0`` turns that off."""
        return self._duration("INDEX_PROGRESS_INTERVAL")


def parse_approval(value: object, name: str) -> str | None:
    """Validate an approval mode: ``None`` (no gate), ``"errors"`` or ``"all"``."""
    if value not in APPROVAL_CHOICES:
        raise ConfigurationError(f"{name} must be None, 'errors' or 'all', not {value!r}.")
    return None if value is None else str(value)


conf = Settings()
