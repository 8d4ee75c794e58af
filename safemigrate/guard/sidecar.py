"""A second connection, on a thread of its own, for watching and recording a migration.

Django's connections are per thread, so a dedicated thread gets its own connection to the
same database in autocommit. That connection sees the migration from outside: it can ask
``pg_blocking_pids()`` while the migration's statement waits for a lock, and it writes
the run history in its own transactions, so a migration that fails and rolls back still
leaves its record.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

from django.db import connections

from safemigrate.postgres.sessions import Session, blockers_of

T = TypeVar("T")


class Sidecar:
    """Run callables one at a time on a thread with its own connection to ``alias``."""

    def __init__(self, alias: str) -> None:
        self.alias = alias
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="safemigrate")

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(cursor, *args)`` on the side connection and return its result."""
        return self.submit(fn, *args).result()

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        """Queue ``fn(cursor, *args)``; the caller collects the result from the future."""
        return self._pool.submit(self._with_cursor, fn, args)

    def _with_cursor(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        with connections[self.alias].cursor() as cursor:
            return fn(cursor, *args)

    def run(self, fn: Callable[[], T]) -> T:
        """Run ``fn()`` on the side thread, where ORM calls use the side connection."""
        return self._pool.submit(fn).result()

    @contextmanager
    def watching(self, pid: int, poll_s: float, on_blockers: BlockerCallback) -> Iterator[None]:
        """Poll who blocks ``pid`` while the body runs; report each non-empty answer."""
        stop = threading.Event()
        future = self.submit(_poll_blockers, pid, poll_s, stop, on_blockers)
        try:
            yield
        finally:
            stop.set()
            future.result()

    def close(self) -> None:
        """Close the side connection and end the thread."""
        self._pool.submit(lambda: connections[self.alias].close()).result()
        self._pool.shutdown()


BlockerCallback = Callable[[Any, list[Session]], None]


def _poll_blockers(
    cursor: Any, pid: int, poll_s: float, stop: threading.Event, on_blockers: BlockerCallback
) -> None:
    # Wait one interval first: most statements get their lock at once and need no query.
    while not stop.wait(poll_s):
        blockers = blockers_of(cursor, pid)
        if blockers:
            on_blockers(cursor, blockers)
