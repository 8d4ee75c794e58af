"""PostgreSQL's table-level lock modes and which of them conflict.

The facts come from the "Table-Level Lock Modes" section of the PostgreSQL manual
(identical from PostgreSQL 12 to 17). They are data so that the guard (pre-flight, blocker
reports) and the analysis can share them.
"""

from __future__ import annotations

from enum import IntEnum


class LockMode(IntEnum):
    """Table lock modes, weakest first; the int order is the manual's order of strength."""

    ACCESS_SHARE = 1
    ROW_SHARE = 2
    ROW_EXCLUSIVE = 3
    SHARE_UPDATE_EXCLUSIVE = 4
    SHARE = 5
    SHARE_ROW_EXCLUSIVE = 6
    EXCLUSIVE = 7
    ACCESS_EXCLUSIVE = 8

    @property
    def pg_name(self) -> str:
        """The name ``pg_locks.mode`` uses, e.g. ``AccessExclusiveLock``."""
        return "".join(part.title() for part in self.name.split("_")) + "Lock"

    @classmethod
    def from_pg_name(cls, pg_name: str) -> LockMode | None:
        """Return the mode for a ``pg_locks.mode`` value, or None for non-table modes."""
        return _BY_PG_NAME.get(pg_name)

    def conflicts_with(self, other: LockMode) -> bool:
        """Return whether a session holding ``other`` makes a request for ``self`` wait."""
        return other in _CONFLICTS[self]

    @property
    def blocks_writes(self) -> bool:
        """Whether INSERT, UPDATE and DELETE (ROW EXCLUSIVE) wait while this is held."""
        return self.conflicts_with(LockMode.ROW_EXCLUSIVE)


_BY_PG_NAME = {mode.pg_name: mode for mode in LockMode}

_M = LockMode
_CONFLICTS: dict[LockMode, frozenset[LockMode]] = {
    _M.ACCESS_SHARE: frozenset({_M.ACCESS_EXCLUSIVE}),
    _M.ROW_SHARE: frozenset({_M.EXCLUSIVE, _M.ACCESS_EXCLUSIVE}),
    _M.ROW_EXCLUSIVE: frozenset(
        {_M.SHARE, _M.SHARE_ROW_EXCLUSIVE, _M.EXCLUSIVE, _M.ACCESS_EXCLUSIVE}
    ),
    _M.SHARE_UPDATE_EXCLUSIVE: frozenset(
        {
            _M.SHARE_UPDATE_EXCLUSIVE,
            _M.SHARE,
            _M.SHARE_ROW_EXCLUSIVE,
            _M.EXCLUSIVE,
            _M.ACCESS_EXCLUSIVE,
        }
    ),
    _M.SHARE: frozenset(
        {
            _M.ROW_EXCLUSIVE,
            _M.SHARE_UPDATE_EXCLUSIVE,
            _M.SHARE_ROW_EXCLUSIVE,
            _M.EXCLUSIVE,
            _M.ACCESS_EXCLUSIVE,
        }
    ),
    _M.SHARE_ROW_EXCLUSIVE: frozenset(
        {
            _M.ROW_EXCLUSIVE,
            _M.SHARE_UPDATE_EXCLUSIVE,
            _M.SHARE,
            _M.SHARE_ROW_EXCLUSIVE,
            _M.EXCLUSIVE,
            _M.ACCESS_EXCLUSIVE,
        }
    ),
    _M.EXCLUSIVE: frozenset(set(LockMode) - {_M.ACCESS_SHARE}),
    _M.ACCESS_EXCLUSIVE: frozenset(LockMode),
}
