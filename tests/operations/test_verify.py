"""``Verify`` and ``VerifyPython`` are shaped like Django's operations: they write themselves
into a migration and read back the same, change no state, show their query in ``sqlmigrate``
and refuse bad arguments with the fix."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.state import ProjectState

from safemigrate import operations as safe
from safemigrate.exceptions import ConfigurationError
from safemigrate.verify.evaluate import check_callable, check_query
from tests.operations.test_serialization import write


def every_item_named(apps: Any, schema_editor: Any) -> bool:
    """Every item has a name."""
    return True


def forgot_to_return(apps: Any, schema_editor: Any) -> None:
    pass


OPERATIONS = [
    safe.Verify("SELECT true"),
    safe.Verify(
        "SELECT count(*) FROM t WHERE a = %s",
        expect=0,
        params=[1],
        description="no a of 1",
        hints={"target_db": "default"},
    ),
    safe.VerifyPython(every_item_named),
    safe.VerifyPython(every_item_named, description="named"),
]


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.describe())
def test_deconstruct_round_trips_through_the_migration_writer(operation: Any) -> None:
    source = write(operation)
    namespace: dict[str, Any] = {}
    exec(source, namespace)
    reloaded = namespace["operation"]

    assert type(reloaded) is type(operation)
    assert write(reloaded) == source
    assert reloaded.deconstruct() == operation.deconstruct()


def test_defaults_are_left_out_of_the_migration() -> None:
    assert safe.Verify("SELECT true").deconstruct() == ("Verify", [], {"sql": "SELECT true"})
    name, args, kwargs = safe.VerifyPython(every_item_named).deconstruct()
    assert (name, args, kwargs) == ("VerifyPython", [], {"check": every_item_named})


def test_a_check_changes_no_state_and_is_reversible() -> None:
    state = ProjectState()
    for operation in OPERATIONS:
        operation.state_forwards("scenarioapp", state)
        assert operation.reversible
        assert operation.elidable
    assert state.models == {}


def test_labels_come_from_the_description_the_docstring_or_the_query() -> None:
    assert safe.Verify("SELECT  true\n").describe() == "Verify: SELECT true"
    assert safe.Verify("SELECT " + "x" * 200).describe().endswith("...")
    assert safe.VerifyPython(every_item_named).describe() == "Verify: Every item has a name"
    assert safe.VerifyPython(forgot_to_return).describe() == "Verify: forgot to return"
    assert safe.Verify("SELECT 1").migration_name_fragment == "verify"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: safe.Verify(""), "Verify needs a query returning one value"),
        (lambda: safe.Verify("SELECT 1", params="1"), "params must be a list"),
        (lambda: safe.Verify("SELECT 1", description=3), "description must be a string"),
        (lambda: safe.Verify("SELECT 1", hints=[1]), "hints must be a dict"),
        (lambda: safe.VerifyPython("nope"), "must be a function of (apps, schema_editor)"),
    ],
)
def test_bad_arguments_name_the_fix(make: Any, message: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        make()
    assert message in str(raised.value)


@pytest.mark.django_db(transaction=True)
def test_sqlmigrate_shows_the_query_and_not_the_function(scenario: Any) -> None:
    scenario("postconditions")
    out = StringIO()

    call_command("sqlmigrate", "scenarioapp", "0003", stdout=out)

    sql = out.getvalue()
    assert "SELECT count(*) FROM scenarioapp_product WHERE price_cents IS NULL" in sql
    assert "CANNOT BE WRITTEN AS SQL" in sql  # VerifyPython, as RunPython


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("sql", "error"),
    [
        ("SELECT 1, 2", "the query returned 2 columns"),
        ("SELECT 1 WHERE false", "the query returned no row"),
        ("SELECT * FROM generate_series(1, 3)", "the query returned more than one row"),
    ],
)
def test_a_query_that_is_not_one_value_fails_and_says_so(sql: str, error: str) -> None:
    result = check_query(connection, sql, None, 1, "one value")

    assert not result.passed
    assert result.explain().startswith(error)


@pytest.mark.django_db
def test_a_query_compares_its_value_with_the_expected_one() -> None:
    held = check_query(connection, "SELECT %s::int + 1", [1], 2, "sum")
    failed = check_query(connection, "SELECT 'x' || repeat('y', 300)", None, "x", "long")

    assert (held.passed, held.expected, held.actual) == (True, "2", "2")
    assert not failed.passed
    assert len(failed.actual) == 200
    assert failed.explain().startswith("expected 'x', got 'xyyy")


def test_a_function_that_returns_nothing_is_not_taken_as_holding() -> None:
    result = check_callable(forgot_to_return, None, None, "forgot")

    assert not result.passed
    assert "forgot_to_return returned None: return True when the condition holds" in result.error
