"""Pooler detection against a real PgBouncer in transaction mode."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection
from django.db.backends.postgresql.base import DatabaseWrapper

from safemigrate.guard.pooler import check_pooler

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run_as(host: str) -> str | None:
    """PgBouncer refuses to run as root: run it as whoever may reach the server's socket."""
    if os.geteuid() != 0:
        return None
    return pwd.getpwuid(os.stat(host).st_uid).pw_name if host.startswith("/") else "nobody"


@pytest.fixture
def pgbouncer() -> Iterator[DatabaseWrapper]:
    """Start PgBouncer (pool_mode = transaction) in front of the test database."""
    assert Path(PGBOUNCER).exists(), "install PgBouncer: apt-get install pgbouncer"
    params = connection.settings_dict
    host = params["HOST"] or "/var/run/postgresql"
    port = _free_port()
    folder = Path(tempfile.mkdtemp(prefix="safemigrate-pgbouncer-"))
    server_port = params["PORT"] or 5432
    (folder / "users.txt").write_text(f'"{params["USER"]}" ""\n')
    (folder / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"* = host={host} port={server_port}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {folder}/users.txt\npool_mode = transaction\n"
        f"logfile = {folder}/pgbouncer.log\n"
    )
    user = _run_as(host)
    if user:
        shutil.chown(folder, user)
        for path in folder.iterdir():
            shutil.chown(path, user)
    command = [PGBOUNCER, *(["-u", user] if user else []), str(folder / "pgbouncer.ini")]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wrapper = DatabaseWrapper({**params, "HOST": "127.0.0.1", "PORT": port}, alias="pooled")
    try:
        _wait_until_accepting(wrapper, process)
        yield wrapper
    finally:
        wrapper.close()
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


def _wait_until_accepting(wrapper: DatabaseWrapper, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 10
    while True:
        try:
            wrapper.ensure_connection()
            return
        except Exception:
            if process.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@pytest.mark.django_db
def test_direct_connection_is_not_pooled():
    connection.ensure_connection()
    assert not check_pooler(connection, "auto").pooled


@pytest.mark.django_db
def test_pgbouncer_is_detected(pgbouncer: DatabaseWrapper):
    result = check_pooler(pgbouncer, "auto")
    assert result.pooled
    assert "a pooler or proxy sits in between" in result.reason


@pytest.mark.django_db
def test_session_setting_overrides_detection(pgbouncer: DatabaseWrapper):
    assert not check_pooler(pgbouncer, "session").pooled
    assert check_pooler(connection, "transaction").pooled


@pytest.mark.django_db
def test_set_local_holds_through_the_pooler(pgbouncer: DatabaseWrapper):
    """Why safemigrate uses SET LOCAL in a transaction: it reaches the statements it guards."""
    with pgbouncer.cursor() as cursor:
        cursor.execute("BEGIN")
        cursor.execute("SELECT set_config('lock_timeout', '123ms', true)")
        cursor.execute("SHOW lock_timeout")
        assert cursor.fetchone()[0] == "123ms"
        cursor.execute("COMMIT")
