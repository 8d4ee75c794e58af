"""Sessions as PostgreSQL shows them: who blocks whom, long transactions, session settings.

Each function takes a DB-API cursor and runs one parametrised query; none of them writes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

from safemigrate.postgres.locks import LockMode

QUERY_PREVIEW_CHARS = 300

_SECRET = re.compile(r"(password\s+)('(?:[^']|'')*'|\S+)", re.IGNORECASE)


def redact(sql: str) -> str:
    """Hide password literals (``CREATE ROLE ... PASSWORD '...'``) before SQL is shown or stored."""
    return _SECRET.sub(r"\1'********'", sql)


@dataclass(frozen=True)
class Session:
    """Another session that blocks (or would block) a migration statement."""

    pid: int
    application_name: str
    user: str | None
    client: str | None
    state: str | None
    transaction_age_s: float | None
    state_age_s: float | None
    lock_modes: tuple[str, ...]
    relation: str | None
    query: str

    @property
    def idle_in_transaction(self) -> bool:
        """Whether it holds its locks while doing nothing: the usual forgotten transaction."""
        return (self.state or "").startswith("idle in transaction")

    def as_dict(self) -> dict[str, Any]:
        """Return the JSON-ready form stored in the history."""
        return asdict(self) | {"lock_modes": list(self.lock_modes)}

    def describe(self) -> str:
        """One line for the terminal: who, doing what, for how long."""
        age = f"{self.transaction_age_s:.1f}s" if self.transaction_age_s is not None else "?"
        modes = ", ".join(self.lock_modes) or "no lock"
        name = f" ({self.application_name})" if self.application_name else ""
        return (
            f"pid {self.pid}{name}, {self.state or 'unknown state'}, transaction open {age}, "
            f"holds {modes} on {self.relation or '?'}: {self.query[:80]!r}"
        )


_SESSION_COLUMNS = """
    a.pid, a.application_name, a.usename, a.client_addr::text, a.state,
    EXTRACT(EPOCH FROM clock_timestamp() - a.xact_start)::float8,
    EXTRACT(EPOCH FROM clock_timestamp() - a.state_change)::float8,
    left(a.query, %s)
"""


def _session(row: tuple[Any, ...], lock_modes: list[str] | None, relation: str | None) -> Session:
    pid, app, user, client, state, xact_age, state_age, query = row
    return Session(
        pid=pid,
        application_name=app or "",
        user=user,
        client=client,
        state=state,
        transaction_age_s=xact_age,
        state_age_s=state_age,
        lock_modes=tuple(lock_modes or ()),
        relation=relation,
        query=redact(query or ""),
    )


def backend_pid(cursor: Any) -> int:
    """Return the server process id of the cursor's connection."""
    cursor.execute("SELECT pg_backend_pid()")
    return int(cursor.fetchone()[0])


def blockers_of(cursor: Any, pid: int) -> list[Session]:
    """Return the sessions that block ``pid``'s waiting lock request, as the server sees it."""
    cursor.execute(
        f"""
        WITH waiting AS (
            SELECT relation FROM pg_locks WHERE pid = %s AND NOT granted LIMIT 1
        )
        SELECT {_SESSION_COLUMNS},
            ARRAY(
                SELECT l.mode FROM pg_locks l, waiting w
                WHERE l.pid = a.pid AND l.relation = w.relation ORDER BY l.mode
            ),
            (SELECT w.relation::regclass::text FROM waiting w)
        FROM pg_stat_activity a
        WHERE a.pid = ANY(pg_blocking_pids(%s))
        ORDER BY a.xact_start
        """,
        [pid, QUERY_PREVIEW_CHARS, pid],
    )
    return [_session(row[:8], row[8], row[9]) for row in cursor.fetchall()]


def long_transactions_on(
    cursor: Any, table: str, mode: LockMode, min_age_ms: int, exclude: list[int]
) -> list[Session]:
    """Return sessions whose transaction is older than ``min_age_ms`` and holds a lock on
    ``table`` that conflicts with ``mode``: a lock request in that mode would queue behind
    them, and every query on the table would queue behind the request.
    """
    conflicting = [other.pg_name for other in LockMode if mode.conflicts_with(other)]
    cursor.execute(
        f"""
        SELECT {_SESSION_COLUMNS},
            ARRAY(
                SELECT l.mode FROM pg_locks l
                WHERE l.pid = a.pid AND l.relation = to_regclass(%s) AND l.granted
                ORDER BY l.mode
            )
        FROM pg_stat_activity a
        WHERE a.pid <> ALL(%s)
          AND a.xact_start < clock_timestamp() - make_interval(secs => %s)
          AND EXISTS (
              SELECT 1 FROM pg_locks l
              WHERE l.pid = a.pid AND l.relation = to_regclass(%s) AND l.granted
                AND l.mode = ANY(%s)
          )
        ORDER BY a.xact_start
        """,
        [QUERY_PREVIEW_CHARS, table, exclude, min_age_ms / 1000, table, conflicting],
    )
    return [_session(row[:8], row[8], table) for row in cursor.fetchall()]


def terminate(cursor: Any, pid: int) -> bool:
    """End another session (and so its transaction); return whether the server did it."""
    cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    return bool(cursor.fetchone()[0])


def current_settings(cursor: Any, names: list[str]) -> dict[str, str]:
    """Return the current values of server settings, to restore them later."""
    cursor.execute("SELECT name, current_setting(name) FROM unnest(%s::text[]) AS name", [names])
    return dict(cursor.fetchall())


def set_settings(cursor: Any, values: dict[str, str], *, local: bool) -> None:
    """``SET [LOCAL] name = value`` for each, in one round trip, values as parameters."""
    calls = ", ".join(["set_config(%s, %s, %s)"] * len(values))
    cursor.execute(
        f"SELECT {calls}", [part for name, value in values.items() for part in (name, value, local)]
    )


@contextmanager
def session_settings(cursor: Any, values: dict[str, str]) -> Iterator[None]:
    """Set server settings for the session while the block runs; put the old values back.

    For autocommit work, where ``SET LOCAL`` would end with the statement.
    """
    saved = current_settings(cursor, list(values))
    set_settings(cursor, values, local=False)
    try:
        yield
    finally:
        set_settings(cursor, saved, local=False)


def replication_lag_s(cursor: Any) -> float:
    """Return the largest replay lag of the standbys streaming from this server (0 if none)."""
    cursor.execute(
        "SELECT COALESCE(max(EXTRACT(EPOCH FROM replay_lag)), 0)::float8 FROM pg_stat_replication"
    )
    return float(cursor.fetchone()[0])


def oldest_horizon_holder(cursor: Any, exclude: list[int]) -> tuple[int, float] | None:
    """Return (pid, age in seconds) of the oldest transaction that holds back vacuum.

    A transaction holds back vacuum's horizon while it has a snapshot (``backend_xmin``) or
    a transaction id (``backend_xid``): no row version it might still see can be removed,
    so every row a backfill rewrites stays in the table as a dead tuple until it ends.
    """
    cursor.execute(
        """
        SELECT pid, EXTRACT(EPOCH FROM clock_timestamp() - xact_start)::float8
        FROM pg_stat_activity
        WHERE pid <> ALL(%s) AND pid <> pg_backend_pid() AND xact_start IS NOT NULL
          AND (backend_xmin IS NOT NULL OR backend_xid IS NOT NULL)
          AND datname = current_database()
        ORDER BY xact_start
        LIMIT 1
        """,
        [exclude],
    )
    row = cursor.fetchone()
    return None if row is None else (int(row[0]), float(row[1]))


def terminate_named(cursor: Any, application_name: str) -> int:
    """End the other sessions of this database that carry ``application_name``; return how many.

    For sessions of work a killed process started and nobody waits for any more.
    """
    cursor.execute(
        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE application_name = %s AND datname = current_database() "
        "AND pid <> pg_backend_pid()",
        [application_name],
    )
    return int(cursor.fetchone()[0])
