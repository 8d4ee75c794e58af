#!/usr/bin/env python
"""Run Django commands for the example project (``./dev manage ...`` runs this in the venv)."""

from __future__ import annotations

import os
import sys


def main() -> None:
    """Run the command line with the example project's settings."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_project.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
