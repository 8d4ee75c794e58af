"""Postconditions: ``Verify`` (a query and the value it must return) and ``VerifyPython``.

They turn the seed's "verify data integrity" step into part of the migration: placed after
the operations they check, they run in the migration (under the guard, in its transaction
when it is atomic), are recorded in the run history, and fail the migration when they do
not hold.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import ProjectState

from safemigrate.exceptions import ConfigurationError
from safemigrate.verify.evaluate import Check, check_callable, check_query
from safemigrate.verify.operation import PostconditionOperation
from safemigrate.verify.results import CheckResult

#: How much of a query names a ``Verify`` without a description.
_LABEL_CHARS = 100


class Verify(PostconditionOperation):
    """Check that ``sql``, a query returning one value, returns ``expect`` (``True`` by default).

    ``Verify("SELECT count(*) FROM shop_product WHERE price_cents IS NULL", expect=0)``.
    Values go in ``params`` (``%s`` placeholders), never into the SQL text.
    """

    reduces_to_sql = True

    def __init__(
        self,
        sql: str,
        expect: Any = True,
        *,
        params: Sequence[Any] | None = None,
        description: str = "",
        hints: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(description=description, hints=hints)
        if not isinstance(sql, str) or not sql.strip():
            raise ConfigurationError(
                "Verify needs a query returning one value, e.g. "
                "Verify('SELECT count(*) FROM shop_product WHERE price_cents IS NULL', expect=0)."
            )
        if params is not None and (isinstance(params, str) or not isinstance(params, Sequence)):
            raise ConfigurationError(f"Verify's params must be a list of values, not {params!r}.")
        self.sql = sql
        self.expect = expect
        self.params = None if params is None else list(params)

    @property
    def label(self) -> str:
        if self.description:
            return self.description
        query = " ".join(self.sql.split())
        return query if len(query) <= _LABEL_CHARS else query[: _LABEL_CHARS - 3] + "..."

    def evaluate(
        self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, state: ProjectState
    ) -> CheckResult:
        return check_query(schema_editor.connection, self.sql, self.params, self.expect, self.label)

    def collect(self, schema_editor: BaseDatabaseSchemaEditor) -> None:
        schema_editor.execute(self.sql, self.params)

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        kwargs: dict[str, Any] = {"sql": self.sql}
        if self.expect is not True:
            kwargs["expect"] = self.expect
        if self.params is not None:
            kwargs["params"] = self.params
        return self.__class__.__qualname__, [], kwargs | self._base_kwargs()


class VerifyPython(PostconditionOperation):
    """Check that ``check(apps, schema_editor)`` returns a true value, with historical models.

    Like ``RunPython``'s code, ``check`` gets the models as they are at this point of the
    migrations; it returns ``True`` when the condition holds and ``False`` when it does not, or
    raises ``AssertionError`` with a message saying what it found.
    """

    reduces_to_sql = False

    def __init__(
        self,
        check: Check,
        *,
        description: str = "",
        hints: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(description=description, hints=hints)
        if not callable(check):
            raise ConfigurationError(
                "VerifyPython's check must be a function of (apps, schema_editor) returning "
                f"True when the condition holds, not {check!r}."
            )
        self.check = check

    @property
    def label(self) -> str:
        if self.description:
            return self.description
        doc = (getattr(self.check, "__doc__", None) or "").strip()
        if doc:
            return doc.splitlines()[0].rstrip(".")
        return str(getattr(self.check, "__name__", "check")).replace("_", " ")

    def evaluate(
        self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, state: ProjectState
    ) -> CheckResult:
        return check_callable(self.check, state.apps, schema_editor, self.label)

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        kwargs: dict[str, Any] = {"check": self.check}
        return self.__class__.__qualname__, [], kwargs | self._base_kwargs()
