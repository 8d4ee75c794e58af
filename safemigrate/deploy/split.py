"""``--phase pre``: the plan up to the first post-deploy migration of each app, and no further.

A migration is held back when it is post-deploy, or when it depends (directly or through
others of the plan, across apps too) on one that is held back: it cannot run before what it
depends on. Holding back a post-deploy migration is the point of the phase; holding back a
pre-deploy one is a deploy that cannot work, since the new code needs it before it starts
and the old code breaks on what it waits for. That, and a named target that is held back,
is refused before anything runs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.db.migrations import Migration
from django.db.migrations.graph import MigrationGraph

from safemigrate.declarations import Phase
from safemigrate.deploy.phases import MigrationPhase
from safemigrate.exceptions import PhaseRefused

Key = tuple[str, str]
Plan = list[tuple[Migration, bool]]


@dataclass(frozen=True)
class Held:
    """A migration ``--phase pre`` leaves for ``--phase post``, and the one that holds it."""

    migration: Migration
    phase: MigrationPhase
    holder: Key

    @property
    def key(self) -> Key:
        return (self.migration.app_label, self.migration.name)

    def __str__(self) -> str:
        label = f"{self.migration.app_label}.{self.migration.name}"
        if self.holder == self.key:
            return f"{label} (post-deploy: {self.phase.source})"
        return f"{label} ({self.phase.phase.label}, after {self.holder[0]}.{self.holder[1]})"


@dataclass
class Split:
    """A forward plan cut in two: what ``--phase pre`` applies, and what it holds back."""

    pre: Plan = field(default_factory=list)
    held: list[Held] = field(default_factory=list)

    @property
    def blocked(self) -> list[Held]:
        """Pre-deploy migrations held back behind a post-deploy one."""
        return [item for item in self.held if item.phase.phase == Phase.PRE_DEPLOY]


def split_plan(
    plan: Sequence[tuple[Migration, bool]],
    graph: MigrationGraph,
    phase_of: Callable[[Migration], MigrationPhase],
) -> Split:
    """Cut a forward plan (in the order ``migrate`` runs it) at its post-deploy migrations."""
    split = Split()
    holders: dict[Key, Key] = {}
    for migration, backwards in plan:
        key = (migration.app_label, migration.name)
        phase = phase_of(migration)
        parents = (parent.key for parent in graph.node_map[key].parents)
        holder = (
            key
            if phase.phase == Phase.POST_DEPLOY
            else next((holders[p] for p in parents if p in holders), None)
        )
        if holder is None:
            split.pre.append((migration, backwards))
        else:
            holders[key] = holder
            split.held.append(Held(migration, phase, holder))
    return split


def refuse_if_stuck(split: Split, named: Key | None) -> None:
    """Raise ``PhaseRefused`` if the pre phase cannot deliver what was asked of it."""
    stuck = [(item, "the new code needs it before it starts") for item in split.blocked] + [
        (item, "named as the target") for item in split.held if item.key == named
    ]
    if not stuck:
        return
    first = min(item.holder for item, _ in stuck)
    lines = "\n".join(f"  {item}: {why}" for item, why in stuck)
    raise PhaseRefused(
        "safemigrate --phase pre refused: the pre phase applies only what is safe while the "
        f"old code still runs, and these wait for a post-deploy migration:\n{lines}\n"
        "Deploy first the code the post-deploy migration waits for: once no process runs "
        f"code without {first[0]}.{first[1]}, run manage.py safemigrate --phase post "
        f"{first[0]} {first[1]}, then --phase pre again. Or order the migrations so that no "
        "pre-deploy migration depends on a post-deploy one (move the removal to a later "
        "release)."
    )


def held_notice(split: Split) -> str:
    """Tell what ``--phase pre`` leaves for ``--phase post``."""
    lines = "\n".join(f"  {item}" for item in split.held)
    return (
        "Held for manage.py safemigrate --phase post (run it once no process runs the old "
        f"code):\n{lines}"
    )
