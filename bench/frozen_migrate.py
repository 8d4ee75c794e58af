"""Run a Django command as ``python -m django`` does, with start-up's objects frozen.

``manage.py safemigrate`` calls ``gc.freeze()`` once Django has started (see its
``run_from_argv``), which spares the garbage collector start-up's objects during the run and
at exit. ``overhead.py`` times ``migrate`` this way too, so that its report can tell that gain
apart from what safemigrate's own work costs:

    python -m bench.frozen_migrate migrate --settings=...
"""

from __future__ import annotations

import gc
import sys
from typing import Any

from django.core.management import execute_from_command_line
from django.core.management.base import BaseCommand

_run_from_argv = BaseCommand.run_from_argv


def _frozen_run_from_argv(self: BaseCommand, argv: list[str]) -> Any:
    gc.freeze()
    return _run_from_argv(self, argv)


if __name__ == "__main__":
    BaseCommand.run_from_argv = _frozen_run_from_argv  # type: ignore[method-assign]
    execute_from_command_line(sys.argv)
