"""Settings for safemigrate's test suite.

The database is ``DATABASE_URL`` or the embedded PostgreSQL that ``devdb`` starts, so the tests
always run on a real PostgreSQL: safemigrate's behaviour is about PostgreSQL's locks and catalog.
"""

from __future__ import annotations

import json
import os

import dj_database_url
import django

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
    *(["django_tasks"] if django.VERSION < (6, 0) else []),
    "django_tasks_db",
    "tests.testapp",
    "tests.scenarioapp",
]

# Tests point "scenarioapp" at one of tests/scenarios/<name>/ at a time (a test that runs
# manage.py in a subprocess names it in SAFEMIGRATE_TEST_MIGRATIONS).
_SCENARIO = os.environ.get("SAFEMIGRATE_TEST_MIGRATIONS")
MIGRATION_MODULES = {"scenarioapp": f"tests.scenarios.{_SCENARIO}" if _SCENARIO else None}
SAFEMIGRATE = json.loads(os.environ.get("SAFEMIGRATE_TEST_SETTINGS", "{}"))
# Backfills on task workers: the immediate backend by default; a worker process started by a
# test sets SAFEMIGRATE_TEST_TASKS=database to use django-tasks-db's backend.
# Django 5.2 has no django.tasks: the django-tasks package provides the same backends there.
_TASKS_PACKAGE = "django.tasks" if django.VERSION >= (6, 0) else "django_tasks"
TASK_BACKENDS = {
    "immediate": f"{_TASKS_PACKAGE}.backends.immediate.ImmediateBackend",
    "database": "django_tasks_db.DatabaseBackend",
}
TASKS = {
    "default": {"BACKEND": TASK_BACKENDS[os.environ.get("SAFEMIGRATE_TEST_TASKS", "immediate")]}
}

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
