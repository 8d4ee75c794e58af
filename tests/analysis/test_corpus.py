"""The analysis corpus: every case yields exactly the rule ids it expects."""

from __future__ import annotations

import pytest
from django.db import connection

from safemigrate.analysis.rules import RULES, Severity
from tests.analysis.corpus.cases import CASES, Case
from tests.analysis.corpus.run import analyse_case, found_ids

pytestmark = pytest.mark.django_db


def _param(case: Case) -> object:
    # AddIndexConcurrently refuses to be collected inside the test's transaction.
    concurrent = any(type(op).__name__.endswith("Concurrently") for op in case.operations)
    marks = [pytest.mark.django_db(transaction=True)] if concurrent else []
    return pytest.param(case, marks=marks, id=case.name)


@pytest.mark.parametrize("case", [_param(case) for case in CASES])
def test_case_finds_exactly_the_expected_rules(case: Case) -> None:
    assert found_ids(analyse_case(connection, case)) == tuple(sorted(case.expected))


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 60
    assert len({case.name for case in CASES}) == len(CASES), "case names are unique"


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_every_rule_fires_and_has_a_near_miss(rule_id: str) -> None:
    fires = [case for case in CASES if any(e.split("/")[0] == rule_id for e in case.expected)]
    misses = [
        case
        for case in CASES
        if rule_id not in {e.split("/")[0] for e in case.expected} and _near(case, rule_id)
    ]
    assert fires, f"no corpus case fires {rule_id}"
    assert misses, f"no near-miss for {rule_id}"


def _near(case: Case, rule_id: str) -> bool:
    """A near-miss sits next to a firing case of the rule in the corpus (same section)."""
    index = CASES.index(case)
    neighbours = CASES[max(0, index - 4) : index + 5]
    return any(rule_id in {e.split("/")[0] for e in other.expected} for other in neighbours)


def test_acknowledged_findings_do_not_block() -> None:
    case = next(case for case in CASES if case.allow)
    report = analyse_case(connection, case)
    (finding,) = report.findings
    assert finding.acknowledged == case.allow["SM109"]
    assert not finding.blocking
    assert finding.severity == Severity.ERROR
