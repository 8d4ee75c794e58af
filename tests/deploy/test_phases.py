"""Deploy phases: declared, marked for django-safemigrate, or inferred; --phase pre and post."""

from __future__ import annotations

from enum import Enum

import pytest
from django.core.management.base import CommandError
from django.db import connection, models
from django.db.migrations import Migration, RunSQL
from django.db.migrations.graph import MigrationGraph
from django.db.migrations.operations import AddField, RemoveField, RenameField
from django_safemigrate import Safe

from safemigrate import operations as safe
from safemigrate.declarations import Phase
from safemigrate.deploy.phases import migration_phase, operation_phase
from safemigrate.deploy.split import split_plan
from safemigrate.exceptions import ConfigurationError
from safemigrate.models import Run
from tests.conftest import columns, run_safemigrate

pytestmark = pytest.mark.django_db(transaction=True)

FIELD = models.IntegerField(null=True)
NO_GATE = {"LIVE_PROCESS_GATE": False}


def migration(*operations: object, app: str = "shop", name: str = "0002_x", **attrs: object):
    made = type("Migration", (Migration,), attrs)(name, app)
    made.operations = list(operations)
    return made


def applied(app: str = "scenarioapp") -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM django_migrations WHERE app = %s ORDER BY id", [app])
        return [name for (name,) in cursor.fetchall()]


@pytest.mark.parametrize(
    ("operation", "expected"),
    [
        (AddField("item", "n", FIELD), Phase.PRE_DEPLOY),
        (RemoveField("item", "n"), Phase.POST_DEPLOY),
        (RenameField("item", "n", "m"), Phase.POST_DEPLOY),
        (safe.SafeRemoveField("item", "n"), Phase.PRE_DEPLOY),
        (safe.RemoveFieldFromDatabase("item", "n", FIELD), Phase.POST_DEPLOY),
        (safe.DeleteModelFromState("item"), Phase.PRE_DEPLOY),
        (safe.DeleteModelFromDatabase("t"), Phase.POST_DEPLOY),
        (safe.DetachPartitionConcurrently("t", "t_1"), Phase.POST_DEPLOY),
        (safe.RemoveIndexConcurrently("item", "i"), Phase.PRE_DEPLOY),
        (RunSQL("ALTER TABLE shop_item DROP COLUMN IF EXISTS legacy"), Phase.POST_DEPLOY),
        (RunSQL(["UPDATE shop_item SET n = 1", ("DROP TABLE shop_old", None)]), Phase.POST_DEPLOY),
        (RunSQL("ALTER TABLE shop_item ALTER COLUMN n TYPE bigint"), Phase.PRE_DEPLOY),
    ],
    ids=lambda value: type(value).__name__ if not isinstance(value, Phase) else value.value,
)
def test_operation_phase(operation, expected):
    assert operation_phase(operation)[0] == expected


def test_an_operation_declares_its_phase_and_a_subclass_inherits_its_parents_role():
    class ContractStep(AddField):
        deploy_phase = "post_deploy"

    class LoudRemoveField(RemoveField):
        pass

    assert operation_phase(ContractStep("item", "n", FIELD))[0] == Phase.POST_DEPLOY
    phase, why = operation_phase(LoudRemoveField("item", "n"))
    assert (phase, why.split(":")[0]) == (Phase.POST_DEPLOY, "drops a column")


def test_migration_phase_is_declared_marked_or_inferred():
    removal = RemoveField("item", "legacy")
    assert migration_phase(migration(AddField("item", "n", FIELD))).phase == Phase.PRE_DEPLOY
    inferred = migration_phase(migration(AddField("item", "n", FIELD), removal))
    assert inferred.phase == Phase.POST_DEPLOY
    assert inferred.source.startswith("inferred: Remove field legacy from item: drops a column")
    declared = migration_phase(migration(removal, safemigrate={"phase": "pre_deploy"}))
    assert declared == migration_phase(migration(removal, safemigrate={"phase": "pre_deploy"}))
    assert declared.phase == Phase.PRE_DEPLOY
    assert declared.source == 'declared: safemigrate = {"phase": "pre_deploy"}'


@pytest.mark.parametrize(
    ("marker", "expected"),
    [
        (Safe.before_deploy(), Phase.PRE_DEPLOY),
        (Safe.before_deploy, Phase.PRE_DEPLOY),
        (Safe.always(), Phase.PRE_DEPLOY),
        (Safe.after_deploy(), Phase.POST_DEPLOY),
        (Safe.after_deploy, Phase.POST_DEPLOY),
    ],
)
def test_django_safemigrate_markers_are_honoured(marker, expected):
    # The marker wins over the operations in both directions.
    operation = AddField("item", "n", FIELD) if expected else RemoveField("item", "n")
    found = migration_phase(migration(operation, safe=marker))
    assert found.phase == expected
    assert found.source.startswith("django-safemigrate marker safe = Safe.")


def test_django_safemigrate_before_5_markers_are_honoured():
    # Before 5.0, Safe was an Enum and migrations said safe = Safe.after_deploy (no call).
    class OldSafe(Enum):
        always = "always"
        before_deploy = "before_deploy"
        after_deploy = "after_deploy"

    OldSafe.__name__ = "Safe"
    marked = migration(AddField("item", "n", FIELD), safe=OldSafe.after_deploy)
    assert migration_phase(marked).phase == Phase.POST_DEPLOY
    # An attribute named "safe" that is no such marker is left alone.
    assert migration_phase(migration(RemoveField("item", "n"), safe=True)).phase == "post_deploy"


def test_a_bad_declared_phase_names_the_choices():
    with pytest.raises(ConfigurationError, match=r"\['phase'\] must be 'pre_deploy' or 'post_d"):
        migration_phase(migration(safemigrate={"phase": "later"}))


def test_a_pre_deploy_migration_after_a_post_deploy_one_of_another_app_is_held():
    graph = MigrationGraph()
    drop = migration(RemoveField("item", "legacy"), app="shop", name="0001_drop")
    follow = migration(AddField("order", "n", FIELD), app="sales", name="0001_follow")
    after = migration(AddField("order", "m", FIELD), app="sales", name="0002_after")
    alone = migration(AddField("user", "n", FIELD), app="accounts", name="0001_alone")
    for node in (drop, follow, after, alone):
        graph.add_node((node.app_label, node.name), node)
    graph.add_dependency(follow, ("sales", "0001_follow"), ("shop", "0001_drop"))
    graph.add_dependency(after, ("sales", "0002_after"), ("sales", "0001_follow"))
    plan = [(drop, False), (follow, False), (after, False), (alone, False)]

    split = split_plan(plan, graph, migration_phase)

    assert split.pre == [(alone, False)]
    assert [(h.key, h.holder) for h in split.held] == [
        (("shop", "0001_drop"), ("shop", "0001_drop")),
        (("sales", "0001_follow"), ("shop", "0001_drop")),
        (("sales", "0002_after"), ("shop", "0001_drop")),
    ]
    assert [h.key for h in split.blocked] == [("sales", "0001_follow"), ("sales", "0002_after")]


def test_phase_pre_stops_before_the_post_deploy_migration_and_post_applies_it(scenario, settings):
    scenario("phases")
    settings.SAFEMIGRATE = NO_GATE
    pre = run_safemigrate("scenarioapp", phase="pre")
    assert applied() == ["0001_initial", "0002_item_note", "0003_remove_item_legacy_from_state"]
    assert "legacy" in columns("scenarioapp_item")
    assert "Held for manage.py safemigrate --phase post" in pre.out
    assert "scenarioapp.0004_remove_item_legacy_from_database (post-deploy:" in pre.out
    again = run_safemigrate("scenarioapp", phase="pre")
    assert "No migrations to apply" in again.out

    run_safemigrate("scenarioapp", phase="post")
    assert applied()[-1] == "0004_remove_item_legacy_from_database"
    assert "legacy" not in columns("scenarioapp_item")
    assert Run.objects.latest("started_at").options["phase"] == "post"


def test_phase_pre_judges_only_what_it_applies(scenario, settings):
    """An unsafe post-deploy migration refuses ``--phase post``, not the pre phase before it."""
    scenario("phases_unsafe")
    settings.SAFEMIGRATE = NO_GATE
    run_safemigrate("scenarioapp", "0001")  # a deployed table: dropping its column is unsafe
    pre = run_safemigrate("scenarioapp", phase="pre")
    assert applied() == ["0001_initial", "0002_item_note"]
    assert "scenarioapp.0003_remove_item_legacy (post-deploy:" in pre.out

    with pytest.raises(CommandError) as refused:
        run_safemigrate("scenarioapp", phase="post")
    assert refused.value.returncode == 4
    assert "0003_remove_item_legacy" in str(refused.value)
    assert "legacy" in columns("scenarioapp_item")


def test_phase_pre_refuses_a_pre_deploy_migration_behind_a_post_deploy_one(scenario, settings):
    scenario("phases_blocked")
    settings.SAFEMIGRATE = NO_GATE
    with pytest.raises(CommandError) as refused:
        run_safemigrate("scenarioapp", phase="pre")
    assert refused.value.returncode == 4
    message = str(refused.value)
    assert (
        "scenarioapp.0005_item_tag (pre-deploy, after "
        "scenarioapp.0004_remove_item_legacy_from_database): the new code needs it" in message
    )
    assert "safemigrate --phase post scenarioapp 0004_remove_item_legacy_from_database" in message
    assert applied() == []  # refused before anything ran


def test_phase_pre_refuses_a_named_post_deploy_target(scenario, settings):
    scenario("phases")
    settings.SAFEMIGRATE = NO_GATE
    with pytest.raises(CommandError) as refused:
        run_safemigrate("scenarioapp", "0004", phase="pre")
    assert refused.value.returncode == 4
    assert "0004_remove_item_legacy_from_database (post-deploy: " in str(refused.value)
    assert "named as the target" in str(refused.value)


def test_a_rollback_is_never_refused_by_phases(scenario, settings):
    scenario("phases")
    settings.SAFEMIGRATE = NO_GATE
    run_safemigrate("scenarioapp")
    run_safemigrate("scenarioapp", "0002", phase="pre")
    assert applied() == ["0001_initial", "0002_item_note"]
    assert "legacy" in columns("scenarioapp_item")


def test_django_safemigrate_markers_decide_the_phases_of_a_real_run(scenario, settings):
    scenario("phases_markers")
    settings.SAFEMIGRATE = NO_GATE
    pre = run_safemigrate("scenarioapp", phase="pre")
    assert applied() == ["0001_initial", "0002_item_note"]
    assert "django-safemigrate marker safe = Safe.after_deploy" in pre.out
    run_safemigrate("scenarioapp", phase="post")
    assert "code" in columns("scenarioapp_item")
