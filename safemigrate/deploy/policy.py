"""What ``--phase`` and the live-process gate do to one run: the command's entry to ``deploy/``.

The guarded executor asks its policy twice: for the plan, once ``migrate`` has worked it out
(``--phase pre`` cuts it; a rollback is never touched), and before each migration it applies
(a post-deploy one waits for the live-process gate). ``--phase post`` and a run without
``--phase`` apply the whole plan; the gate holds each post-deploy migration until no live
process runs code without it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.db.migrations import Migration
from django.db.migrations.graph import MigrationGraph

from safemigrate.conf import conf
from safemigrate.declarations import Phase
from safemigrate.deploy.livegate import LiveGate
from safemigrate.deploy.phases import MigrationPhase, migration_phase
from safemigrate.deploy.split import Plan, held_notice, refuse_if_stuck, split_plan

PHASES = ("pre", "post")


class DeployPolicy:
    """Cut the plan for ``--phase pre``; hold post-deploy migrations behind the live gate."""

    def __init__(
        self,
        phase: str | None,
        notice: Callable[[str], None],
        gate: LiveGate | None,
        named: bool = False,
    ) -> None:
        self.phase = phase
        #: Whether the command named a target migration, which ``--phase pre`` must reach.
        self.named = named
        self.notice = notice
        self.gate = gate
        self.phases: dict[tuple[str, str], MigrationPhase] = {}

    def phase_of(self, migration: Migration) -> MigrationPhase:
        key = (migration.app_label, migration.name)
        if key not in self.phases:
            self.phases[key] = migration_phase(migration)
        return self.phases[key]

    def plan(
        self, plan: Plan, targets: Sequence[tuple[str, str | None]], graph: MigrationGraph
    ) -> Plan:
        """Return what this run applies of ``migrate``'s plan for ``targets``."""
        if self.phase != "pre" or not plan or any(backwards for _, backwards in plan):
            return plan
        split = split_plan(plan, graph, self.phase_of)
        app_label, name = targets[0]
        refuse_if_stuck(split, (app_label, name) if self.named and name else None)
        if split.held:
            self.notice(held_notice(split))
        return split.pre

    def before_apply(self, migration: Migration) -> None:
        """Wait until no live process runs code without a post-deploy migration.

        Without the gate, nothing to ask: the migration's phase is not worked out (its
        declarations and operations read), which cost every migration of a run.
        """
        if self.gate is None:
            return
        phase = self.phase_of(migration)
        if phase.phase == Phase.POST_DEPLOY:
            self.gate.wait_for(migration, phase.source)


def deploy_policy(options: Mapping[str, Any], notice: Callable[[str], None]) -> DeployPolicy:
    """Return the policy of a run with these options (reading every deploy setting now)."""
    gate = None
    if conf.live_process_gate:
        gate = LiveGate(conf.live_process_window_ms, conf.live_process_wait_ms, notice)
    named = options.get("migration_name") not in (None, "zero")
    return DeployPolicy(options.get("phase"), notice, gate, named)
