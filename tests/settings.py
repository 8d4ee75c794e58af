"""Settings for safemigrate's test suite.

The database is ``DATABASE_URL`` or the embedded PostgreSQL that ``devdb`` starts, so the tests
always run on a real PostgreSQL: safemigrate's behaviour is about PostgreSQL's locks and catalog.
"""

from __future__ import annotations

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
    "pgtrigger",
    "safemigrate",
    "tests.testapp",
]

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

DATABASES = {"default": dj_database_url.parse(devdb.database_url())}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
