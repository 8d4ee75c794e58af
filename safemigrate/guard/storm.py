"""Tell a lock storm from a long transaction, from the ages of the transactions holding a table.

A long transaction ends when it ends: waiting for it outside the lock queue harms nobody, and
the table is free after. A storm is a stream of short transactions that keep replacing each
other (a read-heavy application): each ends soon, yet the table is never free, so waiting for
a quiet moment only delays the deploy. What the storm leaves is a floor: a lock request must
queue for the longest remaining time of the transactions holding the table when it arrives
(later ones queue behind it), so an attempt whose lock timeout outlasts the storm's
transactions gets in after at most one of them.

The side connection sees each holder's pid and transaction age at every poll. An age only
grows while its transaction lives, so a holder that is gone, or whose age dropped (a new
transaction on the same backend), has ended, and its last age is how long it lasted (less at
most one poll).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from safemigrate.postgres.sessions import Session

#: A holder older than this many times the longest transaction seen to end is no part of a
#: storm: it is a long transaction, to be waited for outside the queue.
LONG_FACTOR = 2


@dataclass(frozen=True)
class Storm:
    """What the pre-flight saw of a lock storm on one table."""

    table: str
    #: Holders seen to end and be replaced by others, and over how long.
    ended: int
    watched_ms: int
    #: The longest any of them was seen to last: about what an attempt must outwait.
    longest_ms: int

    def describe(self) -> str:
        """One line for the terminal and the history."""
        return (
            f"lock storm on {self.table}: {self.ended} transaction(s) holding it ended within "
            f"{self.watched_ms / 1000:.1f}s and others took their place (the longest lasted "
            f"{self.longest_ms / 1000:.2f}s); the table is never free"
        )


@dataclass
class HolderWatch:
    """Follow the transactions holding a table, poll by poll, and say when it is a storm.

    ``ceiling_ms`` is the longest lock timeout an attempt may use: a holder older than it
    and than ``LONG_FACTOR`` times what the storm's transactions last is a long transaction.
    """

    table: str
    ceiling_ms: int
    ended: int = 0
    longest_ended_ms: int = 0
    watched_ms: int = 0
    _ages_ms: dict[int, int] = field(default_factory=dict)
    #: Holders whose transaction began while we watched: the replacements.
    _new: set[int] = field(default_factory=set)
    _polls: int = 0

    def observe(self, holders: list[Session], elapsed_ms: int) -> None:
        """Take one poll's holders; ``elapsed_ms`` is the time since the watch began."""
        ages = {s.pid: int((s.transaction_age_s or 0) * 1000) for s in holders}
        for pid, before in self._ages_ms.items():
            after = ages.get(pid)
            if after is None or after < before:
                self.ended += 1
                self.longest_ended_ms = max(self.longest_ended_ms, before)
                self._new.discard(pid)
        if self._polls:
            self._new |= {pid for pid, age in ages.items() if age < self._ages_ms.get(pid, age + 1)}
        self._new &= set(ages)
        self._ages_ms = ages
        self._polls += 1
        self.watched_ms = elapsed_ms

    def storm(self) -> Storm | None:
        """Return the storm, once holders were seen to end and others to take their place."""
        if not self.ended or not self._new:
            return None
        horizon_ms = max(self.ceiling_ms, LONG_FACTOR * self.longest_ended_ms)
        if any(age > horizon_ms for age in self._ages_ms.values()):
            return None  # a long transaction among them: wait for it outside the queue
        return Storm(self.table, self.ended, self.watched_ms, self.longest_ended_ms)


def long_among(holders: list[Session], storm: Storm, ceiling_ms: int) -> list[Session]:
    """Return the holders that outlive a storm seen before: long transactions after all."""
    horizon_s = max(ceiling_ms, LONG_FACTOR * storm.longest_ms) / 1000
    return [s for s in holders if (s.transaction_age_s or 0) > horizon_s]
