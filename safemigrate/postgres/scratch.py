"""Scratch copies of a database: made, marked, held, found when orphaned, and dropped.

A copy is marked twice so that nothing but a copy safemigrate made is ever dropped: its
name starts with ``PREFIX`` and its comment (``COMMENT ON DATABASE``, kept in the cluster's
shared catalog) is exactly ``mark(source)``. While the rehearsal that made it runs, a
session-level advisory lock keyed by the copy's name is held on a connection to the
maintenance database; PostgreSQL releases it when that session ends, even when the process
is killed. A marked copy whose lock can be taken has no rehearsal left: it is an orphan.

The copy is made with ``CREATE DATABASE ... TEMPLATE``, a file-level copy, when no other
session is connected to the source (PostgreSQL refuses it otherwise, error 55006), and with
``pg_dump | pg_restore`` when one is. Every connection here is a psycopg connection of its
own: the caller's Django connection is never reused for another database.
"""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import errors, sql

from safemigrate.postgres.dump import Tools, client_environment, table_pattern

PREFIX = "sm_rehearsal_"
#: The advisory lock class of a held copy (the letters "SMRE"); the key is the copy's name.
LOCK_CLASS = 0x534D5245
#: Databases every cluster has, to connect to while the source must stay free.
MAINTENANCE_DATABASES = ("postgres", "template1")
APPLICATION_NAME = "safemigrate rehearsal"


def mark(source: str) -> str:
    """Return the comment that marks a copy of ``source`` as safemigrate's to drop."""
    return f"safemigrate rehearsal copy of {source}; dropped when its rehearsal ends"


def copy_name(source: str) -> str:
    """Return a fresh copy name: the prefix, the source's start, random hex (63 bytes at most)."""
    stem = source.encode()[:40].decode(errors="ignore")
    return f"{PREFIX}{stem}_{secrets.token_hex(4)}"


def connect(params: Mapping[str, Any], dbname: str) -> psycopg.Connection[Any]:
    """Open an autocommit connection with Django's connection ``params`` to ``dbname``."""
    keep = {key: value for key, value in params.items() if key not in ("context", "cursor_factory")}
    return psycopg.connect(
        **{**keep, "dbname": dbname, "application_name": APPLICATION_NAME}, autocommit=True
    )


def maintenance(params: Mapping[str, Any]) -> psycopg.Connection[Any]:
    """Connect to the first maintenance database that lets us in."""
    failure: Exception | None = None
    for name in MAINTENANCE_DATABASES:
        try:
            return connect(params, name)
        except psycopg.OperationalError as error:
            failure = error
    raise ScratchError(
        f"No maintenance database ({', '.join(MAINTENANCE_DATABASES)}) accepts this role: "
        f"{failure}. A rehearsal copies the database from one; grant CONNECT on 'postgres'."
    )


class ScratchError(Exception):
    """A copy that cannot be made; the message says why and the fix."""


@dataclass
class Copy:
    """A scratch copy held by this process: its name and how it was made."""

    name: str
    source: str
    method: str = ""
    #: Tables copied in part: ``schema.table`` -> (rows copied, the source's estimated rows).
    sampled: dict[str, tuple[int, int]] = field(default_factory=dict)


@contextmanager
def held_copy(params: Mapping[str, Any], source: str) -> Iterator[tuple[Copy, Any]]:
    """Hold a fresh copy's name for the block, then drop the copy, whatever happened.

    Yields the copy (not yet made) and the maintenance connection that holds its lock.
    """
    keeper = maintenance(params)
    copy = Copy(copy_name(source), source)
    try:
        keeper.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", [LOCK_CLASS, copy.name])
        yield copy, keeper
    finally:
        # A copy that cannot be dropped now is an orphan once the lock goes with the
        # connection: the next rehearsal, or --doctor, drops it; the report says so.
        with suppress(psycopg.Error):
            drop(keeper, copy.name)
        keeper.close()


def create_from_template(keeper: psycopg.Connection[Any], copy: Copy) -> bool:
    """Copy the source file by file; return False when other sessions are connected to it."""
    statement = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
        sql.Identifier(copy.name), sql.Identifier(copy.source)
    )
    try:
        keeper.execute(statement)
    except errors.ObjectInUse:
        return False
    _mark(keeper, copy)
    copy.method = "template"
    return True


def create_empty(keeper: psycopg.Connection[Any], copy: Copy) -> None:
    """Create an empty database with the source's encoding and locale, and mark it."""
    row = keeper.execute(
        "SELECT pg_encoding_to_char(encoding), datcollate, datctype FROM pg_database "
        "WHERE datname = %s",
        [copy.source],
    ).fetchone()
    if row is None:
        raise ScratchError(f"There is no database {copy.source!r} to copy.")
    keeper.execute(
        sql.SQL(
            "CREATE DATABASE {} TEMPLATE template0 ENCODING {} LC_COLLATE {} LC_CTYPE {}"
        ).format(sql.Identifier(copy.name), *(sql.Literal(value) for value in row))
    )
    _mark(keeper, copy)


def _mark(keeper: psycopg.Connection[Any], copy: Copy) -> None:
    keeper.execute(
        sql.SQL("COMMENT ON DATABASE {} IS {}").format(
            sql.Identifier(copy.name), sql.Literal(mark(copy.source))
        )
    )


def dump_and_restore(
    tools: Tools, params: Mapping[str, Any], copy: Copy, skip_data: list[tuple[str, str]]
) -> None:
    """Pipe ``pg_dump`` of the source into ``pg_restore`` on the copy.

    Owners and privileges are left out, so a role that may create databases but not other
    roles' objects can restore; ``skip_data`` names tables copied without their rows.
    """
    source_env = client_environment({**params, "dbname": copy.source}, APPLICATION_NAME)
    target_env = client_environment({**params, "dbname": copy.name}, APPLICATION_NAME)
    skip = [f"--exclude-table-data={table_pattern(*table)}" for table in skip_data]
    dump = subprocess.Popen(
        [str(tools.pg_dump.path), "--no-password", "--format=custom", *skip],
        env=source_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    restore = subprocess.run(
        [str(tools.pg_restore.path), "--no-password", "--no-owner", "--no-privileges",
         "--exit-on-error", f"--dbname={copy.name}"],
        env=target_env,
        stdin=dump.stdout,
        capture_output=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=False,
    )  # fmt: skip
    assert dump.stdout is not None
    assert dump.stderr is not None
    dump.stdout.close()
    dumped = dump.wait()
    if dumped != 0 or restore.returncode != 0:
        failed, stderr = (
            (tools.pg_dump, dump.stderr.read()) if dumped else (tools.pg_restore, restore.stderr)
        )
        message = stderr.decode(errors="replace").strip() or "no message"
        raise ScratchError(f"{failed.path.name} failed while copying {copy.source}: {message}")
    dump.stderr.close()
    copy.method = "dump"


def orphans(keeper: psycopg.Connection[Any], source: str) -> list[str]:
    """Return the copies of ``source`` whose rehearsal has ended without dropping them."""
    rows = keeper.execute(
        "SELECT d.datname FROM pg_database d "
        "JOIN pg_shdescription s ON s.objoid = d.oid "
        "AND s.classoid = 'pg_catalog.pg_database'::regclass "
        "WHERE starts_with(d.datname, %s) AND s.description = %s ORDER BY 1",
        [PREFIX, mark(source)],
    ).fetchall()
    return [name for (name,) in rows if _free(keeper, name)]


def _free(keeper: psycopg.Connection[Any], name: str) -> bool:
    """Whether no live rehearsal holds the copy (the lock is taken and let go at once)."""
    row = keeper.execute(
        "SELECT pg_try_advisory_lock(%s, hashtext(%s))", [LOCK_CLASS, name]
    ).fetchone()
    if not (row and row[0]):
        return False
    keeper.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", [LOCK_CLASS, name])
    return True


def drop(keeper: psycopg.Connection[Any], name: str) -> None:
    """Drop a copy, ending the sessions still on it (a killed rehearsal's child may be)."""
    keeper.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def drop_orphans(params: Mapping[str, Any], source: str) -> list[str]:
    """Drop the orphaned copies of ``source``; return their names."""
    with maintenance(params) as keeper:
        found = orphans(keeper, source)
        for name in found:
            drop(keeper, name)
    return found


def sample_candidates(source: psycopg.Connection[Any], rows: int) -> list[tuple[str, str, int]]:
    """Return the tables worth sampling: ``(schema, table, estimated rows)`` above ``rows``.

    A table another table's foreign key references is copied whole: a sample of it would
    leave the referencing rows without their parents, and the restore would fail.
    """
    found = source.execute(
        "SELECT n.nspname, c.relname, c.reltuples::bigint FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind = 'r' AND c.reltuples > %s "
        "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
        "AND NOT starts_with(n.nspname, 'pg_toast') "
        "AND NOT EXISTS (SELECT FROM pg_constraint f WHERE f.contype = 'f' "
        "AND f.confrelid = c.oid) ORDER BY 1, 2",
        [rows],
    ).fetchall()
    return [(schema, table, int(estimate)) for schema, table, estimate in found]


def copy_sample(
    source: psycopg.Connection[Any],
    target: psycopg.Connection[Any],
    table: tuple[str, str],
    rows: int,
) -> int:
    """Copy the first ``rows`` rows of ``table`` (stored columns only); return how many."""
    columns = [
        name
        for (name,) in source.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
            "AND NOT attisdropped AND attgenerated = '' ORDER BY attnum",
            [table_pattern(*table)],
        ).fetchall()
    ]
    names = sql.SQL(", ").join(sql.Identifier(name) for name in columns)
    relation = sql.Identifier(*table)
    read = sql.SQL("COPY (SELECT {} FROM {} LIMIT {}) TO STDOUT (FORMAT BINARY)").format(
        names, relation, sql.Literal(rows)
    )
    write = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(relation, names)
    with source.cursor() as out, target.cursor() as into:
        with out.copy(read) as reader, into.copy(write) as writer:
            for chunk in reader:
                writer.write(chunk)
        counted = target.execute(sql.SQL("SELECT count(*) FROM {}").format(relation)).fetchone()
    return int(counted[0]) if counted else 0
