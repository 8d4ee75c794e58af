"""Django's migration executor, with each migration run under safemigrate's guard.

The guard's timeouts are set for the session once per run; ``migrate()`` puts the session's
own values back when the plan is done, or has failed.

Each attempt closes what Django's schema editor leaves open when its deferred SQL fails (a
lock timeout on a new table's foreign key): the guard's retry must start from a clean slate.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations import Migration
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.graph import MigrationGraph
from django.db.migrations.state import ProjectState

from safemigrate.compat import closing_abandoned_atomics
from safemigrate.models import Direction

if TYPE_CHECKING:
    from safemigrate.guard.run import GuardedRun


Plan = list[tuple[Migration, bool]]


class PlanPolicy(Protocol):
    """What a run may do to ``migrate``'s plan, known to the guard only by this shape.

    ``safemigrate.deploy.policy`` provides it (deploy phases and the live-process gate);
    the guard does not import it.
    """

    def plan(
        self, plan: Plan, targets: Sequence[tuple[str, str | None]], graph: MigrationGraph
    ) -> Plan:
        """Return what to apply of the plan ``migrate`` worked out for ``targets``."""

    def before_apply(self, migration: Migration) -> None:
        """Return when ``migration`` may be applied, or raise why it may not."""


class GuardedExecutor(MigrationExecutor):
    """Apply and unapply migrations through ``GuardedRun.migrate_one``, as ``policy`` allows."""

    def __init__(
        self,
        connection: BaseDatabaseWrapper,
        progress_callback: Callable[..., Any] | None = None,
        *,
        run: GuardedRun,
        policy: PlanPolicy | None = None,
    ) -> None:
        super().__init__(connection, progress_callback)
        self.guarded_run = run
        self.policy = policy
        #: The migrations this run has applied so far; ``loader.applied_migrations`` keeps
        #: those applied before it.
        self.applied_in_run: set[tuple[str, str]] = set()

    def migration_plan(
        self,
        targets: Sequence[tuple[str, str | None]] | set[tuple[str, str]],
        clean_start: bool = False,
    ) -> Plan:
        """``migrate``'s plan, as the policy allows; the clean-start plan ``migrate()`` builds
        its project states from stays whole."""
        plan: Plan = super().migration_plan(targets, clean_start)
        if self.policy is None or clean_start:
            return plan
        return self.policy.plan(plan, list(targets), self.loader.graph)

    def migrate(
        self,
        targets: Sequence[tuple[str, str | None]] | None,
        plan: Sequence[tuple[Migration, bool]] | None = None,
        state: ProjectState | None = None,
        fake: bool = False,
        fake_initial: bool = False,
    ) -> ProjectState:
        """``migrate()``, then the session's own timeouts back, whether the plan failed or not:
        ``migrate``'s ``post_migrate`` handlers, and anything after, run under those."""
        session = self.guarded_run.session
        try:
            result: ProjectState = super().migrate(targets, plan, state, fake, fake_initial)
        except BaseException:
            session.restore(failed=True)
            raise
        session.restore()
        return result

    def apply_migration(
        self,
        state: ProjectState,
        migration: Migration,
        fake: bool = False,
        fake_initial: bool = False,
    ) -> ProjectState:
        if self.policy is not None and not fake:
            self.policy.before_apply(migration)
        apply = super().apply_migration
        states = self._attempt_states(state)

        def attempt() -> ProjectState:
            with closing_abandoned_atomics(self.connection):
                return apply(next(states), migration, fake, fake_initial)

        state = self.guarded_run.migrate_one(migration, Direction.FORWARDS, fake, attempt)
        self.applied_in_run.add((migration.app_label, migration.name))
        return state

    def unapply_migration(
        self, state: ProjectState, migration: Migration, fake: bool = False
    ) -> ProjectState:
        """Unapply ``migration``; every attempt starts from ``state``, which
        ``Migration.unapply()`` copies before it changes anything."""
        unapply = super().unapply_migration

        def attempt() -> ProjectState:
            with closing_abandoned_atomics(self.connection):
                return unapply(state, migration, fake)

        return self.guarded_run.migrate_one(migration, Direction.BACKWARDS, fake, attempt)

    def _attempt_states(self, state: ProjectState) -> Iterator[ProjectState]:
        """Each attempt's starting state: ``state`` for the first, rebuilt for each retry.

        ``Migration.apply()`` changes the state it is given as it goes, so an attempt that
        failed half-way leaves it with part of the migration in it. A retry is rare:
        rebuilding the state then costs less than copying it before every migration did.
        """
        yield state
        while True:
            yield self._state_so_far()

    def _state_so_far(self) -> ProjectState:
        """Build the state ``migrate`` would give the next migration of this run: every
        migration applied before the run or in it, in the order of the full plan, rendered."""
        applied = set(self.loader.applied_migrations) | self.applied_in_run
        state = ProjectState(real_apps=self.loader.unmigrated_apps)
        for planned, _ in self.migration_plan(self.loader.graph.leaf_nodes(), clean_start=True):
            if (planned.app_label, planned.name) in applied:
                planned.mutate_state(state, preserve=False)
        state.apps  # noqa: B018 -- renders the models, as migrate does before a migration
        return state
