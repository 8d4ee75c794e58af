"""The live-process gate: a post-deploy migration runs only once no live process needs it undone.

Before each post-deploy migration, the command reads the heartbeats younger than
``LIVE_PROCESS_WINDOW`` (by the database's clock, which every host shares) and asks, for
each process, whether its code ships that migration. Code that ships it no longer uses what
it drops. While some process does not (or cannot be told to), the command waits, up to
``LIVE_PROCESS_WAIT``, for those processes to stop (their heartbeats then age out of the
window), and refuses with exit code 4 naming them if they do not.

No heartbeat at all (a first install, or the gate off in the application) gates nothing:
the command says so, and the migration runs as ``migrate`` would run it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.db import router
from django.db.migrations import Migration
from django.db.models.functions import Now
from django.db.utils import DatabaseError

from safemigrate.deploy.shipped import CodeView, Shipped, code_graph
from safemigrate.exceptions import OldCodeRunning
from safemigrate.models import AppProcess

#: How often the gate looks again while it waits.
POLL_SECONDS = 2.0
#: Rows of processes gone for longer than this are deleted when the gate looks.
FORGET_AFTER = timedelta(days=7)


@dataclass(frozen=True)
class Stale:
    """A live process that does not ship the migration, or of which this code cannot tell."""

    process: AppProcess
    why: str

    def __str__(self) -> str:
        p = self.process
        started = p.started_at.strftime("%Y-%m-%d %H:%M:%S %Z")
        return f"{p.kind} process pid {p.pid} on {p.host} (started {started}): {self.why}"


class LiveGate:
    """Hold post-deploy migrations while live processes run code without them."""

    def __init__(
        self,
        window_ms: int,
        wait_ms: int,
        notice: Callable[[str], None],
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.window = timedelta(milliseconds=window_ms)
        self.wait_s = wait_ms / 1000
        self.notice = notice
        self.sleep = sleep
        self.view: CodeView | None = None
        self.alias = router.db_for_read(AppProcess)
        self.looked = False

    def wait_for(self, migration: Migration, why: str) -> None:
        """Return once no live process lacks ``migration``; raise ``OldCodeRunning`` if time
        runs out first."""
        key = (migration.app_label, migration.name)
        deadline = time.monotonic() + self.wait_s
        announced = False
        while stale := self.stale(key):
            left = deadline - time.monotonic()
            if left <= 0:
                raise OldCodeRunning(_refusal(migration, why, stale, self.window))
            if not announced:
                self.notice(_waiting(migration, stale, self.wait_s))
                announced = True
            self.sleep(min(POLL_SECONDS, left))

    def stale(self, key: tuple[str, str]) -> list[Stale]:
        """Return the live processes that do not ship ``key`` (or cannot be told to)."""
        live = self.live_processes()
        if live is None:
            return []
        view = self.view = self.view or CodeView(code_graph())
        found = []
        for process in live:
            shipped = Shipped(
                process.migrations_digest,
                tuple(process.leaf_migrations),
                process.migration_count,
            )
            nodes = view.nodes_of(shipped)
            if nodes is None:
                found.append(Stale(process, "runs migrations this code does not know"))
            elif key not in nodes:
                found.append(Stale(process, "runs code without this migration"))
        return found

    def live_processes(self) -> list[AppProcess] | None:
        """Return the processes seen within the window; ``None`` if nothing reports here."""
        rows = AppProcess.objects.using(self.alias)
        first, self.looked = not self.looked, True
        try:
            if first:
                rows.filter(seen_at__lt=Now() - FORGET_AFTER).delete()
            live = list(rows.filter(seen_at__gte=Now() - self.window))
        except DatabaseError:
            # No table yet (safemigrate's own migration is in this very plan): nobody reports.
            return None
        if not live and first:
            self.notice(
                "safemigrate: no application process has reported in the last "
                f"{_duration(self.window)}: post-deploy migrations run without the "
                "live-process check."
            )
        return live


def _waiting(migration: Migration, stale: list[Stale], wait_s: float) -> str:
    lines = "\n".join(f"  {item}" for item in stale)
    return (
        f"{migration.app_label}.{migration.name} is post-deploy: waiting up to "
        f"{_duration(timedelta(seconds=wait_s))} for these processes to stop:\n{lines}"
    )


def _refusal(migration: Migration, why: str, stale: list[Stale], window: timedelta) -> str:
    hosts = ", ".join(sorted({item.process.host for item in stale}))
    lines = "\n".join(f"  {item}" for item in stale)
    return (
        f"safemigrate refused {migration.app_label}.{migration.name}: it is post-deploy "
        f"({why}), and {len(stale)} process(es) seen in the last {_duration(window)} still "
        f"run code without it, on {hosts}:\n{lines}\n"
        "Finish the deploy (every process on the code that ships this migration), then run "
        "again; a stopped process is forgotten once its last heartbeat is older than "
        "LIVE_PROCESS_WINDOW. SAFEMIGRATE['LIVE_PROCESS_WAIT'] sets how long to wait for them."
    )


def _duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    return f"{seconds // 60} min" if seconds >= 120 and seconds % 60 == 0 else f"{seconds} s"
