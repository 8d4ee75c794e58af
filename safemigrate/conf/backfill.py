"""The backfill engine's settings: batch sizes and times, throttling, where it runs."""

from __future__ import annotations

from typing import Any, ClassVar

from safemigrate.conf.values import SettingsGroup
from safemigrate.exceptions import ConfigurationError

BACKFILL_MODES = ("inline", "tasks-wait", "tasks-pending")


class BackfillSettings(SettingsGroup):
    """How backfills batch, pause and run."""

    DEFAULTS: ClassVar[dict[str, Any]] = {
        "BACKFILL_BATCH_SIZE": 1000,
        "BACKFILL_MAX_BATCH_SIZE": 50_000,
        "BACKFILL_TARGET_BATCH_TIME": "50ms",
        "BACKFILL_PAUSE": "5ms",
        "BACKFILL_MAX_REPLICATION_LAG": "10s",
        "BACKFILL_MAX_TRANSACTION_AGE": "10min",
        "BACKFILL_MODE": "inline",
        "BACKFILL_TASK_BACKEND": "default",
        "TRANSITION_BATCH_TIME": "10ms",
    }

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
    def transition_batch_time_ms(self) -> int:
        """The target time of a batch of an expand/contract operation's backfill: it
        rewrites rows the application keeps writing, and its trigger doubles each row's
        work, so its batches hold their row locks for less than an ordinary backfill's."""
        value = self._duration("TRANSITION_BATCH_TIME")
        if value < 1:
            raise ConfigurationError("SAFEMIGRATE['TRANSITION_BATCH_TIME'] must be > 0.")
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
        return self._choice("BACKFILL_MODE", BACKFILL_MODES)

    @property
    def backfill_task_backend(self) -> str:
        """The alias in ``settings.TASKS`` that backfill tasks are enqueued on."""
        raw = self._raw("BACKFILL_TASK_BACKEND")
        if not isinstance(raw, str) or not raw:
            raise ConfigurationError(
                f"SAFEMIGRATE['BACKFILL_TASK_BACKEND'] must be a TASKS alias, not {raw!r}."
            )
        return raw
