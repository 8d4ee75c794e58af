"""Every safe alternative the analysis rules name is an operation of safemigrate.operations."""

from __future__ import annotations

import safemigrate.operations as operations
from safemigrate.analysis.rules import RULES, SAFE_OPERATIONS

#: Named by the rules, written with the backfill work (issue 5), not with these operations.
ELSEWHERE = {"Backfill"}


def test_every_operation_a_rule_names_exists() -> None:
    names = {path.rsplit(".", 1)[1] for path in SAFE_OPERATIONS}
    missing = {name for name in names if not hasattr(operations, name)}
    assert missing <= ELSEWHERE
    assert names - ELSEWHERE <= set(operations.__all__)


def test_the_rules_good_examples_use_existing_operations() -> None:
    for rule in RULES.values():
        for path in rule.operations:
            name = path.rsplit(".", 1)[1]
            assert name in ELSEWHERE or hasattr(operations, name), (rule.id, name)
