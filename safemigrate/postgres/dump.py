"""pg_dump and pg_restore: find binaries that can work with this server, and run them safely.

pg_dump refuses a server of a newer major version than its own, and a machine often has
several: the distribution's, one beside the server's own binaries, one in a virtualenv.
``find_tools`` picks one pair in a fixed order: the one configured; else one of the server's
own major version, beside the server's binaries (``pg_config``'s BINDIR, when the server is
on this machine) or in the distributions' versioned folders; else the first on ``PATH``.
When it cannot use what it found, it says which binary that was and how to choose another.

``run_tool`` hands the connection to the binary through libpq's environment variables
(``PGHOST``, ``PGPASSWORD``, ...): never on the command line, where ``ps`` shows it to every
user of the machine, nor in a password file that a killed process would leave behind.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

#: Where distributions install each major version's client binaries.
VERSIONED_FOLDERS = (
    "/usr/lib/postgresql/{major}/bin",  # Debian, Ubuntu
    "/usr/pgsql-{major}/bin",  # PGDG packages for RHEL, Fedora
    "/opt/homebrew/opt/postgresql@{major}/bin",  # Homebrew on Apple silicon
    "/usr/local/opt/postgresql@{major}/bin",  # Homebrew on Intel
)

#: libpq's connection keywords and the environment variables that set them.
LIBPQ_ENVIRONMENT = {
    "host": "PGHOST",
    "hostaddr": "PGHOSTADDR",
    "port": "PGPORT",
    "dbname": "PGDATABASE",
    "user": "PGUSER",
    "password": "PGPASSWORD",
    "passfile": "PGPASSFILE",
    "service": "PGSERVICE",
    "options": "PGOPTIONS",
    "sslmode": "PGSSLMODE",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcrl": "PGSSLCRL",
    "sslcrldir": "PGSSLCRLDIR",
    "sslsni": "PGSSLSNI",
    "requirepeer": "PGREQUIREPEER",
    "require_auth": "PGREQUIREAUTH",
    "channel_binding": "PGCHANNELBINDING",
    "gssencmode": "PGGSSENCMODE",
    "krbsrvname": "PGKRBSRVNAME",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "client_encoding": "PGCLIENTENCODING",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
    "load_balance_hosts": "PGLOADBALANCEHOSTS",
    "ssl_min_protocol_version": "PGSSLMINPROTOCOLVERSION",
    "ssl_max_protocol_version": "PGSSLMAXPROTOCOLVERSION",
}

_VERSION = re.compile(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?")


class ToolError(Exception):
    """A pg_dump or pg_restore that is missing or cannot be used; the message says the fix."""


@dataclass(frozen=True)
class PgTool:
    """One PostgreSQL client binary and the version it reports."""

    path: Path
    version: str

    @property
    def major(self) -> int:
        return int(self.version.split(".")[0])

    def describe(self) -> str:
        return f"{self.path} (PostgreSQL {self.version})"


@dataclass(frozen=True)
class Tools:
    """A pg_dump and the pg_restore beside it, which reads what that pg_dump writes."""

    pg_dump: PgTool
    pg_restore: PgTool


def server_major(connection: Any) -> int:
    """Return the server's major version (16 for 16.2) from Django's connection."""
    return int(connection.pg_version) // 10000


def server_bindir(cursor: Any) -> str | None:
    """Return the server's binary folder from ``pg_config``, if this role may read it.

    Only superusers may by default; a server on another machine names a folder that is not
    here, which the lookup then skips.
    """
    cursor.execute("SELECT has_table_privilege('pg_catalog.pg_config', 'SELECT')")
    if not cursor.fetchone()[0]:
        return None
    cursor.execute("SELECT setting FROM pg_catalog.pg_config WHERE name = 'BINDIR'")
    row = cursor.fetchone()
    return str(row[0]) if row else None


def server_tools(connection: Any, *, configured: Path | None, setting: str) -> Tools:
    """Return the pg_dump and pg_restore for the server behind Django's ``connection``."""
    connection.ensure_connection()
    with connection.cursor() as cursor:
        bindir = server_bindir(cursor)
    return find_tools(
        server_major(connection), configured=configured, bindir=bindir, setting=setting
    )


def probe(path: Path) -> PgTool:
    """Run ``path --version`` and return the binary with its version."""
    try:
        result = subprocess.run(
            [str(path), "--version"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError) as error:
        raise ToolError(f"{path} could not be run: {error}.") from error
    match = _VERSION.search(result.stdout)
    if result.returncode != 0 or match is None:
        raise ToolError(
            f"{path} --version did not report a PostgreSQL version "
            f"({(result.stdout + result.stderr).strip() or 'no output'})."
        )
    return PgTool(path, ".".join(part for part in match.groups() if part is not None))


def find_tools(major: int, *, configured: Path | None, bindir: str | None, setting: str) -> Tools:
    """Return the pg_dump to use against a server of version ``major``, and its pg_restore.

    ``setting`` names where users configure pg_dump's path, for the error messages.
    """
    fix = (
        f"install the PostgreSQL {major} client tools (Debian: apt-get install "
        f"postgresql-client-{major}), or set {setting} to the path of a pg_dump {major} "
        "or newer"
    )
    if configured is not None:
        if not _is_executable(configured):
            raise ToolError(f"{setting} is {str(configured)!r}, which is not an executable file.")
        pg_dump = probe(configured)
    else:
        pg_dump = _matching(major, bindir) or _on_path(major, fix)
    if pg_dump.major < major:
        raise ToolError(
            f"Found pg_dump {pg_dump.describe()}, older than the server (PostgreSQL {major}): "
            f"pg_dump cannot dump a server of a newer major version. Fix: {fix}."
        )
    return Tools(pg_dump, _beside(pg_dump))


def _matching(major: int, bindir: str | None) -> PgTool | None:
    """Return a pg_dump of exactly the server's major version from the known folders."""
    folders = [bindir] if bindir else []
    folders += [folder.format(major=major) for folder in VERSIONED_FOLDERS]
    for folder in folders:
        path = Path(folder) / "pg_dump"
        if not _is_executable(path):
            continue
        try:
            tool = probe(path)
        except ToolError:
            continue
        if tool.major == major:
            return tool
    return None


def _on_path(major: int, fix: str) -> PgTool:
    found = shutil.which("pg_dump")
    if found is None:
        raise ToolError(
            f"pg_dump was not found: not beside the server's binaries, not in "
            f"{', '.join(f.format(major=major) for f in VERSIONED_FOLDERS)}, and not on PATH. "
            f"Fix: {fix}."
        )
    return probe(Path(found))


def _beside(pg_dump: PgTool) -> PgTool:
    """Return the pg_restore in pg_dump's folder: only it surely reads that pg_dump's files."""
    path = pg_dump.path.with_name("pg_restore")
    if not _is_executable(path):
        raise ToolError(
            f"There is no pg_restore beside {pg_dump.describe()}; a backup that nothing here "
            "can read is no backup. Fix: install the client tools of that version completely."
        )
    pg_restore = probe(path)
    if pg_restore.major != pg_dump.major:
        raise ToolError(
            f"{pg_restore.describe()} does not match {pg_dump.describe()}: reinstall the "
            "client tools of one version."
        )
    return pg_restore


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def client_environment(
    params: Mapping[str, Any], application_name: str | None = None
) -> dict[str, str]:
    """Return this process's environment with the connection set as libpq reads it.

    ``params`` are Django's ``connection.get_connection_params()``; keys libpq does not know
    (psycopg's own, such as ``context``) are left out.
    """
    env = dict(os.environ)
    for keyword, variable in LIBPQ_ENVIRONMENT.items():
        value = params.get(keyword)
        if value is not None and value != "":
            env[variable] = str(value)
    if application_name is not None:
        env["PGAPPNAME"] = application_name
    return env


def run_tool(
    tool: PgTool,
    args: Sequence[str],
    env: Mapping[str, str],
    stdout: int | IO[Any] | None = subprocess.DEVNULL,
) -> subprocess.CompletedProcess[bytes]:
    """Run ``tool`` with ``args`` and the ``client_environment``; never prompt for a password.

    stderr is collected for the error message; the caller checks ``returncode``.
    """
    return subprocess.run(
        [str(tool.path), "--no-password", *args],
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=subprocess.PIPE,
        check=False,
    )


def table_pattern(schema: str, table: str) -> str:
    """Return pg_dump's ``--table`` pattern matching exactly ``schema.table``.

    Inside double quotes a pattern's ``*``, ``?`` and ``.`` are plain characters and case is
    kept; a double quote itself is written twice.
    """
    return ".".join('"' + part.replace('"', '""') + '"' for part in (schema, table))


#: The connection keywords a printed command names; never the password.
_COMMAND_FLAGS = (("host", "--host"), ("port", "--port"), ("user", "--username"))


def restore_command(
    tool: PgTool,
    params: Mapping[str, Any],
    archive: Path,
    role: str | None = None,
    into: str | None = None,
) -> str:
    """Return the shell command that restores the archive, without the password.

    In place, each table the archive holds is dropped and recreated with its rows, in one
    transaction: a restore that fails changes nothing. ``into`` names a new database to
    create and restore into instead, for when tables outside the archive depend on those in
    it; it gets the tables and their rows only (no indexes, constraints or triggers, whose
    foreign keys would point at tables the archive lacks), to copy data back from. libpq
    asks for the password, or reads ``PGPASSWORD`` or the password file, as for any other
    client.
    """
    connect = [f"{flag}={params[key]}" for key, flag in _COMMAND_FLAGS if params.get(key)]
    as_role = [f"--role={role}"] if role else []
    if into is not None:
        create = [str(tool.path.with_name("createdb")), *connect, into]
        tables_and_rows = ["--section=pre-data", "--section=data"]
        restore = [str(tool.path), *tables_and_rows, *connect, *as_role, f"--dbname={into}"]
        restore.append(str(archive))
        return f"{shlex.join(create)} && {shlex.join(restore)}"
    args = [str(tool.path), "--clean", "--if-exists", "--single-transaction", *connect, *as_role]
    if params.get("dbname"):
        args.append(f"--dbname={params['dbname']}")
    args.append(str(archive))
    return shlex.join(args)
