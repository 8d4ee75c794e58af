"""The operations under the names the analysis rules suggest, and deleting a model in two steps."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.db.migrations.exceptions import IrreversibleError

from tests import catalog
from tests.conftest import run_safemigrate

pytestmark = pytest.mark.django_db(transaction=True)


def table_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
        return bool(cursor.fetchone()[0])


def label_nullable() -> bool:
    return bool(catalog.columns("scenarioapp_tag")["label"][1])


def test_forwards_backwards_forwards(scenario: Any) -> None:
    scenario("aliases")
    run_safemigrate("scenarioapp", "0001")
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO scenarioapp_tag (label) VALUES ('a'), ('b')")

    run_safemigrate("scenarioapp", "0002")
    assert not label_nullable()
    assert table_exists("scenarioapp_old")  # the old code may still query it

    run_safemigrate("scenarioapp", "0001")
    assert label_nullable()
    assert table_exists("scenarioapp_old")

    run_safemigrate("scenarioapp", "0003")
    assert not table_exists("scenarioapp_old")
    assert label_nullable()  # kept, nullable, for the code that no longer writes it

    with pytest.raises(IrreversibleError, match="DeleteModelFromDatabase"):
        run_safemigrate("scenarioapp", "0002")


def test_a_many_to_many_field_is_its_own_new_table(scenario: Any) -> None:
    scenario("aliases")
    run_safemigrate("scenarioapp", "0004")
    assert table_exists("scenarioapp_tag_related")

    run_safemigrate("scenarioapp", "0003")
    assert not table_exists("scenarioapp_tag_related")
