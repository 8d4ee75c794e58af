"""Give the example project and the tests a PostgreSQL without asking anyone to install one.

``DATABASE_URL`` always wins, so CI and developers can point at any server. Without it, the
PostgreSQL 16 shipped inside the ``pgserver`` wheel runs from ``.devdb/`` at the repository root.
It is left running when the process exits, so ``./dev demo`` followed by ``./dev test`` reuses one
server instead of paying for a start-up each time; ``./dev db stop`` stops it.
"""

from __future__ import annotations

import importlib
import os
import sys
import warnings
from pathlib import Path
from types import ModuleType
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent
DATA_DIR = ROOT / ".devdb"


def database_url() -> str:
    """Return ``DATABASE_URL`` when set, else the URL of the embedded server, started if needed."""
    return os.environ.get("DATABASE_URL") or embedded_url(DATA_DIR)


def embedded_url(data_dir: Path, database: str = "postgres") -> str:
    """Start or reuse the embedded server whose data lives in ``data_dir`` and return its URL.

    The server listens only on a unix socket, so two checkouts never fight over a TCP port. The
    socket folder goes in the host part, percent-encoded, which is the form ``dj_database_url``
    turns into Django's ``HOST`` (a ``?host=`` query would land in ``OPTIONS`` instead).
    """
    pgserver = _pgserver()
    server = pgserver.get_server(data_dir, cleanup_mode=None)
    if not (server.pgdata / "postmaster.pid").exists():
        # get_server() keeps one handle per folder and process, which can outlive its server.
        # PostgreSQL removes postmaster.pid on shutdown; its pid can linger as a zombie.
        with pgserver.PostgresServer._lock:
            server.ensure_postgres_running()
    socket_dir = server.get_postmaster_info().socket_dir
    if socket_dir is None:  # pgserver only uses TCP on Windows, which safemigrate does not target
        raise RuntimeError(f"the embedded PostgreSQL in {data_dir} did not open a unix socket")
    return f"postgres://postgres@{quote(str(socket_dir), safe='')}/{database}"


def stop(data_dir: Path = DATA_DIR) -> bool:
    """Stop the embedded server of ``data_dir`` if it runs; return whether it did."""
    if not (data_dir / "postmaster.pid").exists():
        return False
    pgserver = _pgserver()
    # As root, pgserver runs PostgreSQL as its own "pgserver" user (postgres refuses root).
    user = "pgserver" if os.name == "posix" and os.geteuid() == 0 else None
    pgserver.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data_dir, user=user)
    return True


def _pgserver() -> ModuleType:
    """Import ``pgserver``, which has no wheel for every Python, with a fix in the error."""
    try:
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (as in CI); pgserver then uses /tmp.
            warnings.simplefilter("ignore")
            # By name, so that mypy passes where pgserver cannot be installed.
            return importlib.import_module("pgserver")
    except ImportError as error:
        raise RuntimeError(
            "DATABASE_URL is not set and the embedded PostgreSQL (the pgserver package) is not "
            "installed; pgserver has wheels for CPython 3.10-3.12 only. Set DATABASE_URL to a "
            "PostgreSQL server, or use Python 3.12 (SAFEMIGRATE_PYTHON=3.12 ./dev ...)."
        ) from error


if __name__ == "__main__":
    if sys.argv[1:] == ["stop"]:
        print("stopped" if stop() else "not running")
    else:
        print(database_url())
