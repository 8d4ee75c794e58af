"""The admin in a real browser: log in, read the history, review, approve, then migrate.

Runs Debian's Chromium (``/usr/bin/chromium``) through Playwright; Playwright's own browser
download is never used. ``SAFEMIGRATE_SCREENSHOTS=1`` writes the screenshots into
``docs/images/`` (the ones the docs show); otherwise they go to a temporary folder.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission, User
from django.db import connections

from safemigrate.models import Attempt, Outcome, Review, Run
from tests.conftest import columns, run_safemigrate

playwright = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"

pytestmark = pytest.mark.skipif(
    not shutil.which(CHROMIUM),
    reason="Debian's chromium is not installed (apt-get install chromium)",
)


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = DOCS_IMAGES if os.environ.get("SAFEMIGRATE_SCREENSHOTS") else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def browser_page(monkeypatch):
    # Playwright's sync API runs an event loop in this thread; the ORM calls the test makes
    # between page actions are ordinary synchronous code, which Django would otherwise refuse.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        yield page
        browser.close()
        # While Playwright's loop runs, Django keeps this thread's connections apart from the
        # usual ones; close them, or the test database cannot be dropped at the end.
        connections.close_all()


#: The bar's parts: list items (Django 6), or the text between its &rsaquo; signs (Django 5.2).
BREADCRUMB_PARTS = """e => (e.tagName === "OL"
    ? [...e.querySelectorAll("li")].map(li => li.textContent)
    : e.textContent.split("\u203a")).map(part => part.trim())"""


def breadcrumbs(page) -> tuple[list[str], str]:
    """Return the breadcrumb bar's parts and its colour, as a reader sees them."""
    bar = page.locator("nav .breadcrumbs")
    return bar.evaluate(BREADCRUMB_PARTS), bar.evaluate("e => getComputedStyle(e).backgroundColor")


def approver() -> User:
    user = User.objects.create_user("release-manager", password="correct horse", is_staff=True)
    codenames = ["view_run", "view_migrationrun", "view_review", "change_review", "approve"]
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


def test_review_approve_and_migrate_in_the_browser(
    scenario, blocker, live_server, browser_page, shots, settings
):
    scenario("basic")
    run_safemigrate("scenarioapp", "0001", verbosity=0)
    approver()
    settings.SAFEMIGRATE = {"REQUIRE_APPROVAL": "all"}
    page = browser_page

    page.goto(f"{live_server.url}/admin/login/?next=/admin/safemigrate/run/")
    page.fill("#id_username", "release-manager")
    page.fill("#id_password", "correct horse")
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/safemigrate/run/")
    assert "scenarioapp.0001_initial" in page.content()
    page.screenshot(path=str(shots / "admin-history.png"), full_page=True)
    # The admin's own page: the bar safemigrate's pages must look like.
    links, admin_bar = breadcrumbs(page)
    assert links[:2] == ["Home", "safemigrate"]
    assert admin_bar not in ("", "rgba(0, 0, 0, 0)")

    run = Run.objects.get()
    page.click(f"a[href='/admin/safemigrate/run/{run.pk}/change/']")
    page.wait_for_selector("svg.sm-timeline")
    assert "CREATE TABLE" in page.inner_text("#content-main")
    assert breadcrumbs(page) == (["Home", "safemigrate", "Runs", str(run)], admin_bar)

    page.goto(f"{live_server.url}/admin/safemigrate/review/pending/")
    assert "not reviewed" in page.inner_text("#pending-migrations")
    assert breadcrumbs(page) == (
        ["Home", "safemigrate", "Reviews", "Pending migrations"],
        admin_bar,
    )
    page.screenshot(path=str(shots / "admin-pending.png"), full_page=False)
    page.click("#pending-migrations button")
    page.wait_for_selector("#review-form")
    links, bar = breadcrumbs(page)
    assert links == ["Home", "safemigrate", "Reviews", "Review of scenarioapp.0002_item_note"]
    assert bar == admin_bar
    page.check("input[value='plan-rollback-strategy']")
    page.check("input[value='test-rollback-procedure']")
    page.fill("#id_notes", "Adds a nullable column: no rewrite, instant.")
    page.click("button[value=save]")
    page.wait_for_selector(".messagelist")
    assert "ticked by release-manager" in page.content()
    page.click("#approve-button")
    page.wait_for_selector("#approval-state.sm-state-approved")
    top = {"x": 0, "y": 0, "width": 1440, "height": 1500}  # the checklist, not the runbook
    page.screenshot(path=str(shots / "admin-review.png"), full_page=True, clip=top)

    review = Review.objects.get(app_label="scenarioapp", name="0002_item_note")
    assert review.approved_by.username == "release-manager"
    assert set(review.ticks.values_list("item", flat=True)) == {
        "plan-rollback-strategy",
        "test-rollback-procedure",
    }
    # A session reads the table in an open transaction for a second: the migration's first
    # attempts time out on the lock, then it goes through.
    blocker.hold("SELECT * FROM scenarioapp_item").release_after(1.0)
    run_safemigrate("scenarioapp", verbosity=0)
    assert "note" in columns("scenarioapp_item")

    page.goto(f"{live_server.url}/admin/safemigrate/run/")
    assert "scenarioapp.0002_item_note" in page.content()
    page.screenshot(path=str(shots / "admin-history.png"), full_page=True)
    latest = Run.objects.latest("started_at")
    waits = Attempt.objects.filter(migration__run=latest).exclude(outcome=Outcome.OK)
    assert waits.exists(), "the blocker made the migration wait"
    page.click(f"a[href='/admin/safemigrate/run/{latest.pk}/change/']")
    page.wait_for_selector(f"svg.sm-timeline rect.att-{waits[0].outcome}", state="attached")
    assert f"pid {blocker.pid}" in page.inner_text("#content-main")
    page.screenshot(path=str(shots / "admin-run.png"), full_page=True)
