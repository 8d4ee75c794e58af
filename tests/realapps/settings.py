"""The test settings plus real apps, on two databases: one for safemigrate, one for migrate.

``REAL_SAFE_DATABASE`` and ``REAL_PLAIN_DATABASE`` name the databases, which the test
creates and drops on the test server.
"""

from __future__ import annotations

import os

from tests.settings import *  # noqa: F403
from tests.settings import DATABASES, INSTALLED_APPS

#: The apps whose histories are compared, in the order they run; filer needs easy_thumbnails.
REAL_APPS = ["taggit", "guardian", "post_office", "constance", "easy_thumbnails", "filer"]

INSTALLED_APPS = [*INSTALLED_APPS, "polymorphic", *REAL_APPS]
DATABASES = {
    "default": {**DATABASES["default"], "NAME": os.environ["REAL_SAFE_DATABASE"]},
    "plain": {**DATABASES["default"], "NAME": os.environ["REAL_PLAIN_DATABASE"]},
}
MIGRATION_MODULES = {"scenarioapp": None}
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
SILENCED_SYSTEM_CHECKS = ["guardian.W001"]
# constance's data migrations read its settings through the database backend.
CONSTANCE_BACKEND = "constance.backends.database.DatabaseBackend"
