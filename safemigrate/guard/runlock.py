"""One safemigrate run per database at a time, with an advisory lock.

The lock is transaction-scoped and held by an open transaction on a dedicated connection:
it goes away with that transaction, so a killed deploy never leaves it behind, and it
still works through a transaction-mode pooler, which pins a server connection to an open
transaction. The transaction takes no snapshot between statements and writes nothing, so
it does not hold back vacuum.
"""

from __future__ import annotations

import os
import socket
import time
import zlib
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper

from safemigrate.exceptions import RunLockHeld

#: The advisory lock key: stable, and below 2**31 so ``pg_locks.objid`` shows it as is.
RUN_LOCK_KEY = zlib.crc32(b"safemigrate.run") & 0x7FFFFFFF
_POLL_S = 0.5


class RunLock:
    """Hold the run lock for the duration of a ``with`` block."""

    def __init__(self, connection: BaseDatabaseWrapper, wait_ms: int, on_wait: Any) -> None:
        self.connection = connection
        self.wait_ms = wait_ms
        self.on_wait = on_wait
        self._raw: Any = None

    @property
    def pid(self) -> int | None:
        """The server pid of the lock's connection (so blocker reports can leave it out)."""
        return None if self._raw is None else int(self._raw.info.backend_pid)

    def __enter__(self) -> RunLock:
        params = self.connection.get_connection_params()
        self._raw = self.connection.get_new_connection(params)
        self._raw.autocommit = False
        deadline = time.monotonic() + self.wait_ms / 1000
        announced = False
        while not self._try():
            holder = self._holder()
            if time.monotonic() >= deadline:
                self._close()
                raise RunLockHeld(
                    f"Another safemigrate run is migrating this database ({holder}). "
                    f"Waited {self.wait_ms / 1000:.0f}s. Fix: let it finish and run again, or "
                    "raise SAFEMIGRATE['RUN_LOCK_WAIT'] so deploys wait for each other."
                )
            if not announced:
                self.on_wait(holder)
                announced = True
            time.sleep(_POLL_S)
        return self

    def _try(self) -> bool:
        with self._raw.cursor() as cursor:
            label = f"safemigrate run lock ({socket.gethostname()} pid {os.getpid()})"
            cursor.execute(
                "SELECT set_config('application_name', %s, true), "
                "set_config('idle_in_transaction_session_timeout', '0', true), "
                "pg_try_advisory_xact_lock(%s)",
                [label[:63], RUN_LOCK_KEY],
            )
            got = bool(cursor.fetchone()[2])
        if not got:
            self._raw.rollback()
        return got

    def _holder(self) -> str:
        with self._raw.cursor() as cursor:
            cursor.execute(
                "SELECT a.pid, a.application_name, "
                "EXTRACT(EPOCH FROM clock_timestamp() - a.xact_start)::int "
                "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.objid = %s AND l.granted "
                # pg_locks shows every database's locks; advisory keys are per database.
                "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                [RUN_LOCK_KEY],
            )
            row = cursor.fetchone()
        self._raw.rollback()
        if row is None:
            return "holder unknown"
        pid, name, age = row
        return f"server pid {pid}, {name or 'no application_name'}, running for {age}s"

    def __exit__(self, *exc_info: object) -> None:
        self._close()

    def _close(self) -> None:
        if self._raw is not None and not self._raw.closed:
            self._raw.rollback()
            self._raw.close()
