"""The embedded PostgreSQL of devdb.py: started once, reused by other processes, kept between them.

Each test here uses its own data folder, so they exercise the embedded server even when the suite
itself runs against DATABASE_URL.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import dj_database_url
import psycopg
import pytest
from django.db.utils import ConnectionHandler
from pytest_django import DjangoDbBlocker

import devdb


def postmaster_pid(data_dir: Path) -> int:
    return int((data_dir / "postmaster.pid").read_text().split()[0])


def url_from_other_process(data_dir: Path) -> str:
    code = "import pathlib, sys, devdb; print(devdb.embedded_url(pathlib.Path(sys.argv[1])))"
    done = subprocess.run(
        [sys.executable, "-c", code, str(data_dir)],
        cwd=devdb.ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout.strip()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("devdb") / "pgdata"
    yield folder
    devdb.stop(folder)


def test_database_url_prefers_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://someone@db.invalid:5433/shop")
    monkeypatch.setattr(devdb, "DATA_DIR", tmp_path / "unused")

    assert devdb.database_url() == "postgres://someone@db.invalid:5433/shop"
    assert not (tmp_path / "unused").exists()


def test_embedded_server_starts_and_django_connects(
    data_dir: Path, django_db_blocker: DjangoDbBlocker
) -> None:
    url = devdb.embedded_url(data_dir)

    settings = dj_database_url.parse(url)
    assert settings["HOST"] == str(data_dir.resolve())
    wrapper = ConnectionHandler({"default": settings})["default"]
    with django_db_blocker.unblock(), wrapper.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        assert cursor.fetchone()[0].startswith("18")
    wrapper.close()


def test_other_process_reuses_running_server(data_dir: Path) -> None:
    url = devdb.embedded_url(data_dir)
    pid = postmaster_pid(data_dir)

    assert url_from_other_process(data_dir) == url
    assert postmaster_pid(data_dir) == pid
    with psycopg.connect(url.replace("postgres://", "postgresql://")) as conn:  # outlived it
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_stopped_server_restarts_with_its_data(data_dir: Path) -> None:
    url = devdb.embedded_url(data_dir)
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS kept (id int)")
    old_pid = postmaster_pid(data_dir)

    assert devdb.stop(data_dir) is True
    assert not (data_dir / "postmaster.pid").exists()
    assert devdb.stop(data_dir) is False

    assert devdb.embedded_url(data_dir) == url
    assert postmaster_pid(data_dir) != old_pid
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT to_regclass('kept')::text").fetchone() == ("kept",)


def test_command_line_prints_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://someone@db.invalid/shop")
    done = subprocess.run(
        [sys.executable, "devdb.py"], cwd=devdb.ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout == "postgres://someone@db.invalid/shop\n"


def test_cluster_of_another_major_version_is_refused_with_the_fix(tmp_path: Path) -> None:
    # What a checkout from before PostgreSQL 18 left: pgserver's PostgreSQL 16 cluster.
    (tmp_path / "PG_VERSION").write_text("16\n")

    with pytest.raises(devdb.EmbeddedServerError) as refused:
        devdb.embedded_url(tmp_path)

    message = str(refused.value)
    assert "holds a PostgreSQL 16 cluster, but the embedded server is PostgreSQL 18" in message
    assert f"./dev db stop && rm -rf {tmp_path}" in message
    assert not (tmp_path / "postmaster.pid").exists()


def test_wheel_ships_pg_dump_of_the_same_version(data_dir: Path) -> None:
    url = devdb.embedded_url(data_dir)
    done = subprocess.run(
        [
            devdb.program("pg_dump"),
            "--schema-only",
            "--dbname",
            url.replace("postgres://", "postgresql://"),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert "-- Dumped by pg_dump version 18." in done.stdout


def test_stop_of_a_server_that_is_gone_says_what_to_do(tmp_path: Path) -> None:
    # A postmaster.pid whose server died with the machine: pg_ctl finds no process to stop.
    folder = tmp_path / "pgdata"
    folder.mkdir()
    (folder / "PG_VERSION").write_text("18\n")
    (folder / "postmaster.pid").write_text(f"{2**22 + 12345}\n{folder}\n")

    with pytest.raises(devdb.EmbeddedServerError) as refused:
        devdb.stop(folder)

    assert "pg_ctl could not stop the server" in str(refused.value)
    assert f"remove {folder / 'postmaster.pid'}" in str(refused.value)
