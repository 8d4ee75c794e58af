"""``--rollback``: exactly what one run applied, in reverse, or nothing and the reasons."""

from __future__ import annotations

import json

import pytest
from django.core.management.base import CommandError
from django.db import connection

from safemigrate.models import Backup, MigrationRun, Run, Status
from tests.conftest import Blocker, columns, run_safemigrate
from tests.recovery.recovery_helpers import (
    CUSTOMERS,
    ORDERS,
    applied,
    checksums,
    schema,
    seed,
)

pytestmark = pytest.mark.django_db(transaction=True)


def latest_run() -> Run:
    return Run.objects.latest("started_at")


def refused(**options: object) -> str:
    """Run a rollback that must be refused; return its message."""
    with pytest.raises(CommandError) as error:
        run_safemigrate(**options)
    assert error.value.returncode == 4, error.value
    return str(error.value)


def snapshot() -> tuple[object, ...]:
    """What a refused rollback must leave exactly as it was."""
    return (
        applied(),
        schema(CUSTOMERS, ORDERS),
        checksums(CUSTOMERS, ORDERS),
        Run.objects.count(),
    )


@pytest.fixture
def deployed(scenario):
    """Run 1 created the tables (then data came in); run 2 applied 0002-0004."""
    scenario("recovery")
    run_safemigrate("scenarioapp", "0001")
    seed()
    first = latest_run()
    before = schema(CUSTOMERS, ORDERS), checksums(CUSTOMERS)
    run_safemigrate("scenarioapp")
    return first, latest_run(), before


def test_rollback_unapplies_the_last_run_in_reverse_order(deployed):
    _, second, (shape, customers) = deployed

    output = run_safemigrate(rollback="last")

    assert f"Rolling back run {second.pk}" in output.out
    order = [
        line.split("...")[0].strip() for line in output.out.splitlines() if "Unapplying" in line
    ]
    assert order == [
        "Unapplying scenarioapp.0004_customer_vip",
        "Unapplying scenarioapp.0003_remove_order_note",
        "Unapplying scenarioapp.0002_customer_phone",
    ]
    assert applied() == ["0001_initial"]
    assert schema(CUSTOMERS, ORDERS) == shape
    assert checksums(CUSTOMERS) == customers
    rollback = latest_run()
    assert (rollback.status, rollback.exit_code, rollback.rollback_of) == (
        Status.SUCCEEDED,
        0,
        second,
    )
    records = rollback.migrations.order_by("started_at")
    assert [(m.name, m.direction) for m in records] == [
        ("0004_customer_vip", "backwards"),
        ("0003_remove_order_note", "backwards"),
        ("0002_customer_phone", "backwards"),
    ]
    assert list(second.rollbacks.all()) == [rollback]


def test_rollback_of_a_named_run_leaves_later_independent_migrations(scenario):
    scenario("merge")
    run_safemigrate("scenarioapp", "0001")
    run_safemigrate("scenarioapp", "0002_item_note")
    note = latest_run()
    run_safemigrate("scenarioapp", "0002_item_label")

    run_safemigrate(rollback=str(note.pk))

    assert applied() == ["0001_initial", "0002_item_label"]
    assert columns("scenarioapp_item") == {"id", "name", "quantity", "label"}


def test_a_later_migration_that_depends_on_the_run_refuses_the_rollback(scenario):
    scenario("recovery")
    for target in ("0001", "0002", "0003"):
        run_safemigrate("scenarioapp", target)
    second, third = Run.objects.order_by("started_at")[1:3]
    before = snapshot()

    message = refused(rollback=str(second.pk))

    assert snapshot() == before
    assert (
        "scenarioapp.0003_remove_order_note depends on scenarioapp.0002_customer_phone and is "
        f"still applied (applied by run {third.pk}: python manage.py safemigrate --rollback "
        f"{third.pk}): roll that back first." in message
    )
    run_safemigrate(rollback=str(third.pk))
    run_safemigrate(rollback=str(second.pk))
    assert applied() == ["0001_initial"]


def test_an_irreversible_run_is_refused_and_the_database_left_untouched(
    scenario, settings, tmp_path
):
    settings.SAFEMIGRATE = {"BACKUP_DIR": str(tmp_path)}
    scenario("irreversible")
    run_safemigrate("scenarioapp", "0001")
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO scenarioapp_item (name) VALUES ('Tea'), ('Cake')")
    run_safemigrate("scenarioapp", backup=True)
    run = latest_run()
    backup = Backup.objects.get(run=run)
    before = (
        applied(),
        columns("scenarioapp_item"),
        checksums("scenarioapp_item"),
        Run.objects.count(),
    )

    message = refused(rollback="last")

    assert (
        applied(),
        columns("scenarioapp_item"),
        checksums("scenarioapp_item"),
        Run.objects.count(),
    ) == before
    assert message.startswith(
        f"safemigrate refuses to roll back run {run.pk}: it cannot be fully reversed, and "
        "nothing was changed.\n  - scenarioapp.0002_item_slug operation #1 (Raw Python "
        "operation) cannot be reversed."
    )
    assert f"The backup taken before run {run.pk} holds its tables as they were: " in message
    assert f"{backup.path} (" in message
    assert f"  {backup.restore_command}" in message


def test_a_refusal_says_when_there_is_no_backup(scenario):
    scenario("irreversible")
    run_safemigrate("scenarioapp")

    message = refused(rollback="last")

    assert f"No backup was taken before run {latest_run().pk}." in message


def test_a_run_that_failed_midway_is_rolled_back_as_far_as_it_went(scenario, blocker: Blocker):
    scenario("recovery")
    run_safemigrate("scenarioapp", "0001")
    blocker.hold(f"SELECT * FROM {ORDERS}")
    with pytest.raises(CommandError) as locked:
        run_safemigrate("scenarioapp", lock_timeout="50ms", retries=0, no_preflight=True)
    blocker.release()
    assert locked.value.returncode == 3
    failed = latest_run()
    assert applied() == ["0001_initial", "0002_customer_phone"]

    # The latest successful run is the first, and the failed run's migration depends on it.
    message = refused(rollback="last")
    assert "scenarioapp.0002_customer_phone depends on scenarioapp.0001_initial" in message

    run_safemigrate(rollback=str(failed.pk))

    assert applied() == ["0001_initial"]
    assert "phone" not in columns(CUSTOMERS)


def test_a_half_applied_non_atomic_migration_needs_the_doctor_first(scenario):
    scenario("failing")
    with pytest.raises(CommandError):
        run_safemigrate("scenarioapp")
    run = latest_run()

    message = refused(rollback=str(run.pk))

    assert "scenarioapp.0002_half_done is not atomic and stopped part-way (failed)" in message
    assert "manage.py safemigrate --doctor" in message
    run_safemigrate(doctor=True, yes=True, undo=True)
    run_safemigrate(rollback=str(run.pk))
    assert applied() == []
    assert "scenarioapp_item" not in connection.introspection.table_names()


def test_a_faked_run_is_unapplied_as_a_fake(scenario):
    scenario("basic")
    run_safemigrate("scenarioapp", "0001")
    run_safemigrate("scenarioapp", fake=True)

    run_safemigrate(rollback="last")

    assert applied() == ["0001_initial"]
    record = MigrationRun.objects.get(direction="backwards")
    assert (record.name, record.fake) == ("0002_item_note", True)


def test_a_rollback_is_never_gated_by_approvals(deployed, settings):
    settings.SAFEMIGRATE = {"REQUIRE_APPROVAL": "all"}

    run_safemigrate(rollback="last")

    assert applied() == ["0001_initial"]


def test_a_rollback_can_take_a_backup_first(deployed, settings, tmp_path):
    settings.SAFEMIGRATE = {"BACKUP_DIR": str(tmp_path)}

    output = run_safemigrate(rollback="last", backup=True, json=True)

    rollback = latest_run()
    backup = Backup.objects.get(run=rollback)
    assert backup.tables == [f"public.{CUSTOMERS}", f"public.{ORDERS}"]
    summary = json.loads(output.out)
    assert summary["rollback_of"] == rollback.rollback_of_id
    assert summary["backup"]["path"] == backup.path
    assert summary["backup"]["size_bytes"] == backup.size_bytes


def test_a_run_already_rolled_back_has_nothing_left(deployed):
    _, second, _ = deployed
    run_safemigrate(rollback="last")
    runs = Run.objects.count()

    again = run_safemigrate(rollback=str(second.pk))

    assert f"Nothing to roll back: no migration run {second.pk} applied is applied now." in (
        again.out
    )
    assert Run.objects.count() == runs


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"rollback": "abc"}, "--rollback takes a run id (a number), not 'abc'."),
        ({"rollback": "999999"}, "There is no run 999999 in the history"),
        ({"rollback": "last", "app_label": "scenarioapp"}, "takes no app_label"),
    ],
)
def test_a_rollback_asked_for_wrongly_is_a_usage_error(deployed, options, message):
    args = [options.pop("app_label")] if "app_label" in options else []
    with pytest.raises(CommandError) as wrong:
        run_safemigrate(*args, **options)
    assert wrong.value.returncode == 2
    assert message in str(wrong.value)


def test_a_rollback_itself_is_not_rolled_back(deployed):
    run_safemigrate(rollback="last")
    with pytest.raises(CommandError) as wrong:
        run_safemigrate(rollback=str(latest_run().pk))
    assert wrong.value.returncode == 2
    assert "applied no migration" in str(wrong.value)


def test_steps_that_need_values_a_drop_took_refuse_the_rollback(scenario):
    scenario("dropped")
    run_safemigrate("scenarioapp", "0001")
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO scenarioapp_item (name, code) VALUES ('Tea', 'T')")
    run_safemigrate("scenarioapp")
    before = applied(), columns("scenarioapp_item")

    message = refused(rollback="last")

    assert (applied(), columns("scenarioapp_item")) == before
    assert (
        "Unapplying scenarioapp.0003_item_name_contract needs a value in every row of "
        "scenarioapp_item.name, which unapplying scenarioapp.0004_remove_item_name puts back "
        "empty (its data went when the column was dropped): it would fail on the rows "
        "scenarioapp_item holds." in message
    )
    assert (
        "Unapplying scenarioapp.0002_remove_item_code adds scenarioapp_item.code NOT NULL with "
        "no default, which fails on the rows scenarioapp_item holds." in message
    )


def test_the_same_steps_on_an_empty_table_roll_back(scenario):
    scenario("dropped")
    run_safemigrate("scenarioapp", "0001")
    run_safemigrate("scenarioapp")

    run_safemigrate(rollback="last")

    assert applied() == ["0001_initial"]
    assert columns("scenarioapp_item") == {"id", "name", "code"}


def test_a_migration_gone_from_disk_refuses_the_rollback(scenario):
    scenario("basic")
    run_safemigrate("scenarioapp", "0001")
    run_safemigrate("scenarioapp")
    scenario("failing")  # the same app, whose migrations no longer include 0002_item_note

    message = refused(rollback="last")

    assert (
        "scenarioapp.0002_item_note is no longer in the migration graph (deleted, renamed or "
        "replaced by a squashed migration): Django cannot unapply it." in message
    )
