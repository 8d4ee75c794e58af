"""The admin pages: who may see and do what, escaping, CSRF, and a query count that stays flat."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.utils import timezone

from safemigrate.models import (
    Attempt,
    Backup,
    MigrationRun,
    Outcome,
    Postcondition,
    Review,
    Run,
    Statement,
    Status,
)
from tests.conftest import run_safemigrate

XSS = "<script>alert('x')</script>"
HISTORY_PERMS = ("view_run", "view_migrationrun")
REVIEW_PERMS = ("view_review", "change_review")


def login(*perms: str, superuser: bool = False) -> Client:
    user = User.objects.create_user(
        f"user{User.objects.count()}", password="pw", is_staff=True, is_superuser=superuser
    )
    user.user_permissions.add(*Permission.objects.filter(codename__in=perms))
    client = Client()
    client.force_login(user)
    return client


def make_run(error: str = "", sql: str = "SELECT 1", migrations: int = 1) -> Run:
    start = timezone.now()
    run = Run.objects.create(
        started_at=start,
        status=Status.FAILED if error else Status.SUCCEEDED,
        database="default",
        django_version="6.1",
        safemigrate_version="0",
        os_user="deploy",
        duration_ms=40,
        error=error,
    )
    for index in range(migrations):
        record = MigrationRun.objects.create(
            run=run,
            app_label="shop",
            name=f"000{index}_x",
            direction="forwards",
            status=run.status,
            started_at=start + timedelta(milliseconds=5),
            duration_ms=30,
            error=error,
        )
        Attempt.objects.create(
            migration=record,
            number=1,
            started_at=start,
            duration_ms=30,
            outcome=Outcome.LOCK_TIMEOUT,
            error=error,
            blockers=[
                {
                    "pid": 7,
                    "application_name": XSS,
                    "state": "idle in transaction",
                    "lock_modes": ["AccessShareLock"],
                    "relation": "shop_order",
                    "query": XSS,
                }
            ],
        )
        Statement.objects.create(
            migration=record,
            attempt=1,
            position=0,
            sql=sql,
            offset_ms=1,
            duration_ms=2.5,
            outcome=Outcome.OK,
        )
    return run


PAGES = (
    "/admin/safemigrate/run/",
    "/admin/safemigrate/migrationrun/",
    "/admin/safemigrate/review/",
    "/admin/safemigrate/review/pending/",
)


@pytest.mark.parametrize("url", PAGES)
def test_anonymous_is_sent_to_the_login_page(db, url):
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("url", PAGES)
def test_staff_without_permissions_is_refused(db, url):
    assert login().get(url).status_code == 403


def test_staff_without_permissions_cannot_open_a_run_or_a_review(db):
    run = make_run()
    review = Review.objects.create(app_label="shop", name="0004_order_status")
    client = login()
    assert client.get(f"/admin/safemigrate/run/{run.pk}/change/").status_code == 403
    assert client.get(f"/admin/safemigrate/review/{review.pk}/change/").status_code == 403
    response = client.post("/admin/safemigrate/review/start/scenarioapp/0001_initial/")
    assert response.status_code == 403


def test_history_is_read_only_even_for_a_superuser(db):
    run = make_run()
    client = login(superuser=True)
    assert client.get("/admin/safemigrate/run/add/").status_code == 403
    assert client.post(f"/admin/safemigrate/run/{run.pk}/delete/").status_code == 403
    assert Run.objects.filter(pk=run.pk).exists()


def test_user_supplied_text_is_escaped_everywhere(db):
    run = make_run(error=XSS, sql=f"SELECT '{XSS}'")
    Backup.objects.create(
        run=run, scope="tables", tables=[XSS], path=XSS, started_at=timezone.now(), error=XSS
    )
    review = Review.objects.create(app_label="shop", name="0004_order_status", notes=XSS)
    client = login(*HISTORY_PERMS, *REVIEW_PERMS)
    for url in (
        "/admin/safemigrate/run/",
        f"/admin/safemigrate/run/{run.pk}/change/",
        f"/admin/safemigrate/review/{review.pk}/change/",
        "/admin/safemigrate/review/?q=x",
    ):
        content = client.get(url).content.decode()
        assert "<script>alert" not in content, url
    detail = client.get(f"/admin/safemigrate/run/{run.pk}/change/").content.decode()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in detail
    assert "<svg" in detail  # the timeline


def test_run_detail_shows_statements_attempts_blockers_and_a_timeline(scenario):
    scenario("basic")
    run_safemigrate("scenarioapp", verbosity=0)
    run = Run.objects.get()
    content = login(*HISTORY_PERMS).get(f"/admin/safemigrate/run/{run.pk}/change/").content
    text = content.decode()
    assert "scenarioapp.0002_item_note" in text
    assert 'ALTER TABLE "scenarioapp_item" ADD COLUMN "note" text NULL' in text.replace(
        "&quot;", '"'
    )
    assert 'class="stmt"' in text
    assert "Attempts" in text
    assert "<th>Lock timeout</th>" in text
    assert "<td>200 ms</td>" in text  # the attempt's lock timeout


def test_run_detail_shows_postconditions_and_why_it_ran_outside_the_windows(db):
    run = make_run(error="Postcondition failed")
    Run.objects.filter(pk=run.pk).update(outside_window_reason=f"hotfix {XSS}")
    record = run.migrations.get()
    for position, passed in enumerate((True, False)):
        Postcondition.objects.create(
            migration=record,
            attempt=1,
            position=position,
            description=f"check {position} {XSS}",
            sql="SELECT count(*) FROM shop_product WHERE price_cents IS NULL",
            expected="0",
            actual=str(position * 3),
            passed=passed,
            duration_ms=1.5,
        )

    text = login(*HISTORY_PERMS).get(f"/admin/safemigrate/run/{run.pk}/change/").content.decode()

    assert "Outside the maintenance windows" in text
    assert "hotfix &lt;script&gt;" in text
    rows = text.split("<h3>Postconditions</h3>")[1].split("</table>")[0]
    assert rows.count("<tr") == 3  # a header and one row per check
    assert "check 1 &lt;script&gt;" in rows
    assert "<td>held</td>" in rows
    assert '<tr class="sm-error"><td>1</td><td>check 1' in rows
    assert "<td>failed</td>" in rows


def test_run_page_shows_the_backup_and_offers_the_rollback_command(scenario, settings, tmp_path):
    settings.SAFEMIGRATE = {"BACKUP_DIR": str(tmp_path)}
    scenario("basic")
    run_safemigrate("scenarioapp", "0001", verbosity=0)
    run_safemigrate("scenarioapp", backup=True, verbosity=0)
    run = Run.objects.latest("started_at")
    backup = Backup.objects.get(run=run)
    client = login(*HISTORY_PERMS)

    page = client.get(f"/admin/safemigrate/run/{run.pk}/change/").content.decode()

    assert backup.path in page
    assert f"({backup.size_bytes} bytes)" in page
    assert html.escape(backup.restore_command) in page
    assert f'id="rollback-command">python manage.py safemigrate --rollback {run.pk}</pre>' in page

    run_safemigrate(rollback=str(run.pk), verbosity=0)
    rollback = Run.objects.latest("started_at")
    undone = client.get(f"/admin/safemigrate/run/{run.pk}/change/").content.decode()
    assert f'/admin/safemigrate/run/{rollback.pk}/change/">run {rollback.pk}' in undone
    page = client.get(f"/admin/safemigrate/run/{rollback.pk}/change/").content.decode()
    assert "Rollback of" in page
    assert f'/admin/safemigrate/run/{run.pk}/change/">run {run.pk}' in page
    assert "rollback-command" not in page, "a rollback is undone by applying again"


def test_history_list_queries_do_not_grow_with_the_page(db, django_assert_max_num_queries):
    client = login(*HISTORY_PERMS)
    make_run(migrations=2)
    with django_assert_max_num_queries(10) as few:
        client.get("/admin/safemigrate/run/")
    for _ in range(30):
        make_run(migrations=3)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/admin/safemigrate/run/")
    assert response.content.decode().count("shop.0002_x") == 30


def test_reviewer_ticks_and_notes_but_cannot_approve(scenario):
    scenario("basic")
    client = login(*REVIEW_PERMS)
    pending = client.get("/admin/safemigrate/review/pending/").content.decode()
    assert "scenarioapp.0002_item_note" in pending
    assert "## Summary" not in pending  # the HTML runbook, not Markdown
    assert 'id="summary"' in pending
    response = client.post("/admin/safemigrate/review/start/scenarioapp/0002_item_note/")
    review = Review.objects.get(app_label="scenarioapp", name="0002_item_note")
    assert response["Location"] == f"/admin/safemigrate/review/{review.pk}/change/"
    url = response["Location"]
    client.post(url, {"tick": ["plan-rollback-strategy"], "notes": "looks fine", "action": "save"})
    review.refresh_from_db()
    assert review.notes == "looks fine"
    assert list(review.ticks.values_list("item", flat=True)) == ["plan-rollback-strategy"]
    assert client.post(url, {"action": "approve"}).status_code == 403
    page = client.get(url).content.decode()
    assert "Approve" not in page.split("submit-row")[1]
    assert "ADD COLUMN &quot;note&quot; text NULL" in page  # the runbook up to this migration


def test_approver_approves(scenario):
    scenario("basic")
    review = Review.objects.create(app_label="scenarioapp", name="0002_item_note")
    client = login(*REVIEW_PERMS, "approve")
    url = f"/admin/safemigrate/review/{review.pk}/change/"
    assert client.post(url, {"action": "approve"}).status_code == 302
    review.refresh_from_db()
    assert review.approved
    assert "approved" in client.get(url).content.decode()
    client.post(url, {"action": "revoke"})
    review.refresh_from_db()
    assert not review.approved


def test_forms_need_a_csrf_token(scenario):
    scenario("basic")
    review = Review.objects.create(app_label="scenarioapp", name="0002_item_note")
    user = User.objects.create_superuser("root", password="pw")
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    url = f"/admin/safemigrate/review/{review.pk}/change/"
    assert client.post(url, {"action": "approve"}).status_code == 403
    assert "csrfmiddlewaretoken" in client.get(url).content.decode()
    review.refresh_from_db()
    assert not review.approved


def test_history_paginator_counts_cheaply(db, monkeypatch):
    from django.db import connection

    from safemigrate.admin import runs as history_admin

    for _ in range(3):
        make_run(error="x")
    failed = Run.objects.filter(status=Status.FAILED)
    assert history_admin.HistoryPaginator(failed, 50).count == 3
    monkeypatch.setattr(history_admin, "COUNT_CAP", 1)
    assert history_admin.HistoryPaginator(failed, 50).count == 2  # "more than one"
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE safemigrate_run")
    monkeypatch.setattr(history_admin, "ESTIMATE_COUNT_ABOVE", 0)
    assert history_admin.HistoryPaginator(Run.objects.all(), 50).count == 3  # reltuples


def test_search_finds_runs_by_user_revision_and_migration_name(db):
    make_run()
    other = make_run()
    Run.objects.filter(pk=other.pk).update(os_user="alice", git_revision="abc123")
    client = login(*HISTORY_PERMS)
    for term, expected in (("alice", 1), ("ABC1", 1), ("0000_X", 2), ("nobody", 0)):
        response = client.get("/admin/safemigrate/run/", {"q": term})
        assert len(response.context["cl"].result_list) == expected, term


def test_bulk_approve_action_needs_the_permission(scenario):
    scenario("basic")
    good = Review.objects.create(app_label="scenarioapp", name="0002_item_note")
    gone = Review.objects.create(app_label="scenarioapp", name="0009_removed")
    data = {"action": "approve_selected", "_selected_action": [good.pk, gone.pk]}
    reviewer = login(*REVIEW_PERMS)
    reviewer.post("/admin/safemigrate/review/", data)
    good.refresh_from_db()
    assert not good.approved
    login(*REVIEW_PERMS, "approve").post("/admin/safemigrate/review/", data)
    good.refresh_from_db()
    gone.refresh_from_db()
    assert good.approved
    assert not gone.approved


def test_review_list_links_to_the_pending_page(db):
    content = login(*REVIEW_PERMS).get("/admin/safemigrate/review/").content.decode()
    assert 'href="/admin/safemigrate/review/pending/"' in content


def test_run_list_names_the_first_migrations_only(db):
    make_run(migrations=5)
    content = login(*HISTORY_PERMS).get("/admin/safemigrate/run/").content.decode()
    assert "shop.0002_x and 2 more" in content
    assert "shop.0003_x" not in content


def test_pending_page_shows_each_migrations_deploy_phase(scenario):
    scenario("phases")
    client = login(*REVIEW_PERMS)
    pending = client.get("/admin/safemigrate/review/pending/").content.decode()
    rows = pending.split('id="pending-migrations"')[1].split("</table>")[0]
    assert '<td class="sm-phase-pre-deploy" title="inferred: nothing in it breaks' in rows
    assert (
        '<td class="sm-phase-post-deploy" title="inferred: Drop column of removed field legacy'
        in rows
    )
    assert rows.count("post-deploy</td>") == 1
    assert "Deploy phase: <strong>post-deploy</strong>" in pending  # the runbook's
