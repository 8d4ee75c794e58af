"""``python -m tests.operations.crash STEP ARGS...``: run ``manage.py safemigrate ARGS`` and
die by SIGKILL, as ``kill -9`` would kill it, right after the step named STEP committed."""

from __future__ import annotations

import os
import signal
import sys

import django


def main() -> None:
    step, *args = sys.argv[1:]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    django.setup()
    from django.core.management import call_command

    from safemigrate.operations import base

    def after_step(operation: str, done: str) -> None:
        if done == step:
            os.kill(os.getpid(), signal.SIGKILL)

    base._after_step = after_step
    call_command("safemigrate", *args)


if __name__ == "__main__":
    main()
