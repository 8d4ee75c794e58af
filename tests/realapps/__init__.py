"""Real, popular apps from PyPI, their migration histories run by safemigrate and by migrate.

The apps are development dependencies (pyproject's ``dev`` extra); nothing of theirs is
copied here. ``compare`` drives both commands in a process of its own, with these settings.
"""
