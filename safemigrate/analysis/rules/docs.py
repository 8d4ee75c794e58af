"""Render the rule catalogue as documentation pages, one per rule, in "Bad / Good" form.

The pages in ``docs/rules/`` are generated from the catalogue, never edited by hand:
``python -m safemigrate.analysis.rules.docs docs/rules`` rewrites them, and the test suite fails
when a page and its rule drift apart.
"""

from __future__ import annotations

import sys
from pathlib import Path

from safemigrate.analysis.rules import RULES
from safemigrate.analysis.rules.model import Rule

_YES_NO = {True: "yes", False: "no"}


def rule_page(rule: Rule) -> str:
    """Return the Markdown page of one rule."""
    alternatives = ", ".join(f"`{name}`" for name in rule.operations) or "none"
    return f"""# {rule.id}: {rule.title}

| | |
| --- | --- |
| Severity | {rule.severity.label} |
| Lock | {rule.lock} |
| PostgreSQL versions | {rule.pg_versions} |
| Lowered to info on small tables | {_YES_NO[rule.size_matters]} |
| Silent on tables created earlier in the plan | {_YES_NO[rule.new_table_safe]} |
| Operations to use instead | {alternatives} |

## What goes wrong

{rule.why}

## Bad

```python
{rule.bad}
```

## Good

```python
{rule.good}
```

{rule.safe}

## When it is safe anyway

If this operation is safe where it runs (say, the table is known to stay tiny), acknowledge
the finding in the migration, with the reason:

```python
class Migration(migrations.Migration):
    safemigrate = {{"allow": {{"{rule.id}": "why this is safe here"}}}}
```
"""


def index_page() -> str:
    """Return the page listing every rule."""
    rows = "\n".join(
        f"| [{rule.id}]({rule.id}.md) | {rule.title} | {rule.severity.label} |"
        for rule in RULES.values()
    )
    return f"""# Rules

`safemigrate --lint` and `safemigrate` itself judge every operation against these rules. An
`error` stops `safemigrate` unless the migration acknowledges it; `warning` and `info` are
reported only. The context changes a rule's severity: tables created earlier in the same
plan are exempt, tables smaller than `SAFEMIGRATE['SMALL_TABLE_ROWS']` lower lock-duration
rules to `info`, and a rollback never blocks.

| Rule | Title | Severity |
| --- | --- | --- |
{rows}
"""


def pages() -> dict[str, str]:
    """Return every generated page by file name."""
    found = {f"{rule.id}.md": rule_page(rule) for rule in RULES.values()}
    found["index.md"] = index_page()
    return found


def main(directory: str) -> None:
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    for name, text in pages().items():
        (target / name).write_text(text, encoding="utf-8")


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1] if len(sys.argv) > 1 else "docs/rules")
