"""Reset the demo database, then migrate it while other sessions stand in the way.

A migration that needs a strong lock waits behind any open transaction that holds a conflicting
one, and every query on that table then queues behind the migration. The demo first creates
safemigrate's own tables (so the run history records every run after that), then stages it
twice:

1. a session updates a customer and keeps its transaction open while ``0003_auditlog`` adds a
   foreign key to ``shop_customer``: the pre-flight sees the long transaction and waits outside
   the lock queue, so nobody queues behind the migration;
2. a session reads ``shop_order`` and keeps its transaction open while ``0004_order_status``
   alters that table, with the pre-flight off: each attempt gives up after 200 ms, the run
   reports who blocks it, backs off and retries until the blocker commits.

The shop's last migration, an irreversible data change, is left pending, so the admin's
review and approval can be tried on it at once.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from decimal import Decimal
from types import TracebackType
from typing import Any

import psycopg
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, connections
from django.db.migrations.loader import MigrationLoader
from psycopg import sql

from example_project.shop.management.console import Console
from safemigrate.guard.runlock import RUN_LOCK_KEY

#: First, the tables of the run history (so it records every run after this one) and those the
#: admin needs (auth brings contenttypes along).
SETUP_APPS = ("safemigrate", "auth", "admin", "sessions")
PARTIAL_TARGET = ("shop", "0002_order")
PREFLIGHT_TARGET = ("shop", "0003_auditlog")
#: The demo stops here: the one after it stays pending, for a review in the admin.
GUARDED_TARGET = ("shop", "0018")
PENDING = "shop.0019_customer_email_lowercase"
GUARDED_OPTIONS = ["--lock-timeout", "200ms", "--retries", "20", "--no-preflight"]
CLOSING = """
  ./dev manage runserver
  http://127.0.0.1:8000/admin/   user: admin   password: admin
Then look at:
  /admin/safemigrate/run/             every run above, with its attempts, blockers and SQL
  /admin/safemigrate/review/pending/  {pending}, left pending on purpose:
      it lower-cases the customers' emails and cannot be undone. Start its review, tick the
      checklist and approve it; then apply it through the approval gate, which refuses it
      until it is approved:
  ./dev manage safemigrate --require-approval
"""
#: Whether a safemigrate run holds its run lock on this database: it has started migrating.
RUN_STARTED = (
    "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objid = %s AND granted "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)


def connection_params(dbname: str) -> dict[str, Any]:
    """Return psycopg arguments for the default database's server, connecting to ``dbname``."""
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    return {**params, "dbname": dbname}


class Blocker:
    """A session that ran ``statement`` in a transaction it keeps open, as a slow job would.

    A read holds the ACCESS SHARE lock that every SELECT takes, which conflicts only with ACCESS
    EXCLUSIVE: harmless to readers and writers, fatal to an ALTER TABLE without a lock timeout.
    A write holds ROW EXCLUSIVE, which also stops the SHARE ROW EXCLUSIVE a new foreign key takes.
    It commits ``hold`` seconds after a safemigrate run takes its run lock, so the migration
    that needs the table meets the lock however long the command takes to start.
    """

    def __init__(
        self,
        statement: sql.Composed,
        hold: float,
        write: Callable[[str], None],
    ) -> None:
        self.statement = statement
        self.hold = hold
        self.write = write
        self.done = threading.Event()
        self.params = connection_params(settings.DATABASES["default"]["NAME"])
        self.session = psycopg.connect(**self.params)
        self.thread = threading.Thread(target=self._release_after_hold, daemon=True)

    def __enter__(self) -> Blocker:
        self.session.execute(self.statement)  # the transaction stays open: no autocommit
        self.write(
            f"blocker: session {self.session.info.backend_pid} ran "
            f"{self.statement.as_string(self.session)!r} and keeps its transaction open"
        )
        self.thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.done.set()
        self.thread.join()
        self.session.close()

    def _release_after_hold(self) -> None:
        with psycopg.connect(**self.params, autocommit=True) as monitor:
            while not monitor.execute(RUN_STARTED, [RUN_LOCK_KEY]).fetchone():
                if self.done.wait(0.05):
                    break
            else:
                self.write(f"blocker: commits in {self.hold:g} s")
                self.done.wait(self.hold)
        try:
            self.session.commit()
        except psycopg.OperationalError:
            self.write("blocker: its session was terminated")
        else:
            self.write("blocker: committed, its lock is gone")


class Command(BaseCommand):
    help = (
        "Drop and recreate the safemigrate_demo database, migrate part of the shop, seed it, then "
        "run the rest with safemigrate while another session holds a lock on the orders table."
    )
    # The checks would run against a database this command is about to drop.
    requires_system_checks = ()

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--hold",
            type=float,
            default=2.0,
            help="Seconds each blocker keeps its lock once the safemigrate run has started (2).",
        )

    def handle(self, *args: Any, hold: float, **options: Any) -> None:
        name = settings.DATABASES["default"]["NAME"]
        if name != getattr(settings, "DEMO_DATABASE", None):
            raise CommandError(
                f"demo drops and recreates its database, and {name!r} is not DEMO_DATABASE; run "
                "it with the example project's settings (./dev demo)."
            )
        self.console = Console(self.stdout, self.style.WARNING)
        # The commands' output passes through a pipe: keep their colours when ours are on.
        self.color = ["--force-color"] if self.style.SUCCESS("x") != "x" else []
        self.step(f"1/7 reset database {name} (drop and create; no other database is touched)")
        self.reset_database(name)
        self.step(
            "2/7 the run history's tables first, so it records every run from here on, and "
            "the admin's: " + ", ".join(f"manage.py safemigrate {app}" for app in SETUP_APPS)
        )
        for app in SETUP_APPS:
            self.manage("safemigrate", app)
        self.step("3/7 apply part of the shop's history: manage.py safemigrate shop 0002")
        self.manage("safemigrate", *PARTIAL_TARGET)
        self.step("4/7 seed customers, products and orders")
        self.seed()
        self.step(
            "5/7 pre-flight: a writer holds shop_customer open while 0003 adds a foreign key to "
            "it: manage.py safemigrate shop 0003"
        )
        writer = sql.SQL("UPDATE {} SET name = name WHERE id = 1").format(
            sql.Identifier("shop_customer")
        )
        with Blocker(writer, hold, self.console.note):
            self.manage("safemigrate", *PREFLIGHT_TARGET)
        command = " ".join(["safemigrate", *GUARDED_TARGET, *GUARDED_OPTIONS])
        self.step(f"6/7 lock timeouts: a reader holds shop_order: manage.py {command}")
        reader = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier("shop_order"))
        with Blocker(reader, hold, self.console.note):
            self.manage("safemigrate", *GUARDED_TARGET, *GUARDED_OPTIONS)
        self.show_history()
        self.step("7/7 admin user")
        self.create_admin()
        self.stdout.write(self.closing())

    def closing(self) -> str:
        """Say where to look next: the history in the admin, and the migration left pending."""
        heading = self.style.SUCCESS("\nThe demo database is ready. Open the admin with:")
        return heading + CLOSING.format(pending=PENDING)

    def step(self, message: str) -> None:
        self.stdout.write(self.style.MIGRATE_HEADING(f"\n== {message}"))

    def note(self, message: str) -> None:
        self.console.note(message)

    def reset_database(self, name: str) -> None:
        connections.close_all()
        with psycopg.connect(**connection_params("postgres"), autocommit=True) as admin:
            # FORCE ends sessions still connected, such as a runserver left open.
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def manage(self, *arguments: str) -> None:
        """Run ``manage.py`` in a child process, as a person would type it."""
        command = [sys.executable, str(settings.BASE_DIR / "manage.py"), *arguments, *self.color]
        if self.console.run(command):
            raise CommandError(f"manage.py {' '.join(arguments)} failed; see its output above.")

    def seed(self) -> None:
        # The models of shop/models.py have columns later migrations add, so use the historical
        # models of the state the database is in.
        apps = MigrationLoader(connection).project_state(PARTIAL_TARGET).apps
        customer_model = apps.get_model("shop", "Customer")
        product_model = apps.get_model("shop", "Product")
        order_model = apps.get_model("shop", "Order")
        customers = customer_model.objects.bulk_create(
            # Typed as people do: the pending migration 0019 lower-cases them.
            customer_model(email=f"Customer{n}@Example.com", name=f"Customer {n}")
            for n in range(1, 21)
        )
        products = product_model.objects.bulk_create(
            product_model(name=name, price=Decimal(price))
            for name, price in [("Tea", "4.50"), ("Mug", "9.90"), ("Kettle", "39.00")]
        )
        order_model.objects.bulk_create(
            order_model(customer=customers[n % 20], total=products[n % 3].price * (1 + n % 4))
            for n in range(200)
        )
        self.note(f"{len(customers)} customers, {len(products)} products, 200 orders")

    def show_history(self) -> None:
        """Print what the run history recorded of the demo's runs, as the admin shows it."""
        from safemigrate.models import Run

        runs = list(Run.objects.order_by("started_at").prefetch_related("migrations__attempts"))
        self.note(f"the run history recorded {len(runs)} runs (admin: /admin/safemigrate/run/):")
        for run in runs:
            records = list(run.migrations.all())
            target = " ".join(str(part) for part in run.targets if part)
            count = f"{len(records)} migration{'' if len(records) == 1 else 's'}"
            self.note(f"  safemigrate {target}: {run.status}, {count}")
            for record in records:
                attempts = list(record.attempts.all())
                pids = sorted({b["pid"] for a in attempts for b in a.blockers})
                if pids:
                    outcomes = ", ".join(a.outcome for a in attempts)
                    self.note(
                        f"    {record.app_label}.{record.name}: {len(attempts)} attempt(s) "
                        f"({outcomes}) in {record.duration_ms} ms; blockers: {pids}"
                    )

    def create_admin(self) -> None:
        user_model = get_user_model()
        if user_model.objects.filter(username="admin").exists():
            self.note("user admin exists")
            return
        user_model.objects.create_superuser("admin", "admin@example.com", "admin")
        self.note("created superuser admin (password: admin)")
