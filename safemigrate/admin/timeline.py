"""The timeline drawing of a run: where each migration, attempt and statement fell in time.

Pure arithmetic on the history records into percentages; the template draws them as SVG,
so the page needs no JavaScript and every label goes through the template's escaping.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from safemigrate.models import MigrationRun, Run

#: Height of one migration's row in the drawing, in SVG user units.
ROW_HEIGHT = 28


def _pct(value: float, span: float) -> float:
    return round(min(max(value / span * 100, 0.0), 100.0), 3)


def timeline(run: Run, migrations: Sequence[MigrationRun]) -> dict[str, Any]:
    """Return rows of bars, in percent of the run's span, for the SVG in the run detail page."""
    starts = {m.pk: (m.started_at - run.started_at).total_seconds() * 1000 for m in migrations}
    ends = [starts[m.pk] + (m.duration_ms or 0) for m in migrations]
    span = float(max([run.duration_ms or 0, *ends, 1]))
    rows = [_row(index, m, starts[m.pk], span) for index, m in enumerate(migrations)]
    return {
        "span_ms": int(span),
        "rows": rows,
        "height": ROW_HEIGHT * max(len(rows), 1) + 20,
        "ticks": [{"x": x * 25, "label": f"{span * x / 4 / 1000:.2f}s"} for x in range(5)],
    }


def _row(index: int, m: MigrationRun, start_ms: float, span: float) -> dict[str, Any]:
    attempts = [
        {
            "x": _pct((a.started_at - m.started_at).total_seconds() * 1000 + start_ms, span),
            "width": max(_pct(a.duration_ms, span), 0.2),
            "outcome": a.outcome,
            "label": f"attempt {a.number}: {a.outcome} ({a.duration_ms} ms)",
        }
        for a in m.attempts.all()
    ]
    statements = [
        {
            "x": _pct(start_ms + s.offset_ms, span),
            "width": max(_pct(s.duration_ms, span), 0.15),
            "outcome": s.outcome,
            "label": f"{s.duration_ms:.1f} ms: {s.sql[:200]}",
        }
        for s in m.statements.all()
    ]
    return {
        "y": index * ROW_HEIGHT + 16,
        "label": f"{m.app_label}.{m.name}",
        "status": m.status,
        "x": _pct(start_ms, span),
        "width": max(_pct(m.duration_ms or 0, span), 0.3),
        "attempts": attempts,
        "statements": statements,
    }
