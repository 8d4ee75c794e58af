"""Settings of the example project: a development-only shop with the admin.

The project always uses its own database, ``safemigrate_demo``, on the server that ``devdb``
names (``DATABASE_URL`` or the embedded PostgreSQL), because ``manage.py demo`` drops and
recreates it: pointing DATABASE_URL at a real database can never lose that database's data.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url

import devdb

BASE_DIR = Path(__file__).resolve().parent.parent

# Development only: this project is a demo and never runs anywhere but a developer's machine.
SECRET_KEY = "django-insecure-safemigrate-example-project-not-a-secret"
DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "pgtrigger",
    "safemigrate",
    "example_project.shop",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "example_project.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

DEMO_DATABASE = "safemigrate_demo"
DATABASES = {
    "default": {**dj_database_url.parse(devdb.database_url()), "NAME": DEMO_DATABASE},
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
STATIC_URL = "static/"
