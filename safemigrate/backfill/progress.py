"""Show a backfill's progress: a bar on a terminal, a log line every few seconds elsewhere.

Deploy logs are read after the fact, so off a terminal the same figures (rows done of the
estimate, rate, ETA, batch size) go out as plain lines at a steady interval.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import IO, Any

from safemigrate.models import BackfillState, BackfillStatus

LOG_EVERY_S = 5.0


def describe(state: BackfillState, rate: float) -> str:
    """One line of figures: rows done of the estimate, rate, ETA, current batch size."""
    finished = state.status == BackfillStatus.DONE
    # The estimate is the planner's: once done, the rows done are the truth.
    total = state.rows_done if finished else max(state.rows_estimated, state.rows_done)
    percent = f" ({100 * state.rows_done / total:.0f}%)" if total else ""
    remaining = (total - state.rows_done) / rate if rate and not finished else None
    eta = f", ETA {format_seconds(remaining)}" if remaining is not None else ""
    return (
        f"{state.rows_done:,}/{total:,} rows{percent}, {rate:,.0f} rows/s{eta}, "
        f"batch {state.batch_size:,}"
    )


def format_seconds(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f}s"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}m"


class Progress:
    """Follow one backfill; ``update()`` after each batch, ``close()`` at the end."""

    def __init__(
        self, state: BackfillState, write: Callable[[str], None], stream: IO[str] | None = None
    ) -> None:
        self.name = state.name
        self.write = write
        self._start_rows = state.rows_done
        self._clock = time.monotonic()
        self._logged = self._clock
        self._bar: Any = None
        if stream is not None and stream.isatty():
            self._bar = _rich_bar(stream, state)

    def rate(self, state: BackfillState) -> float:
        """Rows per second since this process picked the backfill up."""
        elapsed = time.monotonic() - self._clock
        return (state.rows_done - self._start_rows) / elapsed if elapsed > 0 else 0.0

    def update(self, state: BackfillState) -> None:
        if self._bar is not None:
            progress, task = self._bar
            total = max(state.rows_estimated, state.rows_done)
            rate = f"{self.rate(state):,.0f} rows/s"
            progress.update(task, completed=state.rows_done, total=total or None, rate=rate)
        elif time.monotonic() - self._logged >= LOG_EVERY_S:
            self._logged = time.monotonic()
            self.write(f"backfill {self.name}: {describe(state, self.rate(state))}")

    def note(self, text: str) -> None:
        """Say something that is not a figure: a wait, a pause, a resume."""
        if self._bar is not None:
            self._bar[0].console.print(f"backfill {self.name}: {text}")
        else:
            self.write(f"backfill {self.name}: {text}")

    def close(self, state: BackfillState) -> None:
        if self._bar is not None:
            self._bar[0].stop()
        elapsed = time.monotonic() - self._clock
        self.write(
            f"backfill {self.name}: {state.status}, {state.rows_done:,} rows in "
            f"{state.batches:,} batches, {elapsed:.1f}s here ({self.rate(state):,.0f} rows/s)"
        )


def _rich_bar(stream: IO[str], state: BackfillState) -> tuple[Any, Any] | None:
    """A rich progress bar with rate and ETA, or ``None`` when rich is not installed."""
    try:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeRemainingColumn,
        )
    except ImportError:  # pragma: no cover - rich is optional
        return None
    progress = Progress(
        TextColumn(f"backfill {state.name}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
        console=Console(file=stream),
    )
    task = progress.add_task("backfill", total=state.rows_estimated or None, rate="")
    progress.start()
    return progress, task
