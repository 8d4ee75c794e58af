"""Hold a backfill back between batches: a fixed pause, and waits while the database is strained.

A backfill rewrites every row it touches. Standbys must replay those writes, and vacuum can
only remove the old row versions once no transaction can still see them; so while a standby
lags or a long transaction holds back vacuum's horizon, batches would only add to the
problem. The checks are cheap catalog reads, done at most once per ``CHECK_INTERVAL_S``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.db import connections

from safemigrate.conf import conf
from safemigrate.postgres.sessions import oldest_horizon_holder, replication_lag_s

CHECK_INTERVAL_S = 1.0
_WAIT_POLL_S = 0.5


class Throttle:
    """Decide how long to wait before the next batch, and wait."""

    def __init__(
        self,
        alias: str,
        interrupted: Callable[[], bool],
        exclude_pids: list[int] | None = None,
        on_wait: Callable[[str], None] | None = None,
    ) -> None:
        self.alias = alias
        self.interrupted = interrupted
        self.exclude_pids = exclude_pids or []
        self.on_wait = on_wait
        self.pause_s = conf.backfill_pause_ms / 1000
        self.max_lag_ms = conf.backfill_max_replication_lag_ms
        self.max_age_ms = conf.backfill_max_transaction_age_ms
        self._checked = 0.0

    def wait(self) -> int:
        """Pause, then wait until no limit is exceeded; return the milliseconds waited."""
        started = time.monotonic()
        if self.pause_s:
            time.sleep(self.pause_s)
        if time.monotonic() - self._checked >= CHECK_INTERVAL_S:
            self._wait_for_headroom()
        return int((time.monotonic() - started) * 1000)

    def _wait_for_headroom(self) -> None:
        announced = ""
        while (reason := self.strain()) and not self.interrupted():
            if reason != announced and self.on_wait is not None:
                self.on_wait(reason)
            announced = reason
            time.sleep(_WAIT_POLL_S)
        self._checked = time.monotonic()

    def strain(self) -> str:
        """Say why the backfill should not run a batch now, or return ``""``."""
        with connections[self.alias].cursor() as cursor:
            if self.max_lag_ms is not None:
                lag_s = replication_lag_s(cursor)
                if lag_s * 1000 > self.max_lag_ms:
                    return f"replication lag {lag_s:.1f}s exceeds {self.max_lag_ms / 1000:g}s"
            if self.max_age_ms is not None:
                oldest = oldest_horizon_holder(cursor, self.exclude_pids)
                if oldest is not None and oldest[1] * 1000 > self.max_age_ms:
                    return (
                        f"transaction of pid {oldest[0]} open {oldest[1]:.1f}s (limit "
                        f"{self.max_age_ms / 1000:g}s) holds back vacuum"
                    )
        return ""
