"""Keep two columns equal with a database trigger, made and listed by django-pgtrigger.

While a column is replaced by another (renamed, or given a new type), old code writes only
the old column and new code only the new one: a ``BEFORE INSERT OR UPDATE`` trigger copies
each write to the other side, so neither needs dual-write code and no write is lost. The
trigger is a ``pgtrigger.Trigger``, so ``manage.py pgtrigger ls`` lists it; while a
transition is open across deploys, ``register_open`` puts it in pgtrigger's registry, so
``pgtrigger prune`` (and ``PGTRIGGER_INSTALL_ON_MIGRATE``'s prune) leaves it alone.

Two forms: a **two-way** sync (a rename: both codes run at once, each writing its own
column) and a **one-way** sync into a shadow column that no code knows yet (a type change
under the same name, a copy into a shadow table).
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from typing import Any

import pgtrigger
from django.apps.registry import Apps
from django.db import models

from safemigrate.operations.base import Editor, execute, probe
from safemigrate.postgres import columns as catalog
from safemigrate.postgres.rewrite import qualified
from safemigrate.postgres.tables import quote_identifier, quote_relation

logger = logging.getLogger("safemigrate.operations")

#: Every trigger of a transition is named so, in Django and in the catalog (``sm_sync_...``).
SYNC_PREFIX = "sm_sync_"
#: Their names in PostgreSQL, for ``LIKE``: never ``pgtrigger_...``, which is pgtrigger's to prune.
PGID_PATTERN = r"sm\_sync\_%"


@dataclass(frozen=True)
class Sync:
    """Two columns of a table kept equal while one replaces the other.

    ``forward`` computes ``target`` from ``source`` and ``backward`` the reverse, as SQL
    expressions naming the columns bare (``price * 100``); ``backward`` is ``None`` for a
    one-way copy into a shadow column.
    """

    table: str
    source: str
    target: str
    forward: str
    backward: str | None = None

    @property
    def name(self) -> str:
        """The trigger's name: readable, unique per table and pair of columns, <= 47 chars."""
        slug = re.sub(r"[^a-z0-9]+", "_", self.target.lower()).strip("_")[:22]
        key = f"{self.table}\0{self.source}\0{self.target}".encode()
        return f"{SYNC_PREFIX}{slug}_{hashlib.md5(key, usedforsecurity=False).hexdigest()[:8]}"

    def body(self) -> str:
        """The trigger function's body (PL/pgSQL), between BEGIN and END."""
        source, target = _new(self.source), _new(self.target)
        forward = _expression(self.forward, self.source, "forward")
        if self.backward is None:
            return f"{target} := {forward}; RETURN NEW;"
        backward = _expression(self.backward, self.target, "backward")
        old_source, old_target = _old(self.source), _old(self.target)
        return (
            "IF TG_OP = 'INSERT' THEN "
            f"IF {target} IS NULL THEN {target} := {forward}; "
            f"ELSE {source} := {backward}; END IF; "
            f"ELSIF {source} IS DISTINCT FROM {old_source} "
            f"AND {target} IS NOT DISTINCT FROM {old_target} THEN {target} := {forward}; "
            f"ELSIF {target} IS DISTINCT FROM {old_target} "
            f"AND {source} IS NOT DISTINCT FROM {old_source} THEN {source} := {backward}; "
            f"ELSIF {target} IS NULL THEN {target} := {forward}; "
            f"ELSIF {source} IS NULL THEN {source} := {backward}; "
            "END IF; RETURN NEW;"
        )


def _new(column: str) -> str:
    return f"NEW.{quote_identifier(column)}"


def _old(column: str) -> str:
    return f"OLD.{quote_identifier(column)}"


def _expression(sql: str, column: str, which: str) -> str:
    """The expression with its column read from the row being written (``NEW.column``)."""
    expression, names = qualified(sql, "new")
    if names - {column}:
        raise ValueError(
            f"The {which} expression {sql!r} may name only the column {column!r}, not "
            f"{', '.join(sorted(names - {column}))}: the trigger fires on writes of the two "
            "columns it keeps equal."
        )
    return expression


def check_expressions(sync: Sync) -> None:
    """Raise ``ValueError`` naming what is wrong with a sync's expressions."""
    sync.body()


class ManagedTrigger(pgtrigger.Trigger):
    """A trigger only safemigrate's migrations install and drop.

    pgtrigger names its triggers ``pgtrigger_<name>_<hash>`` and prunes every one so named
    that no model registers; this one is named ``<name>_<hash>`` (``sm_sync_...``), so no
    ``pgtrigger prune`` (nor ``PGTRIGGER_INSTALL_ON_MIGRATE``'s) ever drops it while its
    transition is open, registered or not. ``pgtrigger install`` and ``uninstall`` leave it
    alone too: one outliving its columns or tables would fail every write to the table.
    """

    def get_pgid(self, model: Any) -> str:
        return super().get_pgid(model).removeprefix("pgtrigger_")

    def install(self, model: Any, database: str | None = None) -> None:
        logger.info("pgtrigger install skips %s: safemigrate's migrations manage it", self.name)

    def uninstall(self, model: Any, database: str | None = None) -> None:
        logger.info("pgtrigger uninstall skips %s: safemigrate's migrations manage it", self.name)


class SyncTrigger(ManagedTrigger):
    """The trigger that keeps ``sync``'s two columns equal (a ``pgtrigger.Trigger``)."""

    when = pgtrigger.Before

    def __init__(self, sync: Sync) -> None:
        self.sync = sync
        columns = [quote_identifier(sync.source), quote_identifier(sync.target)]
        super().__init__(
            name=sync.name,
            operation=pgtrigger.Insert | pgtrigger.UpdateOf(*columns),  # type: ignore[no-untyped-call]
            func=sync.body(),
        )


def pgid(model: Any, trigger: Sync | pgtrigger.Trigger) -> str:
    """The trigger's (and its function's) name in PostgreSQL."""
    return _trigger(trigger).get_pgid(model)


def _trigger(trigger: Sync | pgtrigger.Trigger) -> pgtrigger.Trigger:
    return SyncTrigger(trigger) if isinstance(trigger, Sync) else trigger


def installed(schema_editor: Editor, model: Any, trigger: Sync | pgtrigger.Trigger) -> bool:
    """Whether the trigger is on the model's table (``False`` when only collecting SQL)."""
    name = pgid(model, trigger)
    table = model._meta.db_table
    return bool(probe(schema_editor, catalog.trigger_exists, table, name, default=False))


def install(schema_editor: Editor, model: Any, trigger: Sync | pgtrigger.Trigger) -> None:
    """Create the trigger and its function: one statement string, one short transaction.

    ``CREATE TRIGGER`` waits for the table's running writes (SHARE ROW EXCLUSIVE): the guard's
    lock timeout and retries apply to it as to any statement.
    """
    execute(schema_editor, _trigger(trigger).compile(model).install_sql)


def uninstall(schema_editor: Editor, model: Any, trigger: Sync | pgtrigger.Trigger) -> None:
    """Drop the trigger and its function (pgtrigger's own uninstall keeps the function)."""
    execute(schema_editor, drop_sql(model._meta.db_table, pgid(model, trigger)))


def drop_sql(table: str, name: str) -> str:
    """SQL dropping trigger ``name`` of ``table`` and its function, if they are there."""
    trigger = quote_identifier(name)
    return (
        f"DROP TRIGGER IF EXISTS {trigger} ON {quote_relation(table)}; "
        f"DROP FUNCTION IF EXISTS {trigger}()"
    )


#: URIs registered in this process, so that registering twice changes nothing.
_registered: dict[str, pgtrigger.Trigger] = {}


def register(app_label: str, object_name: str, table: str, trigger: pgtrigger.Trigger) -> None:
    """Put a trigger in pgtrigger's registry, on a stand-in for its model (of ``table``).

    ``pgtrigger ls`` then shows it installed, and ``pgtrigger prune`` keeps it. The stand-in
    lives in an app registry of its own: Django's model state, and so ``makemigrations``,
    never sees the trigger.
    """
    uri = f"{app_label}.{object_name}:{trigger.name}"
    if uri in _registered:
        return
    trigger.register(_stand_in(app_label, object_name, table))  # type: ignore[arg-type]
    _registered[uri] = trigger


def _stand_in(app_label: str, object_name: str, table: str) -> type[models.Model]:
    """An unmanaged model of ``table`` under the model's name, in a registry of its own."""
    meta = type(
        "Meta", (), {"app_label": app_label, "db_table": table, "managed": False, "apps": Apps()}
    )
    return type(object_name, (models.Model,), {"__module__": __name__, "Meta": meta})
