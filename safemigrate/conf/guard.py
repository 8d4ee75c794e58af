"""The guarded run's settings: timeouts, retries, pre-flight, run lock, pooler, history."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from safemigrate.conf.values import SettingsGroup, parse_count, parse_duration
from safemigrate.exceptions import ConfigurationError

POOLER_CHOICES = ("auto", "none", "session", "transaction")
TABLE_POLICY_KEYS = ("LOCK_TIMEOUT", "LOCK_TIMEOUT_MAX", "STATEMENT_TIMEOUT", "RETRIES")


@dataclass(frozen=True)
class TablePolicy:
    """Overrides for one table: hot tables get shorter lock timeouts and more retries."""

    lock_timeout_ms: int | None = None
    statement_timeout_ms: int | None = None
    retries: int | None = None
    lock_timeout_max_ms: int | None = None


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
    cap = duration("LOCK_TIMEOUT_MAX")
    if cap == 0:
        raise ConfigurationError(f"{name}['LOCK_TIMEOUT_MAX'] must be above zero, e.g. '500ms'.")
    return TablePolicy(duration("LOCK_TIMEOUT"), duration("STATEMENT_TIMEOUT"), retries, cap)


def _check_steps(name: str, steps: tuple[int, ...], cap_ms: int) -> None:
    """Each retry needs a lock timeout, and none may go past the cap the project promised."""
    if 0 in steps:
        raise ConfigurationError(
            f"{name} must hold durations above zero: a retry without a lock timeout would "
            "queue for as long as the storm lasts."
        )
    above = [step for step in steps if step > cap_ms]
    if above and cap_ms:
        raise ConfigurationError(
            f"{name} has {above[0]}ms, above LOCK_TIMEOUT_MAX ({cap_ms}ms): raise "
            "LOCK_TIMEOUT_MAX or lower the entry, so the worst stall stays the one you set."
        )


class GuardSettings(SettingsGroup):
    """How each migration statement is guarded."""

    DEFAULTS: ClassVar[dict[str, Any]] = {
        "LOCK_TIMEOUT": "200ms",
        "LOCK_TIMEOUT_MAX": "1s",
        "RETRY_LOCK_TIMEOUTS": None,
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
    }

    @property
    def lock_timeout_ms(self) -> int:
        """How long the first attempt waits for a lock before giving up and retrying."""
        return self._duration("LOCK_TIMEOUT")

    @property
    def lock_timeout_max_ms(self) -> int:
        """The longest lock timeout a retry may grow to: the worst stall a lock storm causes."""
        value = self._duration("LOCK_TIMEOUT_MAX")
        if value < 1:
            raise ConfigurationError(
                "SAFEMIGRATE['LOCK_TIMEOUT_MAX'] must be a duration above zero such as '1s', "
                f"not {self._raw('LOCK_TIMEOUT_MAX')!r}: it is the longest a retry may wait."
            )
        return value

    @property
    def retry_lock_timeouts_ms(self) -> tuple[int, ...]:
        """The lock timeouts of the retries, in order (the last repeats); empty: doubling."""
        raw = self._raw("RETRY_LOCK_TIMEOUTS")
        if raw is None:
            return ()
        name = "SAFEMIGRATE['RETRY_LOCK_TIMEOUTS']"
        if isinstance(raw, str | bytes) or not isinstance(raw, Sequence) or not raw:
            raise ConfigurationError(
                f"{name} must be None or a non-empty list of durations such as "
                f"['400ms', '800ms', '1s'], not {raw!r}."
            )
        steps = tuple(parse_duration(step, f"{name}[{i}]") for i, step in enumerate(raw))
        try:
            cap_ms = self.lock_timeout_max_ms
        except ConfigurationError:
            cap_ms = 0  # reported on its own, as safemigrate.E018
        _check_steps(name, steps, cap_ms)
        return steps

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
        return self._count("RETRIES")

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
        return self._choice("POOLER", POOLER_CHOICES)

    @property
    def history(self) -> bool:
        """Whether runs are recorded in the history tables."""
        return self._bool("HISTORY")

    @property
    def history_max_statements(self) -> int:
        """How many statements of one migration the history keeps (the rest are counted)."""
        return self._count("HISTORY_MAX_STATEMENTS")

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
