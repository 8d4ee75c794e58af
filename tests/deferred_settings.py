"""The test settings with django-deferred-migrations installed, for a project switching from it."""

from tests.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "deferred_migrations"]  # noqa: F405
