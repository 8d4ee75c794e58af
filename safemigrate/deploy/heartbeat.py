"""The heartbeat of each application process: who runs, where, and which migrations it ships.

Which processes: web processes and task workers, the ones serving old or new code during a
deploy. A web process starts its heartbeat on its first request (Django's
``request_started``, sent by the WSGI and ASGI handlers alike, ``runserver`` included), a
task worker on its first task (the tasks framework's ``task_started``, except the immediate
backend's, which runs tasks inside the process that enqueued them). Other workers (Celery,
RQ, a custom loop) call ``start("worker")`` once at start. Shells, one-off commands and
``safemigrate`` itself serve no request and run no task: they never report. Nor does a test
run (Django's test environment is set up), nor a project with ``LIVE_PROCESS_GATE`` off.

What it costs: after the first request, nothing per request (the receiver disconnects
itself); one daemon thread per process upserts one row every ``LIVE_PROCESS_HEARTBEAT``
on a connection it opens and closes each time, so it holds no connection between beats.
The migration graph is read once, in that thread.

What it never does: fail or slow the application. Any error of a beat (database down, table
not migrated yet, a read-only replica) is logged once as a warning and the next beat tries
again without another word; the request path never waits for the database.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
from datetime import datetime
from typing import Any

from django.core import mail
from django.core.signals import request_started
from django.db import connections, router
from django.utils import timezone

from safemigrate.compat import tasks_module
from safemigrate.conf import conf
from safemigrate.deploy.shipped import Shipped, code_graph
from safemigrate.exceptions import ConfigurationError
from safemigrate.models import AppProcess

logger = logging.getLogger("safemigrate.heartbeat")

_UID = "safemigrate.heartbeat"
_lock = threading.Lock()
_running_pid: int | None = None
#: When Django started in this process: part of its identity, with host and pid.
STARTED_AT: datetime = timezone.now()


def connect() -> None:
    """Start the heartbeat on this process's first request or task (called from ``ready()``)."""
    request_started.connect(_on_request, dispatch_uid=_UID)
    tasks = tasks_module()
    signals = getattr(tasks, "signals", None)
    if signals is not None and hasattr(signals, "task_started"):
        signals.task_started.connect(_on_task, dispatch_uid=_UID)


def _on_request(sender: Any, **kwargs: Any) -> None:
    start("web")
    request_started.disconnect(dispatch_uid=_UID)


def _on_task(sender: Any, **kwargs: Any) -> None:
    if getattr(sender, "__name__", "") != "ImmediateBackend":
        start("worker")


def start(kind: str = "worker") -> bool:
    """Start this process's heartbeat (once per process); return whether it runs.

    Call it from a worker that is neither a web process nor a tasks framework worker, e.g.
    Celery's ``worker_process_init`` signal.
    """
    global _running_pid
    with _lock:
        if _running_pid == os.getpid():
            return True
        reason = disabled_reason()
        if reason:
            logger.debug("safemigrate: no heartbeat for this process: %s.", reason)
            return False
        beat = Heartbeat(kind)
        threading.Thread(target=beat.run, name="safemigrate-heartbeat", daemon=True).start()
        _running_pid = os.getpid()
    return True


def disabled_reason() -> str:
    """Say why this process must not report, or return ``""`` if it should."""
    try:
        if not conf.live_process_gate:
            return "SAFEMIGRATE['LIVE_PROCESS_GATE'] is off"
        conf.live_process_heartbeat_ms  # noqa: B018 - a bad one must not kill the thread
    except ConfigurationError as error:
        return str(error)
    # setup_test_environment() gives django.core.mail an outbox; only test runs have one.
    if hasattr(mail, "outbox"):
        return "this is a test run"
    return ""


class Heartbeat:
    """One process's reports: the first at once, then one every ``LIVE_PROCESS_HEARTBEAT``."""

    def __init__(self, kind: str, identity: tuple[str, int, datetime] | None = None) -> None:
        self.kind = kind
        #: (host, pid, start time): this process's, unless a test stands in for another.
        self.identity = identity or (socket.gethostname(), os.getpid(), STARTED_AT)
        self.shipped: Shipped | None = None
        self.warned = False
        self.stopped = threading.Event()

    def run(self) -> None:
        interval = conf.live_process_heartbeat_ms / 1000
        while not self.stopped.is_set():
            self.beat()
            with contextlib.suppress(Exception):  # hold no connection between beats
                connections[router.db_for_write(AppProcess)].close()
            self.stopped.wait(interval)

    def beat(self) -> bool:
        """Upsert this process's row; on any error log once, and return False."""
        try:
            self.shipped = self.shipped or Shipped.of(code_graph())
            self._upsert(self.shipped)
        except Exception as error:  # the application must never see it
            if not self.warned:
                logger.warning(
                    "safemigrate: this process cannot report its migrations (%s: %s); "
                    "post-deploy migrations will not wait for it. It keeps trying quietly.",
                    type(error).__name__,
                    error,
                )
            self.warned = True
            return False
        return True

    def _upsert(self, shipped: Shipped) -> None:
        connection = connections[router.db_for_write(AppProcess)]
        if connection.vendor != "postgresql":
            raise ConfigurationError(f"database {connection.alias!r} is not PostgreSQL")
        table = connection.ops.quote_name(AppProcess._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (host, pid, started_at, seen_at, kind, "
                "migrations_digest, leaf_migrations, migration_count) "
                "VALUES (%s, %s, %s, now(), %s, %s, %s::jsonb, %s) "
                "ON CONFLICT (host, pid, started_at) DO UPDATE SET seen_at = now()",
                [
                    *self.identity,
                    self.kind,
                    shipped.digest,
                    json.dumps(list(shipped.leaves)),
                    shipped.count,
                ],
            )
