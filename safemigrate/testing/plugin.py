"""safemigrate's pytest plugin: the ``migrator`` fixture for projects' own test suites.

pytest loads this module through the ``pytest11`` entry point in every suite of every project
that installs safemigrate, whether it tests migrations or not. So it imports pytest alone:
Django, and safemigrate's Django parts, load only when a test asks for ``migrator``. Which
fixture a suite gets is decided once pytest knows its plugins: with pytest-django, one that
stands on its ``transactional_db``; without it, one that says what is missing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from safemigrate.testing.migrator import Migrator

NEEDS_PYTEST_DJANGO = (
    "The migrator fixture needs pytest-django (pip install pytest-django) and a Django "
    "settings module (DJANGO_SETTINGS_MODULE or --ds). See docs/testing.md."
)


class WithPytestDjango:
    """The fixture for suites that run Django with pytest-django."""

    @pytest.fixture
    def migrator(self, transactional_db: None) -> Iterator[Migrator]:
        """Migrate the test database to any state and back, with that state's models.

        The test runs with a transactional database (non-atomic migrations need one). After
        it, every table is emptied and every migration applied again, for the tests after.
        """
        # Imported here, not above: a suite that never asks for the fixture never loads Django.
        from safemigrate.testing.migrator import Migrator

        kit = Migrator()
        yield kit
        kit.reset()


class WithoutPytestDjango:
    """The fixture for suites without pytest-django: it says what to install."""

    @pytest.fixture
    def migrator(self) -> None:
        pytest.fail(NEEDS_PYTEST_DJANGO, pytrace=False)


def pytest_configure(config: pytest.Config) -> None:
    """Offer the ``migrator`` that fits this suite."""
    with_django = config.pluginmanager.hasplugin("django")
    fixtures = WithPytestDjango() if with_django else WithoutPytestDjango()
    config.pluginmanager.register(fixtures, "safemigrate-migrator")
