"""Tell whether the migration connection goes through a connection pooler.

A transaction-mode pooler (PgBouncer's ``pool_mode = transaction``) hands each transaction
to whichever server connection is free, so a session-level ``SET lock_timeout`` may apply
to someone else's session while our next statement runs without it. ``SET LOCAL`` inside a
transaction is safe. Non-atomic migrations need session settings, so safemigrate refuses
them behind such a pooler and says how to connect directly.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper


@dataclass(frozen=True)
class PoolerCheck:
    pooled: bool
    reason: str


def check_pooler(connection: BaseDatabaseWrapper, mode: str) -> PoolerCheck:
    """Decide from the setting, or (``auto``) by comparing both ends of the connection.

    The server reports the client address and port it sees; when it differs from our own
    end of the socket, something (a pooler, or a proxy) sits in between.
    """
    if mode in ("none", "session"):
        return PoolerCheck(False, f"SAFEMIGRATE['POOLER'] = {mode!r}")
    if mode == "transaction":
        return PoolerCheck(True, "SAFEMIGRATE['POOLER'] = 'transaction'")
    local = _local_end(connection)
    with connection.cursor() as cursor:
        cursor.execute("SELECT client_port FROM pg_stat_activity WHERE pid = pg_backend_pid()")
        server_seen_port = cursor.fetchone()[0]
    # Over a unix socket the server must see a unix-socket client too (port -1 or NULL).
    proxied = server_seen_port not in (None, -1) if local is None else server_seen_port != local
    if proxied:
        return PoolerCheck(
            True,
            f"the server sees client port {server_seen_port}, but this end of the "
            f"connection is port {local}: a pooler or proxy sits in between",
        )
    return PoolerCheck(False, "direct connection")


def _local_end(connection: BaseDatabaseWrapper) -> int | None:
    raw: Any = connection.connection
    sock = socket.socket(fileno=raw.pgconn.socket)
    try:
        name = sock.getsockname()
    finally:
        sock.detach()
    return int(name[1]) if isinstance(name, tuple) else None
