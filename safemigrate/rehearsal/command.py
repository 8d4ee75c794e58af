"""``safemigrate --rehearse``: the plan applied, rolled back and applied again on a copy.

The order of the steps is the point: copy, snapshot and replay the queries, apply, snapshot
and replay them again, roll back (the schema must be as before), apply again (the schema
must be as after the first apply), then drop the copy and store the timings. A failed step
is reported and the rest that still make sense run; the copy is dropped however it ends.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper

from safemigrate.analysis.lint import selection_from
from safemigrate.analysis.plan import build_plan
from safemigrate.conf import conf
from safemigrate.exceptions import RehearsalFailed
from safemigrate.postgres import scratch
from safemigrate.postgres.schema import Snapshot, differences, snapshot
from safemigrate.rehearsal import queries, timings
from safemigrate.rehearsal.copy import drop_orphans, scratch_copy
from safemigrate.rehearsal.phases import command_args, run_phase
from safemigrate.rehearsal.report import Rehearsal, render

Options = Mapping[str, Any]


def rehearse_command(connection: BaseDatabaseWrapper, options: Options) -> str:
    """Rehearse the plan and return the report (JSON with ``--json``).

    Raise ``RehearsalFailed`` carrying the report when a step failed.
    """
    rehearsal = rehearse(connection, options)
    text = _json(rehearsal) if options.get("json") else render(rehearsal)
    if not rehearsal.passed:
        step, problem = rehearsal.failures[0]
        raise RehearsalFailed(step, f"The rehearsal failed at {step}: {problem}", text)
    return text


def _json(rehearsal: Rehearsal) -> str:
    return json.dumps(rehearsal.as_dict(), indent=2, default=str) + "\n"


def rehearse(connection: BaseDatabaseWrapper, options: Options) -> Rehearsal:
    """Run the rehearsal and return what it found; the real database only gains timings."""
    params = connection.get_connection_params()
    rehearsal = Rehearsal(database=str(params["dbname"]))
    rehearsal.orphans_dropped = drop_orphans(connection)
    if not build_plan(connection, selection_from(options))[1]:
        rehearsal.notes.append("Nothing to apply: the plan is empty, so nothing was rehearsed.")
        return rehearsal
    rehearsal.queries = queries.chosen(params, rehearsal.database, rehearsal.notes)
    try:
        with scratch_copy(connection, _sample_rows(options)) as (copy, seconds):
            rehearsal.copy, rehearsal.method = copy.name, copy.method
            rehearsal.copy_seconds, rehearsal.sampled = seconds, copy.sampled
            _on_copy(rehearsal, connection.alias, params, options)
    except RehearsalFailed as error:
        rehearsal.fail(error.step, str(error))
    rehearsal.copy_dropped = bool(rehearsal.copy) and not _exists(params, rehearsal.copy)
    rehearsal.stored = timings.store(connection, rehearsal)
    return rehearsal


def _sample_rows(options: Options) -> int | None:
    given = options.get("rehearse_sample")
    return int(given) if given else conf.rehearsal_sample_rows


def _on_copy(rehearsal: Rehearsal, alias: str, params: Mapping[str, Any], options: Options) -> None:
    name = rehearsal.copy
    before = _snapshot(params, name)
    checks = rehearsal.queries
    if checks:
        queries.measure_all(params, name, checks, after=False)
    if not _phase(rehearsal, "apply", alias, command_args(options, rollback=False)):
        return
    applied = _snapshot(params, name)
    if checks:
        queries.measure_all(params, name, checks, after=True)
        for check in checks:
            if check.ruined:
                rehearsal.fail("queries", f"the plan ruins the query {check.query!r}")
    if not _phase(rehearsal, "rollback", alias, command_args(options, rollback=True)):
        return
    rehearsal.rollback_differences = differences(before, _snapshot(params, name))
    if rehearsal.rollback_differences:
        rehearsal.fail("rollback", "the schema after the rollback differs from the one before")
    if not _phase(rehearsal, "re-apply", alias, command_args(options, rollback=False)):
        return
    rehearsal.reapply_differences = differences(applied, _snapshot(params, name))
    if rehearsal.reapply_differences:
        rehearsal.fail("schema differs", "the re-apply left a schema the first apply did not")


def _phase(rehearsal: Rehearsal, name: str, alias: str, args: list[str]) -> bool:
    """Run one phase and record it; return whether the rehearsal can go on."""
    result = run_phase(name, alias, rehearsal.copy, args)
    rehearsal.phases.append(result)
    if result.ok:
        return True
    postconditions = result.failed_postconditions()
    if postconditions:
        rehearsal.fail("postcondition", "; ".join(postconditions))
    elif name == "rollback" and result.refused:
        rehearsal.fail("irreversible", f"the rollback cannot be rehearsed: {result.error}")
    else:
        rehearsal.fail(name, result.error or f"exit code {result.exit_code}")
    return False


def _snapshot(params: Mapping[str, Any], database: str) -> Snapshot:
    with scratch.connect(params, database) as copy, copy.cursor() as cursor:
        return snapshot(cursor)


def _exists(params: Mapping[str, Any], database: str) -> bool:
    with scratch.maintenance(params) as keeper:
        row = keeper.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone()
    return row is not None
