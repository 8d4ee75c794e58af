"""Settings for safemigrate's test suite.

The database is ``DATABASE_URL`` or the embedded PostgreSQL that ``devdb`` starts, so the tests
always run on a real PostgreSQL: safemigrate's behaviour is about PostgreSQL's locks and catalog.
"""

from __future__ import annotations

import json
import os

import dj_database_url

import devdb

SECRET_KEY = "safemigrate-tests-not-a-secret"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # The browser tests' live server serves the admin's CSS from the apps' static folders.
    "django.contrib.staticfiles",
    "pgtrigger",
    "safemigrate",
    "tests.testapp",
    "tests.scenarioapp",
]

# Tests point "scenarioapp" at one of tests/scenarios/<name>/ at a time (a test that runs
# manage.py in a subprocess names it in SAFEMIGRATE_TEST_MIGRATIONS).
_SCENARIO = os.environ.get("SAFEMIGRATE_TEST_MIGRATIONS")
MIGRATION_MODULES = {"scenarioapp": f"tests.scenarios.{_SCENARIO}" if _SCENARIO else None}
SAFEMIGRATE = json.loads(os.environ.get("SAFEMIGRATE_TEST_SETTINGS", "{}"))

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "tests.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(devdb.database_url()),
    # safemigrate must behave as plain migrate on other databases.
    "sqlite": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
}
STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
