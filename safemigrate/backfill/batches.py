"""Run a backfill as key-range batches, each in its own short transaction with its checkpoint.

A batch is the next ``size`` keys after the checkpoint, up to the high-water mark taken when
the backfill started: keyset pagination reads only those index entries, where ``OFFSET``
would read every row before them again. The batch's rows and the checkpoint are written in
one transaction, so a crash loses either both or neither: a resumed backfill applies no batch
twice and skips none.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from django.db import DatabaseError, connections, transaction
from django.db.models import F, Model, QuerySet
from django.utils import timezone

from safemigrate.backfill.throttle import Throttle
from safemigrate.conf import conf
from safemigrate.exceptions import RetriesExhausted
from safemigrate.guard.migration import outcome_of
from safemigrate.guard.timeouts import Backoff
from safemigrate.models import BackfillRequest, BackfillState, BackfillStatus, Outcome
from safemigrate.postgres.sessions import set_settings
from safemigrate.postgres.tables import quote_identifier, quote_relation

#: What a batch does to its rows; returns how many it changed, or None for "all of them".
Work = Callable[[QuerySet[Any]], "int | None"]
_CONTROL_POLL_S = 0.5


class Step(Enum):
    """How one call to ``Batcher.step()`` ended."""

    BATCH = "batch"
    DONE = "done"
    PAUSED = "paused"
    CANCELLED = "cancelled"


@dataclass
class Target:
    """The rows a backfill walks through and what it does to each batch of them."""

    model: type[Model]
    key: str
    work: Work
    #: How long a batch should take, when not ``BACKFILL_TARGET_BATCH_TIME``.
    batch_time_ms: int | None = None

    @property
    def key_field(self) -> Any:
        return self.model._meta.pk if self.key == "pk" else self.model._meta.get_field(self.key)

    def range(self, alias: str, after: Any, upto: Any) -> QuerySet[Any]:
        """The model's rows with ``after < key <= upto``."""
        rows = self.model._base_manager.using(alias).filter(**{f"{self.key}__lte": upto})
        return rows if after is None else rows.filter(**{f"{self.key}__gt": after})


def key_to_json(value: Any) -> Any:
    """Store a key in the checkpoint: ints as they are, anything else (uuid, text) as text."""
    return value if value is None or isinstance(value, int | str) else str(value)


def high_water(cursor: Any, target: Target) -> Any:
    """Return the largest key now: the backfill stops there, however many rows arrive later."""
    column, table = target.key_field.column, target.model._meta.db_table
    cursor.execute(f"SELECT max({quote_identifier(column)}) FROM {quote_relation(table)}")
    return cursor.fetchone()[0]


def next_bound(cursor: Any, target: Target, after: Any, upto: Any, size: int) -> tuple[Any, int]:
    """Return the last key of the next batch and how many keys it holds (0: nothing left)."""
    column = quote_identifier(target.key_field.column)
    table = quote_relation(target.model._meta.db_table)
    lower = "" if after is None else f"{column} > %s AND "
    params = ([] if after is None else [after]) + [upto, size]
    cursor.execute(
        f"SELECT max(k), count(*) FROM (SELECT {column} AS k FROM {table} "
        f"WHERE {lower}{column} <= %s ORDER BY {column} LIMIT %s) AS batch",
        params,
    )
    bound, count = cursor.fetchone()
    return bound, int(count)


class Sizer:
    """Adapt the batch size so that a batch takes about the target time."""

    def __init__(self, size: int, target_ms: int | None = None) -> None:
        self.size = max(1, min(size, conf.backfill_max_batch_size))
        self.target_ms = target_ms or conf.backfill_target_batch_time_ms
        self.max_size = conf.backfill_max_batch_size
        self.ms_per_row: float | None = None

    def after_batch(self, elapsed_ms: float, rows: int) -> None:
        """Scale towards the target, at most doubling or halving at a time.

        The cost of a row is smoothed, so that one fast batch does not double the next; but
        a batch well over the target counts at once, since its row locks are what the
        application waits for.
        """
        per_row = max(elapsed_ms, 0.01) / max(rows, 1)
        if self.ms_per_row is None or elapsed_ms > 1.5 * self.target_ms:
            self.ms_per_row = per_row
        else:
            self.ms_per_row = 0.7 * self.ms_per_row + 0.3 * per_row
        wanted = self.target_ms / self.ms_per_row
        scaled = int(min(2.0 * self.size, max(0.5 * self.size, wanted)))
        self.size = max(1, min(self.max_size, scaled))

    def halve(self) -> None:
        """A batch that cannot get its row locks in time gets smaller, down to one row."""
        self.size = max(1, self.size // 2)


class Batcher:
    """Walk one ``BackfillState`` forward, one committed batch at a time."""

    def __init__(
        self,
        state: BackfillState,
        target: Target,
        alias: str,
        exclude_pids: list[int] | None = None,
        on_wait: Callable[[str], None] | None = None,
        *,
        set_limits: bool = True,
    ) -> None:
        self.state = state
        self.set_limits = set_limits
        self.target = target
        self.alias = alias
        self.sizer = Sizer(state.batch_size or conf.backfill_batch_size, target.batch_time_ms)
        self.backoff = Backoff.from_settings()
        self.throttle = Throttle(alias, self._control_requested, exclude_pids, on_wait)
        self._clock = time.monotonic()
        self.last_batch_ms = 0.0

    @property
    def connection(self) -> Any:
        return connections[self.alias]

    def step(self) -> Step:
        """Wait while the database is under strain, then run one batch, retrying lock timeouts."""
        waited_ms = self.throttle.wait()
        self.state.waited_ms += waited_ms
        retries = 0
        while True:
            try:
                return self._batch()
            except DatabaseError as error:
                if outcome_of(error) not in (Outcome.LOCK_TIMEOUT, Outcome.DEADLOCK):
                    raise
                retries += 1
                self._after_lock_timeout(retries, error)

    def _after_lock_timeout(self, retries: int, error: DatabaseError) -> None:
        """Halve the batch (fewer row locks to wait for) and try again after a backoff."""
        self.state.lock_timeouts += 1
        if retries > conf.retries and self.sizer.size == 1:
            raise RetriesExhausted(
                f"Backfill {self.state.name} could not lock even one row after {retries} "
                f"tries ({error}). Its checkpoint is kept: end the session holding the rows "
                "and run safemigrate again to resume, or raise SAFEMIGRATE['RETRIES']."
            ) from error
        self.sizer.halve()
        time.sleep(self.backoff.delay_ms(min(retries, 8)) / 1000)

    def _batch(self) -> Step:
        started = time.perf_counter()
        with transaction.atomic(using=self.alias), self.connection.cursor() as cursor:
            self._set_limits(cursor)
            state = (
                BackfillState.objects.using(self.alias).select_for_update().get(pk=self.state.pk)
            )
            control = self._apply_request(state)
            if control is not None:
                return control
            after = self._db_key(state.last_key)
            bound, count = next_bound(
                cursor, self.target, after, self._db_key(state.high_water), self.sizer.size
            )
            if count == 0:
                self._finish(BackfillStatus.DONE)
                return Step.DONE
            changed = self.target.work(self.target.range(self.alias, after, bound))
            self._checkpoint(bound, count if changed is None else changed)
        self.last_batch_ms = (time.perf_counter() - started) * 1000
        self.sizer.after_batch(self.last_batch_ms, count)
        return Step.BATCH

    def _set_limits(self, cursor: Any) -> None:
        """Bound each batch's lock waits and run time, where no guard does it already.

        A batch also commits without waiting for its WAL to reach disk: a crash can lose the
        last batches, but only together with their checkpoint (one transaction), so the
        resumed backfill redoes exactly them. The migration's own record commits durably
        after, which flushes every batch's WAL before it.
        """
        values = {"synchronous_commit": "off"}
        if self.set_limits:
            values["lock_timeout"] = str(conf.lock_timeout_ms)
            values["statement_timeout"] = str(conf.statement_timeout_ms)
        set_settings(cursor.cursor, values, local=True)

    def _db_key(self, value: Any) -> Any:
        return None if value is None else self.target.key_field.to_python(value)

    def _apply_request(self, state: BackfillState) -> Step | None:
        """Honour a pause or cancel asked for by ``safemigrate --backfill-pause``/``-cancel``."""
        if state.status in (BackfillStatus.DONE, BackfillStatus.CANCELLED):
            self.state.status = state.status
            return Step.DONE if state.status == BackfillStatus.DONE else Step.CANCELLED
        if state.request == BackfillRequest.CANCEL:
            self._finish(BackfillStatus.CANCELLED)
            return Step.CANCELLED
        if state.request == BackfillRequest.PAUSE:
            self._save(status=BackfillStatus.PAUSED)
            return Step.PAUSED
        return None

    def _checkpoint(self, bound: Any, changed: int) -> None:
        last_key = key_to_json(bound)
        self._save(
            status=BackfillStatus.RUNNING,
            last_key=last_key,
            rows_done=F("rows_done") + changed,
            batches=F("batches") + 1,
            batch_size=self.sizer.size,
            lock_timeouts=self.state.lock_timeouts,
            waited_ms=self.state.waited_ms,
        )
        self.state.last_key = last_key
        self.state.rows_done += changed
        self.state.batches += 1
        self.state.batch_size = self.sizer.size

    def _finish(self, status: BackfillStatus) -> None:
        self._save(status=status, finished_at=timezone.now(), request=BackfillRequest.NONE)

    def _save(self, **fields: Any) -> None:
        """Write fields of the state row (in the caller's transaction) and mirror them here."""
        elapsed_ms = int((time.monotonic() - self._clock) * 1000)
        self._clock = time.monotonic()
        self.state.active_ms += elapsed_ms
        fields |= {"updated_at": timezone.now(), "active_ms": F("active_ms") + elapsed_ms}
        BackfillState.objects.using(self.alias).filter(pk=self.state.pk).update(**fields)
        for name in ("status", "finished_at", "request"):
            if name in fields:
                setattr(self.state, name, fields[name])

    def _control_requested(self) -> bool:
        """Whether a pause or cancel is waiting: a long throttle wait gives way to it."""
        request = (
            BackfillState.objects.using(self.alias)
            .filter(pk=self.state.pk)
            .values_list("request", flat=True)
            .first()
        )
        return bool(request)

    def wait_while_paused(self, on_wait: Callable[[], None]) -> Step:
        """Poll the state row until the pause is lifted (``BATCH``) or turned into a cancel."""
        while True:
            state = BackfillState.objects.using(self.alias).get(pk=self.state.pk)
            if state.request == BackfillRequest.CANCEL:
                with transaction.atomic(using=self.alias):
                    self._finish(BackfillStatus.CANCELLED)
                return Step.CANCELLED
            if state.request != BackfillRequest.PAUSE:
                self._save(status=BackfillStatus.RUNNING)
                self._clock = time.monotonic()
                return Step.BATCH
            on_wait()
            time.sleep(_CONTROL_POLL_S)
            self._clock = time.monotonic()
