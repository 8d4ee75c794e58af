"""Let a migration's ``RunPython`` report when its backfill started and ended (epoch seconds)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any


def timed(fn: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    """Wrap a ``RunPython`` function so it prints ``BENCH_WINDOW start end`` on stdout."""

    def wrapper(apps: Any, schema_editor: Any) -> None:
        started = time.time()
        fn(apps, schema_editor)
        sys.stdout.write(f"\nBENCH_WINDOW {started} {time.time()}\n")

    wrapper.__name__ = fn.__name__
    return wrapper
