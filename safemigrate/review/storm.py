"""The worst stall a lock storm could cause with the current settings, for the runbook.

Under a storm of short transactions no moment is free, so a migration's attempt has to queue
for its lock, and every query on the table queues behind it. Each attempt gives up after its
lock timeout, and the guard never lets a retry's grow past the ceiling: the larger of the
first attempt's (``LOCK_TIMEOUT``) and ``LOCK_TIMEOUT_MAX``, or the table's own from
``TABLES``. That ceiling is the longest a query waits behind the migration, known before the
deploy: the runbook states it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from safemigrate.conf import TablePolicy, conf


def storm_stall(tables: Sequence[str]) -> dict[str, Any]:
    """Return the longest a query on ``tables`` may wait behind one attempt, per table and worst.

    Command-line options and a migration's own ``safemigrate`` limits can change it for a run.
    """
    policies = conf.tables
    per_table = {table: _ceiling_ms(policies.get(table)) for table in tables}
    worst_ms = max(per_table.values(), default=_ceiling_ms(None))
    return {
        "worst_stall_ms": worst_ms,
        "worst_stall": _format(worst_ms),
        "first_attempt_ms": conf.lock_timeout_ms,
        "tables": per_table,
    }


def _ceiling_ms(policy: TablePolicy | None) -> int:
    first = conf.lock_timeout_ms
    cap = conf.lock_timeout_max_ms
    if policy is not None:
        first = first if policy.lock_timeout_ms is None else policy.lock_timeout_ms
        cap = cap if policy.lock_timeout_max_ms is None else policy.lock_timeout_max_ms
    return max(first, cap) if first else 0


def _format(ms: int) -> str:
    if not ms:
        return "no limit (LOCK_TIMEOUT is 0): an attempt queues until it gets its lock"
    return f"{ms / 1000:.1f} s behind each attempt, at most (the largest lock timeout a retry uses)"
