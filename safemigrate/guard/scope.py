"""What the guard of each migration shares with its run: one protocol, so parts need no cycle."""

from __future__ import annotations

from typing import Protocol

from django.db.backends.base.base import BaseDatabaseWrapper

from safemigrate.guard.output import Reporter
from safemigrate.guard.session import SessionTimeouts
from safemigrate.guard.sidecar import Sidecar
from safemigrate.guard.timeouts import Backoff, Overrides, PolicyResolver


class RunScope(Protocol):
    """What the guard of each migration shares with its run (``guard.run.GuardedRun``)."""

    connection: BaseDatabaseWrapper
    reporter: Reporter
    sidecar: Sidecar
    overrides: Overrides
    resolver: PolicyResolver
    backoff: Backoff
    preflight: bool
    preflight_wait_ms: int
    terminate_idle_after_ms: int | None
    #: Tables created earlier in the run: nobody else can be using them.
    created_tables: set[str]
    #: The migration connection's backend pid, and the run's own sessions (never blockers).
    pid: int
    own_pids: list[int]
    pooled: bool
    #: The timeouts the migration connection's session holds (never set behind a pooler).
    session: SessionTimeouts
