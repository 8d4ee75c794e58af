"""``--backup``: a ``pg_dump`` of what a run is about to change, taken before it changes it.

Everything that can be checked without the run lock is checked first (the folder, a
usable pg_dump), so a run that cannot be backed up fails before it waits for anyone. The
dump itself runs under the run lock, just before the first migration: no other
safemigrate run can change the schema between the backup and the migrations. A backup
that fails stops the run with ``BackupFailed`` (exit code 5); nothing has been applied.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import DatabaseError
from django.db.backends.base.base import BaseDatabaseWrapper

from safemigrate.conf import conf
from safemigrate.exceptions import BackupFailed, ConfigurationError
from safemigrate.guard.records import now
from safemigrate.guard.run import GuardedRun
from safemigrate.models import Backup, BackupScope, Status
from safemigrate.postgres.dump import (
    PgTool,
    ToolError,
    Tools,
    client_environment,
    restore_command,
    run_tool,
    server_tools,
    table_pattern,
)
from safemigrate.postgres.sessions import terminate_named
from safemigrate.postgres.tables import (
    format_bytes,
    qualified_tables,
    referenced_from_outside,
)
from safemigrate.recovery import backup_wanted, files
from safemigrate.recovery.files import BackupFile

PG_DUMP_SETTING = "SAFEMIGRATE['PG_DUMP']"
#: The application name of the backup's pg_dump session, so a later run can find it.
APPLICATION_NAME = "safemigrate backup"


@dataclass(frozen=True)
class BackupPlan:
    """What a run will back up, where to, and with which binaries."""

    folder: Path
    scope: str
    tables: list[str]
    tools: Tools
    keep: int | None
    #: Why the plan differs from what was asked, told to the operator with the backup.
    note: str = ""


def plan_backup(
    connection: BaseDatabaseWrapper,
    options: Mapping[str, Any],
    tables: Callable[[], list[str]],
) -> BackupPlan | None:
    """Return what to back up if this run takes a backup, after checking it can be taken.

    ``tables`` is asked only for a table backup. Raise ``ConfigurationError`` for a missing
    folder setting and ``BackupFailed`` when no usable pg_dump is found.
    """
    if not backup_wanted(options):
        return None
    folder = conf.backup_dir
    if folder is None:
        raise ConfigurationError(
            "A backup needs a folder: set SAFEMIGRATE['BACKUP_DIR'] to an absolute path "
            "(see docs/backups.md), or run without --backup."
        )
    scope = options.get("backup_scope") or conf.backup_scope
    try:
        files.prepare_folder(folder)
    except OSError as error:
        raise BackupFailed(
            f"The backup folder {folder} cannot be used ({error}). Fix: create it writable "
            "by the user running safemigrate, or point SAFEMIGRATE['BACKUP_DIR'] elsewhere."
        ) from error
    names: list[str] = []
    note = ""
    if scope == BackupScope.TABLES:
        try:
            names = tables()
        except Exception as error:
            # Never back up less than asked: without the plan's tables, take them all.
            scope = BackupScope.DATABASE
            note = f"The plan's tables could not be read ({error}): backing up the database. "
    return BackupPlan(folder, scope, names, _tools(connection), conf.backup_keep, note)


def _tools(connection: BaseDatabaseWrapper) -> Tools:
    try:
        return server_tools(connection, configured=conf.pg_dump, setting=PG_DUMP_SETTING)
    except ToolError as error:
        raise BackupFailed(f"No backup could be taken, so nothing was applied: {error}") from error


def take_backup(run: GuardedRun, plan: BackupPlan) -> Backup | None:
    """Dump what the plan names into the folder, record it, and prune old backups.

    Return ``None`` when a table backup has nothing to hold (the plan only creates tables).
    """
    with run.connection.cursor() as cursor:
        found = qualified_tables(cursor, plan.tables) if plan.scope == BackupScope.TABLES else []
    if plan.scope == BackupScope.TABLES and not found:
        run.reporter.notice("No backup: the plan touches no table that exists yet.")
        return None
    params = run.connection.get_connection_params()
    database = str(params.get("dbname") or run.connection.alias)
    file = BackupFile.new(plan.folder, database, now())
    record = Backup(
        scope=plan.scope,
        tables=[f"{schema}.{table}" for schema, table in found],
        path=str(file.path),
        started_at=now(),
        pg_dump=plan.tools.pg_dump.describe(),
    )
    run.history.attach(record)
    _clear_leftovers(run, plan, database)
    what = f"{len(found)} table(s)" if found else "the whole database"
    run.reporter.notice(f"{plan.note}Backing up {what} with {plan.tools.pg_dump.describe()}...")
    clock = time.monotonic()
    try:
        record.size_bytes = _dump(run, plan, file, found, params)
    except BaseException as error:
        file.discard()
        failed = isinstance(error, Exception)
        _finish(run, record, clock, Status.FAILED if failed else Status.INTERRUPTED, str(error))
        if isinstance(error, BackupFailed | OSError):
            raise _failed(error) from error
        raise
    record.restore_command, how = _restore(run, plan, file, found, params)
    _finish(run, record, clock, Status.SUCCEEDED)
    run.reporter.notice(
        f"Backup written to {file.path} ({format_bytes(record.size_bytes)} in "
        f"{(record.duration_ms or 0) / 1000:.2f}s). {how}:\n  {record.restore_command}"
    )
    _prune(run, plan, database)
    return record


def _restore(
    run: GuardedRun,
    plan: BackupPlan,
    file: BackupFile,
    tables: list[tuple[str, str]],
    params: Mapping[str, Any],
) -> tuple[str, str]:
    """Return the command that restores the backup, and how to say it.

    In place when nothing outside the backup references its tables; otherwise into a new
    database, since PostgreSQL will not drop a table another table's foreign key points at.
    """
    with run.connection.cursor() as cursor:
        outside = referenced_from_outside(cursor, tables) if tables else []
    role = _role(run.connection)
    if not outside:
        return restore_command(plan.tools.pg_restore, params, file.path, role), "Restore it with"
    into = f"{files.slug(str(params.get('dbname') or 'db'))[:40]}_restored_{file.stamp}"
    how = (
        f"Tables outside it reference its tables ({', '.join(outside)}), so it cannot be "
        "restored in place; restore it into a new database and copy back what you need with"
    )
    return restore_command(plan.tools.pg_restore, params, file.path, role, into=into), how


def _dump(
    run: GuardedRun,
    plan: BackupPlan,
    file: BackupFile,
    tables: list[tuple[str, str]],
    params: Mapping[str, Any],
) -> int:
    """Write the archive to the partial file, read it back, and give it its final name."""
    env = client_environment(params, APPLICATION_NAME)
    args = ["--format=custom", *(f"--table={table_pattern(*t)}" for t in tables)]
    if conf.retry_deadline_ms:
        # pg_dump locks every table it dumps; it must not wait forever behind a long lock.
        args.append(f"--lock-wait-timeout={conf.retry_deadline_ms}")
    role = _role(run.connection)
    if role:
        args.append(f"--role={role}")
    fd = file.create()
    try:
        _check(plan.tools.pg_dump, run_tool(plan.tools.pg_dump, args, env, stdout=fd))
        size = file.seal(fd)
    finally:
        os.close(fd)
    # Read the archive back: a file pg_restore cannot list is no backup.
    listing = run_tool(plan.tools.pg_restore, ["--list", str(file.partial)], env)
    _check(plan.tools.pg_restore, listing)
    file.publish()
    return size


def _check(tool: PgTool, result: Any) -> None:
    if result.returncode != 0:
        message = result.stderr.decode(errors="replace").strip() or f"exit code {result.returncode}"
        raise BackupFailed(f"{tool.path.name} failed: {message}")


def _failed(error: BaseException) -> BackupFailed:
    return BackupFailed(
        f"The backup failed, so nothing was applied: {error}. Fix the cause and rerun; "
        "--no-backup runs without one."
    )


def _finish(run: GuardedRun, record: Backup, clock: float, status: Status, error: str = "") -> None:
    record.status = status
    record.error = error
    record.duration_ms = int((time.monotonic() - clock) * 1000)
    run.history.changed(wait=True)


def _clear_leftovers(run: GuardedRun, plan: BackupPlan, database: str) -> None:
    """Remove what a killed backup of this database left: its partial file and its pg_dump.

    The run lock is held, so no other backup of this database is being written: a partial
    file, or a session of a backup's pg_dump, belongs to a run that died.
    """
    for path in files.leftovers(plan.folder, database):
        path.unlink(missing_ok=True)
    try:
        stopped = run.sidecar.call(terminate_named, APPLICATION_NAME)
    except DatabaseError:
        return  # not allowed to end other sessions: they end with their own dump
    if stopped:
        run.reporter.notice(f"Stopped {stopped} pg_dump session(s) left by an interrupted run.")


def _prune(run: GuardedRun, plan: BackupPlan, database: str) -> None:
    removed = files.prune(plan.folder, database, plan.keep)
    if not removed:
        return
    run.reporter.notice(f"Removed {len(removed)} old backup(s), keeping {plan.keep}.")
    paths = [str(path) for path in removed]

    def mark() -> None:
        Backup.objects.using(run.connection.alias).filter(path__in=paths).update(removed_at=now())

    if run.history.sidecar is not None:
        # Before safemigrate's tables exist, nothing recorded these files.
        with contextlib.suppress(DatabaseError):
            run.sidecar.run(mark)


def _role(connection: BaseDatabaseWrapper) -> str | None:
    role = connection.settings_dict.get("OPTIONS", {}).get("assume_role")
    return str(role) if role else None
