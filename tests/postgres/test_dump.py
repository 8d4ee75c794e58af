"""Finding a pg_dump that can dump the server, and running it without showing the password."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from django.db import connection
from psycopg import sql

from safemigrate.postgres.dump import (
    ToolError,
    client_environment,
    find_tools,
    restore_command,
    run_tool,
    server_bindir,
    server_major,
    table_pattern,
)
from tests.recovery.recovery_helpers import cursor_on, scratch_database, server_tools

pytestmark = pytest.mark.django_db(transaction=True)


def stand_in(folder: Path, version: str) -> Path:
    """A pg_dump that only says its version, like one of another PostgreSQL would."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "pg_dump"
    path.write_text(f"#!/bin/sh\necho 'pg_dump (PostgreSQL) {version}'\n")
    path.chmod(0o755)
    return path


def links_to_real_tools(folder: Path) -> Path:
    tools = server_tools()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pg_dump").symlink_to(tools.pg_dump.path)
    (folder / "pg_restore").symlink_to(tools.pg_restore.path)
    return folder


def test_the_servers_own_binaries_come_before_path(tmp_path, monkeypatch):
    with connection.cursor() as cursor:
        bindir = server_bindir(cursor)
    if bindir is None or not (Path(bindir) / "pg_dump").is_file():
        pytest.skip("this role may not read pg_config, or the server is on another machine")
    stand_in(tmp_path, "99.0")
    monkeypatch.setenv("PATH", str(tmp_path))

    tools = find_tools(server_major(connection), configured=None, bindir=bindir, setting="S")

    assert tools.pg_dump.path == Path(bindir) / "pg_dump"
    assert tools.pg_dump.major == server_major(connection)
    assert tools.pg_restore.path == Path(bindir) / "pg_restore"


def test_path_is_the_last_resort_and_an_old_one_is_named(tmp_path, monkeypatch):
    links_to_real_tools(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))
    version = server_tools().pg_dump.version

    with pytest.raises(ToolError) as too_old:
        find_tools(99, configured=None, bindir=None, setting="SAFEMIGRATE['PG_DUMP']")

    assert str(too_old.value).startswith(
        f"Found pg_dump {tmp_path / 'pg_dump'} (PostgreSQL {version}), older than the server "
        "(PostgreSQL 99)"
    )
    assert "postgresql-client-99" in str(too_old.value)
    assert "set SAFEMIGRATE['PG_DUMP'] to the path of a pg_dump 99 or newer" in str(too_old.value)


def test_no_pg_dump_anywhere(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))

    with pytest.raises(ToolError, match="pg_dump was not found: not beside the server's"):
        find_tools(99, configured=None, bindir=None, setting="S")


def test_a_configured_pg_dump_is_used_as_is_or_refused(tmp_path):
    with pytest.raises(ToolError, match=r"S is '/nowhere/pg_dump', which is not an executable"):
        find_tools(16, configured=Path("/nowhere/pg_dump"), bindir=None, setting="S")
    lonely = stand_in(tmp_path / "lonely", "17.1")
    with pytest.raises(ToolError, match=r"There is no pg_restore beside .*17\.1"):
        find_tools(16, configured=lonely, bindir=None, setting="S")
    mixed = stand_in(tmp_path / "mixed", "17.1")
    stand_in(tmp_path / "restore", "16.3").rename(mixed.with_name("pg_restore"))
    with pytest.raises(ToolError, match="does not match"):
        find_tools(16, configured=mixed, bindir=None, setting="S")
    real = links_to_real_tools(tmp_path / "real") / "pg_dump"
    assert (
        find_tools(server_major(connection), configured=real, bindir=None, setting="S").pg_dump.path
        == real
    )


def test_a_binary_that_is_not_pg_dump_is_refused(tmp_path):
    path = tmp_path / "pg_dump"
    path.write_text("#!/bin/sh\necho hello\n")
    path.chmod(0o755)
    with pytest.raises(ToolError, match="did not report a PostgreSQL version"):
        find_tools(16, configured=path, bindir=None, setting="S")


def test_the_connection_goes_through_the_environment_only():
    params = {
        "dbname": "shop",
        "user": "deploy",
        "password": "s3cret",
        "host": "db.internal",
        "port": 5433,
        "sslmode": "require",
        "context": object(),
        "prepare_threshold": None,
    }
    env = client_environment(params, "safemigrate backup")

    assert (
        env.items()
        >= {
            "PGDATABASE": "shop",
            "PGUSER": "deploy",
            "PGPASSWORD": "s3cret",
            "PGHOST": "db.internal",
            "PGPORT": "5433",
            "PGSSLMODE": "require",
            "PGAPPNAME": "safemigrate backup",
        }.items()
    )
    command = restore_command(server_tools().pg_restore, params, Path("/b/x.dump"), role="owner")
    assert "s3cret" not in command
    assert command.endswith(
        "--clean --if-exists --single-transaction --host=db.internal --port=5433 "
        "--username=deploy --role=owner --dbname=shop /b/x.dump"
    )


def test_a_table_pattern_matches_that_table_only(tmp_path):
    tools = server_tools()
    with scratch_database(f"{connection.settings_dict['NAME']}_patterns") as name:
        with cursor_on(name) as cursor:
            # Unquoted, the pattern Odd.Name* would match every one of them.
            for table in ("Odd.Name*", "OddXNames", "odd.name*", "Odd.Names"):
                cursor.execute(sql.SQL("CREATE TABLE {} (id int)").format(sql.Identifier(table)))
        env = client_environment({**connection.get_connection_params(), "dbname": name})
        archive = tmp_path / "one.dump"
        with archive.open("wb") as out:
            pattern = table_pattern("public", "Odd.Name*")
            dumped = run_tool(tools.pg_dump, ["--format=custom", f"--table={pattern}"], env, out)
        assert dumped.returncode == 0, dumped.stderr
        listing = subprocess.run(
            [tools.pg_restore.path, "--list", archive], capture_output=True, check=True
        ).stdout.decode()

    tables = [line for line in listing.splitlines() if " TABLE public " in line]
    assert len(tables) == 1
    assert "Odd.Name*" in tables[0]
