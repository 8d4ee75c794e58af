"""Guard one migration: timeouts on every statement, pre-flight, blocker watch, retries.

The guard is installed with Django's public ``connection.execute_wrapper()`` hook, so it
sees every statement a migration runs: generated DDL, ``RunSQL``, and the ORM queries of
``RunPython`` alike. An atomic migration is retried whole: rolling back releases every lock
it took, so nobody queues behind a migration that is waiting. A non-atomic migration has
committed its earlier statements, so it retries only the statement that failed.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any, TypeVar

from django.db import transaction
from django.db.migrations import Migration

from safemigrate.exceptions import BlockedByLongTransaction, PoolerUnsafe, RetriesExhausted
from safemigrate.guard.preflight import Preflight, terminate_idle
from safemigrate.guard.records import MigrationLog, StatementRecord, now
from safemigrate.guard.scope import RunScope
from safemigrate.guard.session import may_change_settings, timeout_settings
from safemigrate.guard.timeouts import Policy, migration_overrides
from safemigrate.models import Attempt, Outcome, Status
from safemigrate.postgres.sessions import Session, redact, set_settings
from safemigrate.postgres.statements import StatementInfo, classify

T = TypeVar("T")

_RETRYABLE_SQLSTATES = {"55P03": Outcome.LOCK_TIMEOUT, "40P01": Outcome.DEADLOCK}
_QUERY_CANCELED = "57014"


def outcome_of(error: BaseException) -> Outcome:
    """Name what went wrong, looking through Django's wrapping of driver errors."""
    if isinstance(error, BlockedByLongTransaction):
        return Outcome.BLOCKED
    cause: BaseException | None = error
    while cause is not None:
        sqlstate = getattr(cause, "sqlstate", None)
        if sqlstate in _RETRYABLE_SQLSTATES:
            return _RETRYABLE_SQLSTATES[sqlstate]
        if sqlstate == _QUERY_CANCELED and "statement timeout" in str(cause):
            return Outcome.STATEMENT_TIMEOUT
        cause = cause.__cause__
    return Outcome.ERROR


def is_retryable(outcome: Outcome) -> bool:
    return outcome in (Outcome.LOCK_TIMEOUT, Outcome.DEADLOCK, Outcome.BLOCKED)


class MigrationGuard:
    """Run one migration under the run's limits and record what happened."""

    def __init__(self, run: RunScope, migration: Migration, log: MigrationLog) -> None:
        self.run = run
        self.migration = migration
        self.log = log
        self.connection = run.connection
        self.overrides = run.overrides.over(migration_overrides(migration))
        self.policy = run.resolver.for_migration(self.overrides)
        self.preflight = Preflight(
            run, run.preflight_wait_ms if run.preflight else 0, self._remember
        )
        self.blockers: dict[int, Session] = {}
        self.failed_policy: Policy | None = None
        self.unit_retries = 0
        #: How many times the unit's lock timeout has grown (see ``_escalate``).
        self.lock_steps = 0
        #: The timeouts set on the connection now: the attempt's, or the session's.
        self._in_effect = self.policy
        self._attempt = self._new_attempt(1)

    # -- the migration as a whole --------------------------------------------------------

    def execute(self, body: Callable[[], T]) -> T:
        """Run ``body`` (Django's apply or unapply) under the guard."""
        with self.connection.execute_wrapper(self):
            if self.migration.atomic:
                return self._retrying(lambda: self._atomic_attempt(body), whole_migration=True)
            if self.run.pooled:
                raise PoolerUnsafe(self._pooler_message())
            self._in_effect = self.policy
            self.run.session.hold(self.policy)
            result = body()
        self._close_attempt(Outcome.OK)
        return result

    def _atomic_attempt(self, body: Callable[[], T]) -> T:
        self._in_effect = self._for_attempt(self.policy)
        self._attempt.lock_timeout_ms = self._in_effect.lock_timeout_ms
        if self.run.pooled:
            result = self._in_own_transaction(body)
        else:
            # The session's timeouts cover the schema editor's transaction: no SET LOCAL in a
            # transaction of our own, hence no savepoint for the editor's atomic block in it.
            self.run.session.hold(self._in_effect)
            result = body()
        self._close_attempt(Outcome.OK)
        return result

    def _in_own_transaction(self, body: Callable[[], T]) -> T:
        """Run ``body`` in a transaction that sets the attempt's timeouts with ``SET LOCAL``,
        which a transaction-mode pooler keeps, unlike session settings."""
        with transaction.atomic(using=self.connection.alias):
            with self.connection.cursor() as cursor:
                self._set_timeouts(cursor.cursor, self._in_effect, local=True)
            return body()

    def _for_attempt(self, policy: Policy) -> Policy:
        """Return ``policy`` with this attempt's lock timeout: longer with each retry."""
        outlast_ms = self.preflight.outlast_ms()
        return self.run.resolver.for_attempt(policy, self.lock_steps, outlast_ms)

    @staticmethod
    def _set_timeouts(raw_cursor: Any, policy: Policy, *, local: bool) -> None:
        set_settings(raw_cursor, timeout_settings(policy), local=local)

    # -- every statement -----------------------------------------------------------------

    def __call__(
        self,
        execute: Callable[..., Any],
        sql: str,
        params: Any,
        many: bool,
        context: dict[str, Any],
    ) -> Any:
        """The ``execute_wrapper``: apply this statement's limits, watch it, record it."""
        infos = classify(sql)
        if may_change_settings(sql, infos):
            self.run.session.forget()
        policy = self.run.resolver.for_statement(self.overrides, infos)
        run_once = functools.partial(
            self._execute_once, execute, sql, params, many, context, infos, policy
        )
        if self.connection.in_atomic_block or any(info.concurrently for info in infos):
            # In a transaction, a failed statement aborts it: the whole migration retries.
            # CONCURRENTLY work is never retried blindly: a failed build leaves an INVALID index.
            return run_once()
        return self._retrying(run_once, whole_migration=False)

    def _execute_once(
        self,
        execute: Callable[..., Any],
        sql: str,
        params: Any,
        many: bool,
        context: dict[str, Any],
        infos: tuple[StatementInfo, ...],
        base: Policy,
    ) -> Any:
        in_transaction = self.connection.in_atomic_block
        self.preflight.check(infos, base, in_transaction)
        policy = self._for_attempt(base)
        if any(info.may_wait_for_locks(self.run.created_tables) for info in infos):
            self._attempt.lock_timeout_ms = policy.lock_timeout_ms
        raw_cursor = context["cursor"].cursor
        override = policy != self._in_effect
        if override:
            self._set_timeouts(raw_cursor, policy, local=in_transaction)
        started = time.perf_counter()
        offset_ms = self.log.elapsed_ms
        try:
            with self._watch(infos, policy):
                result = execute(sql, params, many, context)
        except Exception as error:
            self._record(sql, offset_ms, started, outcome_of(error), policy)
            # The next attempt escalates from the failed statement's own policy.
            self.failed_policy = base
            self._attempt.lock_timeout_ms = policy.lock_timeout_ms
            if override and not in_transaction:
                self._set_timeouts(raw_cursor, self._in_effect, local=False)
            raise
        self._record(sql, offset_ms, started, Outcome.OK, policy)
        if override:
            self._set_timeouts(raw_cursor, self._in_effect, local=in_transaction)
        for info in infos:
            self.run.created_tables.update(info.creates)
        return result

    def _record(
        self, sql: str, offset_ms: int, started: float, outcome: Outcome, policy: Policy
    ) -> None:
        self.log.add_statement(
            StatementRecord(
                attempt=self._attempt.number,
                sql=redact(sql),
                offset_ms=offset_ms,
                duration_ms=(time.perf_counter() - started) * 1000,
                outcome=outcome,
                lock_timeout_ms=policy.lock_timeout_ms,
                statement_timeout_ms=policy.statement_timeout_ms,
            )
        )

    def _watch(self, infos: tuple[StatementInfo, ...], policy: Policy) -> Any:
        """Poll for blockers while a statement that may wait for a lock runs."""
        if not any(info.may_wait_for_locks(self.run.created_tables) for info in infos):
            return nullcontext()
        interval_ms = policy.lock_timeout_ms / 3 if policy.lock_timeout_ms else 500
        poll_s = min(max(interval_ms, 20), 500) / 1000
        return self.run.sidecar.watching(self.run.pid, poll_s, self._on_blockers)

    def _on_blockers(self, cursor: Any, sessions: list[Session]) -> None:
        """Remember who blocks us; runs on the sidecar thread while the statement waits."""
        self._remember(sessions)
        terminate_idle(self.run, cursor, sessions)

    def _remember(self, sessions: list[Session]) -> None:
        for session in sessions:
            self.blockers[session.pid] = session

    # -- attempts and retries ------------------------------------------------------------

    def _retrying(self, fn: Callable[[], T], *, whole_migration: bool) -> T:
        """Call ``fn`` until it succeeds, retrying lock failures with backoff."""
        self.unit_retries = self.lock_steps = 0
        while True:
            try:
                result = fn()
            except Exception as error:
                outcome = outcome_of(error)
                if not is_retryable(outcome):
                    self._close_attempt(outcome, error)
                    raise
                self._before_retry(outcome, error, whole_migration)
                continue
            self.unit_retries = self.lock_steps = 0
            return result

    def _before_retry(self, outcome: Outcome, error: Exception, whole_migration: bool) -> None:
        """Close the failed attempt, give up if the limits are spent, else wait and go again."""
        if isinstance(error, BlockedByLongTransaction):
            self._remember(error.blockers)
            attempt = self._attempt
            self._close_attempt(outcome, error)
            storm = self.preflight.wait_after_rollback(error, self.policy)
            if storm is not None:
                attempt.outcome, attempt.error = Outcome.STORM, storm.describe()
            self._attempt = self._new_attempt(self._attempt.number + 1)
            return
        self.unit_retries += 1
        policy = self.failed_policy or self.policy
        self._escalate(policy)
        delay_ms = self.run.backoff.delay_ms(self.unit_retries)
        spent_ms = self.log.elapsed_ms
        if self.unit_retries > policy.retries or spent_ms + delay_ms > self.run.backoff.deadline_ms:
            self._close_attempt(outcome, error)
            raise RetriesExhausted(self._gave_up_message(outcome, policy)) from error
        self._close_attempt(outcome, error, backoff_ms=delay_ms)
        next_ms = self._for_attempt(policy).lock_timeout_ms
        self.run.reporter.retrying(self._attempt, outcome, next_ms)
        time.sleep(delay_ms / 1000)
        self._attempt = self._new_attempt(self._attempt.number + 1)
        self.failed_policy = None

    def _escalate(self, policy: Policy) -> None:
        """Let the next attempt wait longer, unless a long transaction blocked this one.

        A longer lock timeout helps only against transactions that end within it (a storm's);
        one older than the ceiling may last any time, and a longer wait would only stall
        traffic longer: short attempts get in as soon as it ends.
        """
        ceiling_s = policy.lock_timeout_ceiling_ms / 1000
        if not any((s.transaction_age_s or 0) > ceiling_s for s in self.blockers.values()):
            self.lock_steps += 1

    def _new_attempt(self, number: int) -> Attempt:
        self.blockers = {}
        lock_timeout_ms = self._for_attempt(self.policy).lock_timeout_ms
        return Attempt(
            number=number, started_at=now(), outcome=Outcome.OK, lock_timeout_ms=lock_timeout_ms
        )

    def _close_attempt(
        self, outcome: Outcome, error: BaseException | None = None, backoff_ms: int = 0
    ) -> None:
        attempt = self._attempt
        if attempt in self.log.attempts:
            return
        attempt.outcome = outcome
        attempt.error = redact(str(error)) if error else ""
        attempt.blockers = [session.as_dict() for session in self.blockers.values()]
        attempt.duration_ms = int((now() - attempt.started_at).total_seconds() * 1000)
        attempt.backoff_ms = backoff_ms
        self.log.attempts.append(attempt)

    def _gave_up_message(self, outcome: Outcome, policy: Policy) -> str:
        label = f"{self.migration.app_label}.{self.migration.name}"
        why = {
            Outcome.LOCK_TIMEOUT: f"could not get its locks within {self._waited()}",
            Outcome.DEADLOCK: "kept deadlocking with other sessions",
        }.get(outcome, str(outcome))
        blockers = "".join(f"\n    blocked by {s.describe()}" for s in self.blockers.values())
        storms = "".join(f"\n    {storm.describe()}" for storm in self.preflight.storms.values())
        return (
            f"Gave up on {label} after {self._attempt.number} attempts in "
            f"{self.log.elapsed_ms / 1000:.1f}s: it {why}.{storms}{blockers}\n"
            f"Nothing of this migration was kept. Fix: {self._fix(policy)}"
        )

    def _waited(self) -> str:
        """Name the lock timeouts the failed attempts waited: they grow with the retries."""
        waits = [
            a.lock_timeout_ms or 0 for a in self.log.attempts if a.outcome == Outcome.LOCK_TIMEOUT
        ]
        low, high = min(waits, default=0), max(waits, default=0)
        return f"lock_timeout {high}ms" if low == high else f"lock timeouts of {low}ms to {high}ms"

    def _fix(self, policy: Policy) -> str:
        if not self.preflight.storms:
            return (
                "end the blocking session (or wait for it) and run safemigrate again; if such "
                "waits are expected, raise --retries or SAFEMIGRATE['RETRIES'] rather than the "
                "lock timeout."
            )
        longest_ms = max(storm.longest_ms for storm in self.preflight.storms.values())
        return (
            "the table was in a lock storm: it is never free, and an attempt gets in only by "
            "outwaiting the transactions holding it, which outlasted the longest lock timeout "
            f"allowed ({policy.lock_timeout_ceiling_ms}ms). If a stall of about "
            f"{longest_ms / 1000:.1f}s on it is acceptable, raise SAFEMIGRATE['LOCK_TIMEOUT_MAX'] "
            "(or --lock-timeout-max) above that; otherwise run safemigrate when the traffic is "
            "lower, or make those transactions shorter."
        )

    def _pooler_message(self) -> str:
        label = f"{self.migration.app_label}.{self.migration.name}"
        return (
            f"{label} is not atomic, and database {self.connection.alias!r} goes through a "
            "transaction-mode connection pooler: the session settings safemigrate needs "
            "(lock_timeout, statement_timeout) would be lost between statements. Fix: run "
            "migrations over a direct connection (a DATABASES entry that bypasses the pooler, "
            "used with --database), or set SAFEMIGRATE['POOLER'] = 'session' if the pooler "
            "runs in session mode."
        )

    def finish(self, status: Status, error: BaseException | None = None) -> None:
        """Close the log of this migration."""
        if status != Status.SUCCEEDED:
            self._close_attempt(outcome_of(error) if error else Outcome.ERROR, error)
        self.log.finish(status, redact(str(error)) if error else "")
