"""The scratch copy a rehearsal works on: made the fastest way the source allows, always dropped.

``CREATE DATABASE ... TEMPLATE`` copies the files and is the fastest, but PostgreSQL refuses
it while another session is connected to the source; then ``pg_dump | pg_restore`` copies
it, with the tables above ``REHEARSAL_SAMPLE_ROWS`` sampled when that is set. Copies that
killed rehearsals left are dropped first (``postgres/scratch.py`` says how they are told
apart from everything else).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from typing import Any

import psycopg
from django.db.backends.base.base import BaseDatabaseWrapper
from psycopg import errors

from safemigrate.conf import conf
from safemigrate.exceptions import RehearsalFailed
from safemigrate.postgres import scratch
from safemigrate.postgres.dump import ToolError, Tools, server_tools


@contextmanager
def scratch_copy(
    connection: BaseDatabaseWrapper, sample_rows: int | None
) -> Iterator[tuple[scratch.Copy, float]]:
    """Copy the connection's database; yield the copy and the seconds the copy took.

    Django's connection is closed first (it would keep the source busy) and reopens by
    itself when used again. The copy is dropped when the block ends, however it ends.
    """
    params = connection.get_connection_params()
    source = str(params["dbname"])
    tools = _tools(connection) if sample_rows else None
    connection.close()
    started = time.perf_counter()
    with ExitStack() as stack:
        try:
            copy, keeper = stack.enter_context(scratch.held_copy(params, source))
            if sample_rows or not scratch.create_from_template(keeper, copy):
                scratch.create_empty(keeper, copy)
                _dump_and_restore(connection, params, copy, sample_rows, tools)
        except (scratch.ScratchError, psycopg.Error) as error:
            raise _copy_failed(error) from error
        yield copy, time.perf_counter() - started


def _copy_failed(error: Exception) -> RehearsalFailed:
    fix = ""
    if isinstance(error, errors.InsufficientPrivilege):
        fix = (
            " A rehearsal creates a database: grant the role CREATEDB (ALTER ROLE ... "
            "CREATEDB), or rehearse as one that has it."
        )
    return RehearsalFailed("copy", f"The database could not be copied: {error}.{fix}")


def _dump_and_restore(
    connection: BaseDatabaseWrapper,
    params: Mapping[str, Any],
    copy: scratch.Copy,
    sample_rows: int | None,
    tools: Tools | None,
) -> None:
    tools = tools or _tools(connection)
    with scratch.connect(params, copy.source) as source:
        sampled = scratch.sample_candidates(source, sample_rows) if sample_rows else []
        scratch.dump_and_restore(tools, params, copy, [(s, t) for s, t, _ in sampled])
        with scratch.connect(params, copy.name) as target:
            for schema, table, estimate in sampled:
                assert sample_rows is not None
                rows = scratch.copy_sample(source, target, (schema, table), sample_rows)
                copy.sampled[f"{schema}.{table}"] = (rows, estimate)
            # A restored database has no statistics: plans would be guesses.
            target.execute("ANALYZE")
    copy.method = "sampled dump" if sampled else "dump"


def _tools(connection: BaseDatabaseWrapper) -> Tools:
    try:
        return server_tools(connection, configured=conf.pg_dump, setting="SAFEMIGRATE['PG_DUMP']")
    except ToolError as error:
        raise RehearsalFailed(
            "copy",
            "Others are connected to the database, so it must be copied with pg_dump, and "
            f"none can be used: {error}",
        ) from error


def drop_orphans(connection: BaseDatabaseWrapper) -> list[str]:
    """Drop the copies of this database that killed rehearsals left; return their names."""
    params = connection.get_connection_params()
    return scratch.drop_orphans(params, str(params["dbname"]))
