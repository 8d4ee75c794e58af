"""Real apps' migration histories: safemigrate does what migrate does, forwards and back.

The apps (``tests/realapps/settings.py``) are installed from PyPI as development
dependencies. Together their histories hold AlterUniqueTogether (changed twice in
post_office, which a rollback to zero must undo in order), AlterIndexTogether and a squashed
migration with ``replaces`` (filer), an unnamed RenameIndex (taggit), RunPython with a
reverse (post_office, filer) and without one (constance, whose rollback must stop where
migrate's does), and dependencies across apps (contenttypes, auth, easy_thumbnails).
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from django.db import connection

from tests.realapps.probe import run_json

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def databases() -> Iterator[tuple[str, str]]:
    base = connection.settings_dict["NAME"]
    names = (f"{base}_real_safe", f"{base}_real_plain")
    params = {**connection.get_connection_params(), "autocommit": True}
    with psycopg.connect(**params) as admin:
        for name in names:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
    yield names
    with psycopg.connect(**params) as admin:
        for name in names:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def histories(databases: tuple[str, str]) -> list[dict]:
    safe, plain = databases
    return run_json(
        "tests.realapps.compare",
        "tests.realapps.settings",
        REAL_SAFE_DATABASE=safe,
        REAL_PLAIN_DATABASE=plain,
    )


def test_real_histories_forwards_and_back_as_migrate_does(histories):
    assert len(histories) == 12
    for step in histories:
        assert step["sql_errors"] == [], step["step"]
        safe, plain = step["safemigrate"], step["migrate"]
        assert bool(safe["error"]) == bool(plain["error"]), (
            step["step"],
            safe["error"],
            plain["error"],
        )
        assert safe["migrations"] == plain["migrations"], step["step"]
        assert safe["schema"] == plain["schema"], step["step"]
    failed = {
        step["step"]: step["migrate"]["error"] for step in histories if step["migrate"]["error"]
    }
    assert list(failed) == ["constance zero"], "only constance's irreversible RunPython stops"
    assert "IrreversibleError" in failed["constance zero"]
    applied = {app for app, _ in histories[-1]["migrate"]["migrations"]}
    assert "post_office" not in applied, "post_office rolled back to zero past its unique_together"
    assert "constance" in applied
