"""The rule catalogue: complete, consistent, and documented page by page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from safemigrate.analysis.rules import RULES, SAFE_OPERATIONS, by_fact
from safemigrate.analysis.rules.docs import pages

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "rules"


@pytest.mark.parametrize("name", sorted(pages()))
def test_rule_pages_are_generated_from_the_catalogue(name: str) -> None:
    page = DOCS / name
    assert page.is_file(), "run: python -m safemigrate.analysis.rules.docs docs/rules"
    assert page.read_text(encoding="utf-8") == pages()[name], (
        f"docs/rules/{name} drifted from the catalogue; "
        "run: python -m safemigrate.analysis.rules.docs docs/rules"
    )


def test_no_page_without_a_rule() -> None:
    assert {page.name for page in DOCS.glob("*.md")} == set(pages())


def test_every_rule_page_is_in_the_navigation() -> None:
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for name in pages():
        assert f"rules/{name}" in nav


@pytest.mark.parametrize("rule", RULES.values(), ids=list(RULES))
def test_rule_is_complete(rule) -> None:
    assert re.fullmatch(r"SM1\d\d", rule.id)
    assert by_fact(rule.fact) is rule, "one rule per fact"
    for text in (rule.title, rule.lock, rule.why, rule.safe, rule.bad, rule.good):
        assert text.strip()
    assert rule.docs == f"docs/rules/{rule.id}.md"
    for operation in rule.operations:
        assert operation in rule.safe, "the fix names the operations it recommends"


def test_safe_operations_are_listed_once_for_issue_4() -> None:
    assert "safemigrate.operations.AddIndexConcurrently" in SAFE_OPERATIONS
    assert list(SAFE_OPERATIONS) == sorted(set(SAFE_OPERATIONS))
    assert all(name.startswith("safemigrate.operations.") for name in SAFE_OPERATIONS)
