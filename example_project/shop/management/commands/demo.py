"""Reset the demo database, then migrate it while other sessions stand in the way.

A migration that needs a strong lock waits behind any open transaction that holds a conflicting
one, and every query on that table then queues behind the migration. The demo stages it twice:

1. a session updates a customer and keeps its transaction open while ``0003_auditlog`` adds a
   foreign key to ``shop_customer``: the pre-flight sees the long transaction and waits outside
   the lock queue, so nobody queues behind the migration;
2. a session reads ``shop_order`` and keeps its transaction open while ``0004_order_status``
   alters that table, with the pre-flight off: each attempt gives up after 200 ms, the run
   reports who blocks it, backs off and retries until the blocker commits.
"""

from __future__ import annotations

import subprocess
import sys
import threading
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

PARTIAL_TARGET = ("shop", "0002_order")
PREFLIGHT_TARGET = ("shop", "0003_auditlog")
GUARDED_OPTIONS = ["--lock-timeout", "200ms", "--retries", "20", "--no-preflight"]


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
    It commits ``hold`` seconds after ``before`` is applied, so that the migration after it,
    the one that needs the table, meets the lock however the run waits for it.
    """

    def __init__(
        self, statement: sql.Composed, before: tuple[str, str], hold: float, write: Any
    ) -> None:
        self.statement = statement
        self.before = before
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
        applied = "SELECT 1 FROM django_migrations WHERE app = %s AND name = %s"
        # A second session: the blocker's own transaction would not see the row commit.
        with psycopg.connect(**self.params, autocommit=True) as monitor:
            while not monitor.execute(applied, self.before).fetchone():
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
            help="Seconds the blocker keeps its lock once the migration reaches its table (2).",
        )

    def handle(self, *args: Any, hold: float, **options: Any) -> None:
        name = settings.DATABASES["default"]["NAME"]
        if name != getattr(settings, "DEMO_DATABASE", None):
            raise CommandError(
                f"demo drops and recreates its database, and {name!r} is not DEMO_DATABASE; run "
                "it with the example project's settings (./dev demo)."
            )
        self.step(f"1/6 reset database {name} (drop and create; no other database is touched)")
        self.reset_database(name)
        self.step("2/6 apply part of the history: manage.py safemigrate shop 0002")
        self.manage("safemigrate", *PARTIAL_TARGET)
        self.step("3/6 seed customers, products and orders")
        self.seed()
        self.step(
            "4/6 pre-flight: a writer holds shop_customer open while 0003 adds a foreign key to "
            "it: manage.py safemigrate shop 0003"
        )
        writer = sql.SQL("UPDATE {} SET name = name WHERE id = 1").format(
            sql.Identifier("shop_customer")
        )
        with Blocker(writer, PARTIAL_TARGET, hold, self.note):
            self.manage("safemigrate", *PREFLIGHT_TARGET)
        command = " ".join(["safemigrate", *GUARDED_OPTIONS])
        self.step(f"5/6 lock timeouts: a reader holds shop_order: manage.py {command}")
        reader = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier("shop_order"))
        with Blocker(reader, PREFLIGHT_TARGET, hold, self.note):
            self.manage("safemigrate", *GUARDED_OPTIONS)
        self.show_history()
        self.step("6/6 admin user")
        self.create_admin()
        self.stdout.write(
            self.style.SUCCESS("\nThe demo database is ready. Open the admin with:")
            + "\n  ./dev manage runserver"
            + "\n  http://127.0.0.1:8000/admin/   user: admin   password: admin\n"
        )

    def step(self, message: str) -> None:
        self.stdout.write(self.style.MIGRATE_HEADING(f"\n== {message}"))

    def note(self, message: str) -> None:
        self.stdout.write(self.style.WARNING(f"   {message}"))

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
        command = [sys.executable, str(settings.BASE_DIR / "manage.py"), *arguments]
        if subprocess.run(command, check=False).returncode:
            raise CommandError(f"manage.py {' '.join(arguments)} failed; see its output above.")

    def seed(self) -> None:
        # The models of shop/models.py have columns later migrations add, so use the historical
        # models of the state the database is in.
        apps = MigrationLoader(connection).project_state(PARTIAL_TARGET).apps
        customer_model = apps.get_model("shop", "Customer")
        product_model = apps.get_model("shop", "Product")
        order_model = apps.get_model("shop", "Order")
        customers = customer_model.objects.bulk_create(
            customer_model(email=f"customer{n}@example.com", name=f"Customer {n}")
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
        """Print what the run history recorded of the guarded run, as the admin shows it."""
        from safemigrate.models import MigrationRun

        self.note("the run history recorded (admin: /admin/safemigrate/run/):")
        retried = MigrationRun.objects.filter(attempts__number__gt=1).distinct()
        for record in retried.prefetch_related("attempts"):
            attempts = list(record.attempts.all())
            pids = sorted({b["pid"] for a in attempts for b in a.blockers})
            self.note(
                f"  {record.app_label}.{record.name}: {record.status} after {len(attempts)} "
                f"attempts ({', '.join(a.outcome for a in attempts)}); blockers: {pids}"
            )

    def create_admin(self) -> None:
        user_model = get_user_model()
        if user_model.objects.filter(username="admin").exists():
            self.note("user admin exists")
            return
        user_model.objects.create_superuser("admin", "admin@example.com", "admin")
        self.note("created superuser admin (password: admin)")
