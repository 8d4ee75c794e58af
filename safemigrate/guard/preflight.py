"""The pre-flight: before a statement locks a table, look at who holds it, from the side connection.

Joining the lock queue behind a long transaction makes every query on the table wait behind
us; waiting outside the queue harms nobody. So a transaction older than the lock timeout that
holds a conflicting lock is waited for, outside the queue, up to ``PREFLIGHT_WAIT``. While it
waits the pre-flight watches the holders (``guard.storm``): when they keep ending and others
keep taking their place, it is a lock storm, the table will never be free, and it stops
waiting: the attempts that follow use a lock timeout that outlasts the storm's transactions.
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable
from typing import Any

from safemigrate.exceptions import BlockedByLongTransaction
from safemigrate.guard.scope import RunScope
from safemigrate.guard.storm import HolderWatch, Storm, long_among
from safemigrate.guard.timeouts import Policy
from safemigrate.postgres.locks import LockMode
from safemigrate.postgres.sessions import Session, long_transactions_on, terminate
from safemigrate.postgres.statements import RelationLock, StatementInfo
from safemigrate.postgres.tables import locked_table

POLL_S = 0.1

Finder = Callable[[], list[Session]]


def terminate_idle(run: RunScope, cursor: Any, sessions: list[Session]) -> None:
    """End the sessions idle in transaction for longer than the run allows, if it allows any."""
    limit_ms = run.terminate_idle_after_ms
    if limit_ms is None:
        return
    for session in sessions:
        idle_ms = (session.state_age_s or 0) * 1000
        stale = session.idle_in_transaction and idle_ms > limit_ms
        if stale and terminate(cursor, session.pid):
            run.reporter.terminated(session)


class Preflight:
    """The pre-flight of one migration: its waiting budget, and the storms it has seen."""

    def __init__(
        self, run: RunScope, budget_ms: int, remember: Callable[[list[Session]], None]
    ) -> None:
        self.run = run
        self.budget_ms = budget_ms
        #: Called with the blockers waited for, so that the attempt records them.
        self.remember = remember
        self.storms: dict[str, Storm] = {}
        self.rng = random.Random()

    def check(self, infos: tuple[StatementInfo, ...], policy: Policy, in_transaction: bool) -> None:
        """Look at every table the statement locks so that writes stop; wait or raise."""
        if self.budget_ms <= 0:
            return
        for info in infos:
            for lock in info.locks:
                if lock.mode.blocks_writes and lock.name not in self.run.created_tables:
                    self._check_table(lock, policy, in_transaction)

    def _check_table(self, lock: RelationLock, policy: Policy, in_transaction: bool) -> None:
        table = self.run.sidecar.call(locked_table, lock.regclass, lock.via_index)
        if table is None:
            return  # created later in this migration, or already gone
        find = self.finder(table, lock.mode, policy)
        blockers = find()
        if blockers and self.run.terminate_idle_after_ms is not None:
            self.run.sidecar.call(functools.partial(terminate_idle, self.run), blockers)
            blockers = find()
        storm = self.storms.get(table)
        if storm is not None and not long_among(blockers, storm, policy.lock_timeout_ceiling_ms):
            return  # a storm: no quiet moment will come, the attempt outwaits its holders
        if blockers and in_transaction:
            raise BlockedByLongTransaction(table, lock.mode, blockers)
        if blockers:
            self.wait(table, blockers, find, policy)

    def finder(self, table: str, mode: LockMode, policy: Policy) -> Finder:
        """Return a probe for transactions older than the lock timeout that hold ``table``."""
        return functools.partial(
            self.run.sidecar.call,
            long_transactions_on,
            table,
            mode,
            policy.lock_timeout_ms or 1000,
            self.run.own_pids,
        )

    def wait_after_rollback(self, error: BlockedByLongTransaction, policy: Policy) -> Storm | None:
        """Wait, holding nothing, for what stopped an atomic attempt; return a storm if seen."""
        find = self.finder(error.table, error.mode, policy)
        return self.wait(error.table, find(), find, policy)

    def wait(
        self, table: str, blockers: list[Session], find: Finder, policy: Policy
    ) -> Storm | None:
        """Wait outside any lock queue for the holders of ``table`` to end, unless it is a storm."""
        self.run.reporter.waiting(table, blockers)
        self.remember(blockers)
        watch = HolderWatch(table, policy.lock_timeout_ceiling_ms)
        watch.observe(blockers, 0)
        started = time.monotonic()
        deadline = started + self.budget_ms / 1000
        storm = None
        while blockers and storm is None and time.monotonic() < deadline:
            time.sleep(POLL_S)
            blockers = find()
            watch.observe(blockers, int((time.monotonic() - started) * 1000))
            storm = watch.storm()
        self.budget_ms = max(0, int((deadline - time.monotonic()) * 1000))
        if storm is not None:
            self.storms[table] = storm
            ceiling_ms = policy.lock_timeout_ceiling_ms
            first_ms = min(ceiling_ms, max(policy.lock_timeout_ms, self.outlast_ms()))
            self.run.reporter.storm(storm, first_ms, ceiling_ms)
            time.sleep(self._decorrelation_s(storm))
        return storm

    def _decorrelation_s(self, storm: Storm) -> float:
        """Return a random part of one storm transaction's length, to wait before going.

        A storm is noticed just after a transaction holding the table ended. Where sessions
        begin anew as soon as they commit (workers, pollers, a benchmark's storm), its
        replacement has just begun, and a lock request sent now would queue for all of it:
        the worst moment. After a random part of a transaction's length, the request arrives
        at a moment as good as any, as plain ``migrate``'s does.
        """
        return self.rng.uniform(0, storm.longest_ms / 1000)

    def outlast_ms(self) -> int:
        """How long an attempt should wait for its lock to outlast the storms seen, if any."""
        if not self.storms:
            return 0
        # The last age seen is short of a transaction's length by up to one poll.
        return max(storm.longest_ms for storm in self.storms.values()) + int(POLL_S * 2000)
