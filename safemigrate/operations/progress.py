"""Report an index build's progress from ``pg_stat_progress_create_index`` while it runs.

``CREATE INDEX CONCURRENTLY`` on a large table can take many minutes with no output; a
second connection reads the server's progress view every ``INDEX_PROGRESS_INTERVAL`` and
logs one line per reading on the ``safemigrate.backfill.progress`` logger (and calls any listener).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper

from safemigrate.conf import conf
from safemigrate.postgres import catalog
from safemigrate.postgres.sessions import backend_pid

logger = logging.getLogger("safemigrate.progress")

#: Callables given (index name, reading) for every reading; add yours to show progress elsewhere.
listeners: list[Callable[[str, catalog.IndexProgress], None]] = []


def _report(index: str, reading: catalog.IndexProgress) -> None:
    logger.info("Building index %s: %s", index, reading.describe())
    for listener in listeners:
        listener(index, reading)


class _Poller(threading.Thread):
    """Read the progress of ``pid``'s build until stopped, on a connection of its own."""

    def __init__(self, connection: BaseDatabaseWrapper, pid: int, index: str, every_s: float):
        super().__init__(name=f"safemigrate-progress-{index}", daemon=True)
        self.params = connection.get_connection_params()
        self.new_connection = connection.get_new_connection
        self.pid, self.index, self.every_s = pid, index, every_s
        self.stopped = threading.Event()

    def run(self) -> None:
        conn: Any = self.new_connection(self.params)
        try:
            conn.autocommit = True
            while not self.stopped.wait(self.every_s):
                with conn.cursor() as cursor:
                    reading = catalog.index_progress(cursor, self.pid)
                if reading is not None:
                    _report(self.index, reading)
        except Exception as error:  # progress is best effort: never fail the build over it
            logger.debug("Progress of %s unavailable: %s", self.index, error)
        finally:
            conn.close()


@contextmanager
def watching(connection: BaseDatabaseWrapper, index: str, collect_sql: bool) -> Iterator[None]:
    """Report the progress of the index build run inside this block."""
    every_ms = conf.index_progress_interval_ms
    if collect_sql or every_ms <= 0 or not (logger.isEnabledFor(logging.INFO) or listeners):
        yield
        return
    with connection.cursor() as cursor:
        pid = backend_pid(cursor)
    poller = _Poller(connection, pid, index, every_ms / 1000)
    poller.start()
    try:
        yield
    finally:
        poller.stopped.set()
        poller.join()
