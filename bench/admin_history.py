"""Time the admin's run history with 100,000 recorded runs.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python bench/admin_history.py

Creates (or reuses) the database ``safemigrate_bench_admin`` on that server (with the marker
of ``bench/common.py``, so it never fills a database it did not create), fills it with
factory-boy-built runs (written with ``bulk_create``), then requests each history page
several times through Django's test client as a superuser, and prints the median and
worst time and the number of queries per page as a Markdown table (see README-admin.md).
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

RUNS = int(os.environ.get("BENCH_RUNS", "100000"))
DATABASE = os.environ.get("BENCH_DATABASE", "safemigrate_bench_admin")
REPEAT = 15


def setup_django() -> None:
    import django
    from django.conf import settings

    from bench.common import bench_database

    bench_database(DATABASE)  # created with the marker, or refused if someone else's
    settings.DATABASES["default"]["NAME"] = DATABASE
    django.setup()


def fill() -> None:
    import factory
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from safemigrate.models import MigrationRun, Run, Status

    call_command("migrate", verbosity=0)
    if Run.objects.count() >= RUNS:
        return
    Run.objects.all().delete()
    start = timezone.now() - timedelta(days=3 * 365)
    statuses = [Status.SUCCEEDED] * 17 + [Status.FAILED, Status.FAILED, Status.INTERRUPTED]

    class RunFactory(factory.Factory):  # type: ignore[misc]
        class Meta:
            model = Run

        started_at = factory.Sequence(lambda n: start + timedelta(minutes=15 * n))
        duration_ms = factory.LazyFunction(lambda: random.randint(50, 600_000))
        status = factory.LazyFunction(lambda: random.choice(statuses))
        exit_code = 0
        database = "default"
        os_user = factory.LazyFunction(lambda: random.choice(["deploy", "ci", "alice", "bob"]))
        hostname = "web-1"
        django_version = "6.1"
        safemigrate_version = "0.1"
        git_revision = factory.Faker("sha1")

    apps = ["shop", "billing", "accounts", "search", "auth"]
    made = 0
    while made < RUNS:
        runs = Run.objects.bulk_create(RunFactory.build_batch(min(5000, RUNS - made)))
        MigrationRun.objects.bulk_create(
            MigrationRun(
                run=run,
                app_label=random.choice(apps),
                name=f"{random.randint(1, 400):04d}_change",
                direction="forwards",
                status=run.status,
                started_at=run.started_at,
                duration_ms=run.duration_ms,
            )
            for run in runs
            for _ in range(random.randint(1, 3))
        )
        made += len(runs)
        print(f"  {made:,} runs", file=sys.stderr, end="\r")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def measure() -> list[tuple[str, float, float, float, int]]:
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    from safemigrate.models import Run

    setup_test_environment()
    user = User.objects.filter(username="bench").first() or User.objects.create_superuser(
        "bench", password="bench"
    )
    client = Client()
    client.force_login(user)
    some_run = Run.objects.order_by("-started_at")[10]
    pages = [
        ("runs, page 1", "/admin/safemigrate/run/"),
        ("runs, page 1,000", "/admin/safemigrate/run/?p=1000"),
        ("runs, status = failed", "/admin/safemigrate/run/?status__exact=failed"),
        ("runs, app = billing", "/admin/safemigrate/run/?app=billing"),
        ("runs, search 'alice'", "/admin/safemigrate/run/?q=alice"),
        ("runs, slowest first", "/admin/safemigrate/run/?o=-4"),
        ("runs, sorted by OS user (no index)", "/admin/safemigrate/run/?o=5"),
        ("migration runs, page 1", "/admin/safemigrate/migrationrun/"),
        ("one run's detail", f"/admin/safemigrate/run/{some_run.pk}/change/"),
    ]
    results = []
    for label, url in pages:
        client.get(url)  # warm the caches, as a second visit would be
        times, sql = [], []
        for _ in range(REPEAT):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, response.status_code)
            sql.append(sum(float(q["time"]) for q in queries.captured_queries) * 1000)
        results.append(
            (label, statistics.median(times), max(times), statistics.median(sql), len(queries))
        )
    return results


def main() -> None:
    setup_django()
    started = time.perf_counter()
    fill()
    from safemigrate.models import MigrationRun, Run

    print(
        f"{Run.objects.count():,} runs, {MigrationRun.objects.count():,} migration runs "
        f"(filled in {time.perf_counter() - started:.0f} s)\n"
    )
    print("| Page | Median (ms) | Worst (ms) | SQL, median (ms) | Queries |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for label, median, worst, sql, queries in measure():
        print(f"| {label} | {median:.0f} | {worst:.0f} | {sql:.0f} | {queries} |")


if __name__ == "__main__":
    main()
