"""Policy precedence, duration parsing and backoff, without a database."""

from __future__ import annotations

import random

import pytest

from safemigrate.conf import TablePolicy, parse_duration
from safemigrate.exceptions import ConfigurationError
from safemigrate.guard.timeouts import Backoff, Overrides, Policy, PolicyResolver
from safemigrate.postgres.statements import classify


@pytest.mark.parametrize(
    ("raw", "ms"),
    [
        (200, 200),
        ("200ms", 200),
        ("2s", 2000),
        ("1.5s", 1500),
        ("5min", 300_000),
        ("1h", 3_600_000),
        (0, 0),
    ],
)
def test_durations(raw, ms):
    assert parse_duration(raw, "X") == ms


@pytest.mark.parametrize("raw", ["soon", "-1s", -1, True, None, "5 parsecs", [1]])
def test_bad_durations_name_the_setting(raw):
    with pytest.raises(ConfigurationError, match=r"^X must"):
        parse_duration(raw, "X")


RESOLVER = PolicyResolver(
    defaults=Policy(200, 600_000, 30),
    tables={
        "hot": TablePolicy(lock_timeout_ms=50, retries=90),
        "warm": TablePolicy(lock_timeout_ms=100),
    },
    concurrent_statement_timeout_ms=0,
)


def test_table_policy_applies_to_statements_on_that_table():
    policy = RESOLVER.for_statement(Overrides(), classify('ALTER TABLE "hot" ADD COLUMN a int'))
    assert policy == Policy(50, 600_000, 90)


def test_strictest_table_policy_wins_for_a_statement_on_two_tables():
    sql = "ALTER TABLE warm ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES hot (id)"
    assert RESOLVER.for_statement(Overrides(), classify(sql)).lock_timeout_ms == 50


def test_explicit_overrides_beat_table_policy():
    policy = RESOLVER.for_statement(
        Overrides(lock_timeout_ms=1000), classify('ALTER TABLE "hot" ADD COLUMN a int')
    )
    assert policy.lock_timeout_ms == 1000
    assert policy.retries == 90


def test_run_overrides_beat_migration_overrides():
    merged = Overrides(lock_timeout_ms=10).over(Overrides(lock_timeout_ms=20, retries=3))
    assert merged == Overrides(lock_timeout_ms=10, retries=3)


def test_concurrently_is_exempt_from_the_lock_timeout():
    policy = RESOLVER.for_statement(Overrides(), classify("CREATE INDEX CONCURRENTLY i ON hot (a)"))
    assert policy.lock_timeout_ms == 0
    assert policy.statement_timeout_ms == 0


def test_backoff_grows_is_jittered_and_capped():
    backoff = Backoff(base_ms=100, max_ms=1000, deadline_ms=60_000)
    rng = random.Random(7)
    delays = [[backoff.delay_ms(n, rng) for n in range(1, 8)] for _ in range(50)]
    for run in delays:
        assert 50 <= run[0] <= 100
        assert 100 <= run[1] <= 200
        assert all(500 <= d <= 1000 for d in run[4:])
    assert len({run[2] for run in delays}) > 10, "jitter spreads retries apart"


def test_retries_double_the_lock_timeout_up_to_the_cap():
    resolver = PolicyResolver(Policy(200, 0, 30, 1000), {}, 0)
    timeouts = [resolver.for_attempt(resolver.defaults, n).lock_timeout_ms for n in range(6)]
    assert timeouts == [200, 400, 800, 1000, 1000, 1000]


def test_retry_lock_timeouts_give_the_retries_theirs():
    resolver = PolicyResolver(Policy(200, 0, 30, 1000), {}, 0, (300, 300, 600, 1000))
    timeouts = [resolver.for_attempt(resolver.defaults, n).lock_timeout_ms for n in range(7)]
    assert timeouts == [200, 300, 300, 600, 1000, 1000, 1000]


def test_an_explicit_first_timeout_is_the_floor_of_every_retry():
    resolver = PolicyResolver(Policy(200, 0, 30, 1000), {}, 0, (100, 400))
    first = resolver.for_statement(Overrides(lock_timeout_ms=250), [])
    assert [resolver.for_attempt(first, n).lock_timeout_ms for n in range(3)] == [250, 250, 400]


def test_a_first_timeout_above_the_cap_is_kept_for_every_attempt():
    resolver = PolicyResolver(Policy(200, 0, 30, 1000), {}, 0)
    first = resolver.for_statement(Overrides(lock_timeout_ms=2000), [])
    assert {resolver.for_attempt(first, n).lock_timeout_ms for n in range(4)} == {2000}


def test_a_storm_raises_the_attempt_to_outlast_it_within_the_cap():
    resolver = PolicyResolver(Policy(200, 0, 30, 1000), {}, 0)
    assert resolver.for_attempt(resolver.defaults, 0, at_least_ms=550).lock_timeout_ms == 550
    assert resolver.for_attempt(resolver.defaults, 0, at_least_ms=5000).lock_timeout_ms == 1000


def test_the_cap_follows_the_precedence_of_the_other_limits():
    resolver = PolicyResolver(
        Policy(200, 0, 30, 1000), {"hot": TablePolicy(lock_timeout_max_ms=300)}, 0
    )
    hot = classify('ALTER TABLE "hot" ADD COLUMN a int')
    assert resolver.for_statement(Overrides(), hot).lock_timeout_ceiling_ms == 300
    ours = resolver.for_statement(Overrides(lock_timeout_max_ms=2000), hot)
    assert resolver.for_attempt(ours, 5).lock_timeout_ms == 2000


def test_no_lock_timeout_never_escalates():
    resolver = PolicyResolver(Policy(200, 0, 30, 1000), {}, 0)
    build = resolver.for_statement(Overrides(), classify("CREATE INDEX CONCURRENTLY i ON t (a)"))
    assert resolver.for_attempt(build, 3, at_least_ms=500).lock_timeout_ms == 0
