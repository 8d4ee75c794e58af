"""Telling a storm from a long transaction, poll by poll, from the holders' ages alone."""

from __future__ import annotations

from safemigrate.guard.storm import HolderWatch, Storm, long_among
from safemigrate.postgres.sessions import Session


def holder(pid: int, age_s: float) -> Session:
    return Session(pid, "", None, None, "active", age_s, age_s, ("AccessShareLock",), "t", "")


def watch(*polls: list[Session], ceiling_ms: int = 1000) -> HolderWatch:
    seen = HolderWatch("t", ceiling_ms)
    for number, holders in enumerate(polls):
        seen.observe(holders, number * 100)
    return seen


def test_one_transaction_growing_older_is_no_storm():
    seen = watch(*[[holder(7, 0.3 + n / 10)] for n in range(30)])
    assert seen.storm() is None
    assert seen.ended == 0


def test_holders_replaced_by_others_are_a_storm():
    seen = watch(
        [holder(1, 0.30), holder(2, 0.22)],
        [holder(2, 0.32), holder(3, 0.21)],  # 1 ended after at least 0.3 s; 3 is new
    )
    assert seen.storm() == Storm("t", ended=1, watched_ms=100, longest_ms=300)


def test_a_new_transaction_on_the_same_backend_is_a_replacement():
    seen = watch([holder(1, 0.35)], [holder(1, 0.25)])  # its age dropped: it began again
    storm = seen.storm()
    assert storm is not None
    assert (storm.ended, storm.longest_ms) == (1, 350)


def test_holders_that_end_without_replacement_are_no_storm():
    seen = watch([holder(1, 0.3), holder(2, 0.25)], [holder(2, 0.35)])
    assert seen.storm() is None  # the table may be free in a moment: keep waiting


def test_a_long_transaction_amid_short_ones_is_waited_for():
    seen = watch(
        [holder(1, 0.3), holder(9, 5.0)],
        [holder(2, 0.25), holder(9, 5.1)],
    )
    assert seen.storm() is None


def test_storms_of_long_transactions_are_storms_too():
    # Each lasts 1.5 s, longer than any attempt may wait: a storm the retries cannot outwait.
    seen = watch([holder(1, 1.45), holder(2, 0.9)], [holder(2, 1.0), holder(3, 0.3)])
    storm = seen.storm()
    assert storm is not None
    assert storm.longest_ms == 1450


def test_a_holder_far_older_than_the_storm_is_a_long_transaction():
    storm = Storm("t", ended=3, watched_ms=500, longest_ms=400)
    holders = [holder(1, 0.3), holder(2, 0.9), holder(3, 1.2)]
    assert [s.pid for s in long_among(holders, storm, ceiling_ms=1000)] == [3]
