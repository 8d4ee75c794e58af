"""The timeouts the migration connection's session holds during a run, and its own to put back.

Setting the timeouts in each atomic migration's own transaction cost three round trips per
migration: the ``SET LOCAL``, and the ``SAVEPOINT`` and ``RELEASE`` of the schema editor's
atomic block, then nested in ours. The run sets them once for the session instead, sets them
again only when a migration needs other values or its SQL may have changed them, and puts the
session's own values back when the plan is done, before ``post_migrate`` handlers run.

Behind a transaction-mode pooler a session setting would reach whoever gets that server
connection next: there the guard keeps ``SET LOCAL`` in each migration's transaction and this
object never touches the session.
"""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper

from safemigrate.guard.timeouts import Policy
from safemigrate.postgres.sessions import current_settings, set_settings
from safemigrate.postgres.statements import StatementInfo

_NAMES = ["lock_timeout", "statement_timeout"]

# Statements that may change a session setting: SET, RESET (ALL), SET ROLE, SET SESSION
# AUTHORIZATION, DISCARD ALL; DO blocks and procedures may run any of them. SET LOCAL is among
# them though it ends with its transaction: setting again once too often costs one round trip.
_SETTING_KINDS = {"VariableSetStmt", "DiscardStmt", "DoStmt", "CallStmt"}


def timeout_settings(policy: Policy) -> dict[str, str]:
    """Return the server settings that carry ``policy``'s timeouts."""
    return {
        "lock_timeout": str(policy.lock_timeout_ms),
        "statement_timeout": str(policy.statement_timeout_ms),
    }


def may_change_settings(sql: str, infos: tuple[StatementInfo, ...]) -> bool:
    """Whether running ``sql`` may change the session's settings (on the safe side)."""
    if "set_config" in sql.lower():
        return True
    return any(not info.parsed or info.kind in _SETTING_KINDS for info in infos)


class SessionTimeouts:
    """Set timeouts for the session of ``connection`` only when it does not hold them yet."""

    def __init__(self, connection: BaseDatabaseWrapper) -> None:
        self.connection = connection
        #: The driver connection the values below belong to: another one is a new session.
        self._session: object | None = None
        self._own: dict[str, str] = {}
        #: The timeouts set on the session; ``None`` when its SQL may have changed them.
        self._held: dict[str, str] | None = None

    def holds(self, policy: Policy) -> bool:
        """Whether the session runs under ``policy``'s timeouts already."""
        return (
            self._held == timeout_settings(policy) and self._session is self.connection.connection
        )

    def hold(self, policy: Policy) -> None:
        """Set ``policy``'s timeouts for the session, remembering its own values first."""
        if self.holds(policy):
            return
        values = timeout_settings(policy)
        with self.connection.cursor() as cursor:
            if self._session is not self.connection.connection:
                self._own = current_settings(cursor.cursor, _NAMES)
                self._session = self.connection.connection
            set_settings(cursor.cursor, values, local=False)
        self._held = values

    def forget(self) -> None:
        """Note that a statement may have changed the settings: set them again when needed."""
        self._held = None

    def restore(self, *, failed: bool = False) -> None:
        """Put the session's own values back, if the run set any on the session it still has.

        After a failure the connection is asked first (a round trip): the failure may have
        been the connection's, and a second error here would hide the first.
        """
        session, self._session, self._held = self._session, None, None
        if session is None or session is not self.connection.connection:
            return
        if failed and not self.connection.is_usable():
            return
        with self.connection.cursor() as cursor:
            set_settings(cursor.cursor, self._own, local=False)
