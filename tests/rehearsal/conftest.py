"""The rehearsal tests' scenario, seen by this process and by the phases' child processes."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def rehearsal(scenario, monkeypatch):
    """The rehearsal scenario, in this process and in the phases' child processes."""
    scenario("rehearsal")
    monkeypatch.setenv("SAFEMIGRATE_TEST_MIGRATIONS", "rehearsal")

    def use_settings(settings, values):
        settings.SAFEMIGRATE = values
        monkeypatch.setenv("SAFEMIGRATE_TEST_SETTINGS", json.dumps(values))

    return use_settings
