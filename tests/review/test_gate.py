"""Reviews and the approval gate: who may approve, what the gate refuses, and with which code."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from django.core.exceptions import PermissionDenied
from django.core.management.base import CommandError

from safemigrate.checks import check_settings
from safemigrate.exceptions import ExitCode
from safemigrate.models import Review
from safemigrate.review import reviews
from tests.conftest import columns, run_safemigrate

PENDING_URL = "/admin/safemigrate/review/pending/"


def make_user(name: str, *perms: str) -> User:
    user = User.objects.create_user(name, password="pw", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=perms))
    return User.objects.get(pk=user.pk)  # fresh, without the permission cache


@pytest.fixture
def basic(scenario):
    scenario("basic")
    run_safemigrate("scenarioapp", "0001", verbosity=0)


def refused(*args: str, **options: object) -> str:
    with pytest.raises(CommandError) as error:
        run_safemigrate(*args, **options)
    assert error.value.returncode == ExitCode.REFUSED == 4
    return str(error.value)


def approve(app_label: str, name: str) -> Review:
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    migration = MigrationLoader(connection).disk_migrations[(app_label, name)]
    review = reviews.review_for(app_label, name)
    reviews.approve(review, make_user("boss", "approve"), reviews.fingerprint(migration))
    return review


def test_flag_refuses_unapproved_migrations_and_names_the_admin_page(basic):
    message = refused("scenarioapp", require_approval="all")
    assert "scenarioapp.0002_item_note: not reviewed" in message
    assert PENDING_URL in message
    assert "note" not in columns("scenarioapp_item")


def test_setting_refuses_until_approved_then_runs(basic, settings):
    settings.SAFEMIGRATE = {"REQUIRE_APPROVAL": "all"}
    reviews.review_for("scenarioapp", "0002_item_note")
    assert "scenarioapp.0002_item_note: not approved" in refused("scenarioapp")
    approve("scenarioapp", "0002_item_note")
    run_safemigrate("scenarioapp", verbosity=0)
    assert "note" in columns("scenarioapp_item")


def test_editing_a_migration_after_approval_makes_it_stale(basic):
    review = approve("scenarioapp", "0002_item_note")
    Review.objects.filter(pk=review.pk).update(approved_fingerprint="0" * 64)
    assert "changed since approval" in refused("scenarioapp", require_approval="all")


def test_rollbacks_and_fakes_are_never_gated(basic, settings):
    run_safemigrate("scenarioapp", verbosity=0)
    settings.SAFEMIGRATE = {"REQUIRE_APPROVAL": "all"}
    run_safemigrate("scenarioapp", "0001", verbosity=0)
    assert "note" not in columns("scenarioapp_item")
    run_safemigrate("scenarioapp", fake=True, verbosity=0)


def test_errors_mode_gates_only_migrations_with_error_findings(scenario):
    scenario("unsafe")
    run_safemigrate("scenarioapp", "0001", require_approval="errors", verbosity=0)
    # 0002 builds an index on an existing table (SM109); 0003's SM104 is acknowledged.
    message = refused("scenarioapp", require_approval="errors", allow_unsafe=True)
    assert "scenarioapp.0002_item_name_idx: not reviewed" in message
    assert "0003" not in message
    approve("scenarioapp", "0002_item_name_idx")
    run_safemigrate("scenarioapp", require_approval="errors", allow_unsafe=True, verbosity=0)
    assert "note" in columns("scenarioapp_item")


def test_gate_and_analysis_judge_the_plan_once(basic, monkeypatch):
    from safemigrate.analysis import engine

    calls = []
    real = engine.collect
    monkeypatch.setattr(engine, "collect", lambda *a, **k: calls.append(a[1]) or real(*a, **k))
    run_safemigrate("scenarioapp", require_approval="errors", verbosity=0)
    assert [migration.name for migration in calls] == ["0002_item_note"]


def test_approving_needs_the_permission(db):
    review = reviews.review_for("scenarioapp", "0002_item_note")
    with pytest.raises(PermissionDenied):
        reviews.approve(review, make_user("staff", "change_review"), "f")
    reviews.approve(review, make_user("approver", "approve"), "f")
    review.refresh_from_db()
    assert review.approved_by.username == "approver"
    with pytest.raises(PermissionDenied):
        reviews.revoke(review, User.objects.get(username="staff"))


def test_ticks_keep_who_ticked_what_and_when(db):
    from safemigrate.conf import conf

    review = reviews.review_for("shop", "0004_order_status")
    alice, bob = make_user("alice"), make_user("bob")
    reviews.set_ticks(review, conf.checklist, {"plan-rollback-strategy", "unknown"}, alice)
    reviews.set_ticks(
        review, conf.checklist, {"plan-rollback-strategy", "test-rollback-procedure"}, bob
    )
    ticks = {t.item: t.ticked_by.username for t in review.ticks.all()}
    assert ticks == {"plan-rollback-strategy": "alice", "test-rollback-procedure": "bob"}
    reviews.set_ticks(review, conf.checklist, set(), bob)
    assert not review.ticks.exists()


@pytest.mark.parametrize(
    ("key", "value", "check_id"),
    [
        ("REQUIRE_APPROVAL", "some", "safemigrate.E081"),
        ("CHECKLIST", ["not", "a", "dict"], "safemigrate.E080"),
        ("CHECKLIST", {"Planning": ["Same", "same"]}, "safemigrate.E080"),
    ],
)
def test_bad_review_settings_are_reported(settings, key, value, check_id):
    settings.SAFEMIGRATE = {key: value}
    assert [m.id for m in check_settings()] == [check_id]


def test_gate_without_the_admin_warns(settings):
    from safemigrate.checks import check_approval_needs_admin

    settings.SAFEMIGRATE = {"REQUIRE_APPROVAL": "all"}
    assert check_approval_needs_admin() == []
    settings.INSTALLED_APPS = [a for a in settings.INSTALLED_APPS if a != "django.contrib.admin"]
    assert [m.id for m in check_approval_needs_admin()] == ["safemigrate.W080"]
    settings.SAFEMIGRATE = {"REQUIRE_APPROVAL": "maybe"}
    assert check_approval_needs_admin() == []


def test_gate_takes_migrate_targets(basic):
    message = refused("scenarioapp", "0002", require_approval="all")
    assert "0002_item_note" in message
    with pytest.raises(CommandError, match="Cannot find a migration matching 'nope'"):
        run_safemigrate("scenarioapp", "nope", require_approval="all")
    with pytest.raises(CommandError, match="More than one migration matches '000'"):
        run_safemigrate("scenarioapp", "000", require_approval="all")


def test_first_install_is_not_gated_and_says_so(basic, monkeypatch):
    from safemigrate.review import gate

    monkeypatch.setattr(gate, "relation_exists", lambda cursor, name: False)
    output = run_safemigrate("scenarioapp", require_approval="all", verbosity=0)
    assert "no review table yet (a first install)" in output.err
    assert "note" in columns("scenarioapp_item")
