"""Which timeouts and retries apply to a migration, to each of its statements and attempts.

Precedence, strongest first: the run's options (``--lock-timeout``...), the migration's own
``safemigrate`` attribute, the per-table policy in ``SAFEMIGRATE['TABLES']``, the defaults
in settings. ``CONCURRENTLY`` statements are exempt from the lock timeout: they wait for
older transactions by design, without blocking anyone.

The lock timeout a policy names is the first attempt's. Retries wait longer, up to the
policy's ceiling (``LOCK_TIMEOUT_MAX``), as GitLab's ``with_lock_retries`` does: under a
storm of short transactions no moment is free, and only an attempt that outwaits the
transactions holding the table gets in. The ceiling is the longest any query waits behind one
attempt, whatever the traffic.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from django.db.migrations import Migration

from safemigrate.conf import TablePolicy, conf, parse_count, parse_duration
from safemigrate.declarations import migration_attribute
from safemigrate.exceptions import ConfigurationError
from safemigrate.postgres.statements import StatementInfo


@dataclass(frozen=True)
class Policy:
    """The limits one migration or statement runs under (milliseconds; 0 means none)."""

    lock_timeout_ms: int
    statement_timeout_ms: int
    retries: int
    #: How far retries may raise the lock timeout; never below the first attempt's.
    lock_timeout_max_ms: int = 0

    @property
    def lock_timeout_ceiling_ms(self) -> int:
        """The longest lock timeout any attempt runs under (0: no lock timeout at all)."""
        if not self.lock_timeout_ms:
            return 0
        return max(self.lock_timeout_ms, self.lock_timeout_max_ms)


@dataclass(frozen=True)
class Overrides:
    """Values set explicitly (by the run or the migration), which table policies don't replace."""

    lock_timeout_ms: int | None = None
    statement_timeout_ms: int | None = None
    retries: int | None = None
    lock_timeout_max_ms: int | None = None

    def over(self, weaker: Overrides) -> Overrides:
        """Return these overrides with ``weaker`` filling what these leave unset."""
        return Overrides(
            _first(self.lock_timeout_ms, weaker.lock_timeout_ms),
            _first(self.statement_timeout_ms, weaker.statement_timeout_ms),
            _first(self.retries, weaker.retries),
            _first(self.lock_timeout_max_ms, weaker.lock_timeout_max_ms),
        )


def _first(*values: int | None) -> int | None:
    return next((value for value in values if value is not None), None)


def migration_overrides(migration: Migration) -> Overrides:
    """Read and validate the migration's ``safemigrate = {...}`` attribute."""
    raw, where = migration_attribute(migration)
    return _overrides(raw, lambda key: f"{where}[{key!r}]")


def _overrides(raw: Mapping[str, Any], name_of: Callable[[str], str]) -> Overrides:
    def value(key: str, parse: Callable[[object, str], int]) -> int | None:
        return None if raw.get(key) is None else parse(raw[key], name_of(key))

    overrides = Overrides(
        value("lock_timeout", parse_duration),
        value("statement_timeout", parse_duration),
        value("retries", parse_count),
        value("lock_timeout_max", parse_duration),
    )
    if overrides.lock_timeout_max_ms == 0:
        raise ConfigurationError(
            f"{name_of('lock_timeout_max')} must be above zero, e.g. '1s': it is the longest "
            "lock timeout a retry may grow to."
        )
    return overrides


def run_overrides(options: Mapping[str, Any]) -> Overrides:
    """Read ``--lock-timeout``, ``--lock-timeout-max``, ``--statement-timeout``, ``--retries``."""
    return _overrides(options, lambda key: "--" + key.replace("_", "-"))


@dataclass(frozen=True)
class PolicyResolver:
    """Turn settings, table policies and overrides into the Policy of each statement."""

    defaults: Policy
    tables: Mapping[str, TablePolicy]
    concurrent_statement_timeout_ms: int
    #: ``RETRY_LOCK_TIMEOUTS``: the retries' lock timeouts; empty doubles each time.
    retry_lock_timeouts_ms: tuple[int, ...] = ()
    #: Each statement's policy, by what decides it: a run asks once per statement, for a few
    #: distinct answers.
    _statement_policies: dict[tuple[Overrides, frozenset[str], bool], Policy] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @classmethod
    def from_settings(cls) -> PolicyResolver:
        return cls(
            defaults=Policy(
                conf.lock_timeout_ms,
                conf.statement_timeout_ms,
                conf.retries,
                conf.lock_timeout_max_ms,
            ),
            tables=conf.tables,
            concurrent_statement_timeout_ms=conf.concurrent_statement_timeout_ms,
            retry_lock_timeouts_ms=conf.retry_lock_timeouts_ms,
        )

    def for_attempt(self, policy: Policy, steps: int, at_least_ms: int = 0) -> Policy:
        """Return ``policy`` with the lock timeout of an attempt ``steps`` rungs up the ladder.

        Rung 0 is the policy's own lock timeout, the first attempt's; each rung above takes
        the next of ``RETRY_LOCK_TIMEOUTS``, or doubles, never below the first nor above the
        ceiling. ``at_least_ms`` raises it to what a storm's transactions were seen to last
        (still capped): shorter attempts are known to fail.
        """
        first = policy.lock_timeout_ms
        if not first:
            return policy
        if steps == 0:
            rung = first
        elif self.retry_lock_timeouts_ms:
            ladder = self.retry_lock_timeouts_ms
            rung = ladder[min(steps, len(ladder)) - 1]
        else:
            rung = first * 2**steps
        timeout = min(policy.lock_timeout_ceiling_ms, max(first, rung, at_least_ms))
        return policy if timeout == first else replace(policy, lock_timeout_ms=timeout)

    def for_migration(self, overrides: Overrides) -> Policy:
        """Return the limits a migration starts with, before any table policy."""
        return _apply(self.defaults, overrides)

    def for_statement(self, overrides: Overrides, statements: Iterable[StatementInfo]) -> Policy:
        """Return the limits for one statement: table policies, then overrides on top."""
        statements = tuple(statements)
        tables = frozenset(
            lock.name for info in statements for lock in info.locks if lock.name in self.tables
        )
        key = (overrides, tables, any(info.concurrently for info in statements))
        policy = self._statement_policies.get(key)
        if policy is None:
            policy = self._statement_policies[key] = self._resolve(*key)
        return policy

    def _resolve(self, overrides: Overrides, tables: frozenset[str], concurrently: bool) -> Policy:
        policy = _apply(_apply(self.defaults, self._table_overrides(tables)), overrides)
        if concurrently:
            return replace(
                policy,
                lock_timeout_ms=0,
                statement_timeout_ms=self.concurrent_statement_timeout_ms,
            )
        return policy

    def _table_overrides(self, tables: frozenset[str]) -> Overrides:
        """Combine the policies of every table a statement touches: the strictest wins."""
        policies = [self.tables[table] for table in tables]
        lock = [p.lock_timeout_ms for p in policies if p.lock_timeout_ms is not None]
        stmt = [p.statement_timeout_ms for p in policies if p.statement_timeout_ms is not None]
        retries = [p.retries for p in policies if p.retries is not None]
        cap = [p.lock_timeout_max_ms for p in policies if p.lock_timeout_max_ms is not None]
        return Overrides(
            min(lock, default=None),
            min(stmt, default=None),
            max(retries, default=None),
            min(cap, default=None),
        )


def _apply(policy: Policy, overrides: Overrides) -> Policy:
    return Policy(
        lock_timeout_ms=_first(overrides.lock_timeout_ms, policy.lock_timeout_ms) or 0,
        statement_timeout_ms=_first(overrides.statement_timeout_ms, policy.statement_timeout_ms)
        or 0,
        retries=_first(overrides.retries, policy.retries) or 0,
        lock_timeout_max_ms=_first(overrides.lock_timeout_max_ms, policy.lock_timeout_max_ms) or 0,
    )


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter, bounded per pause and in total."""

    base_ms: int
    max_ms: int
    deadline_ms: int

    @classmethod
    def from_settings(cls) -> Backoff:
        return cls(conf.retry_backoff_ms, conf.retry_backoff_max_ms, conf.retry_deadline_ms)

    def delay_ms(self, retry: int, rng: random.Random | None = None) -> int:
        """Return the pause before retry number ``retry`` (1-based).

        Half of the pause is fixed and half random ("equal jitter"), so that several
        blocked deploys do not come back at the same instant.
        """
        ceiling = min(self.max_ms, self.base_ms * 2 ** (retry - 1))
        return int(ceiling / 2 + (rng or random).uniform(0, ceiling / 2))
