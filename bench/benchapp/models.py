"""The table the benchmark's clients keep busy while a migration alters it."""

from __future__ import annotations

from django.db import models


class Account(models.Model):
    """A row per account, read and updated by primary key as a web request would.

    ``note`` is what ``0002_account_note`` adds: a nullable column, which PostgreSQL adds by
    changing the catalog only, so the migration's cost is its ACCESS EXCLUSIVE lock, not work.
    """

    owner = models.CharField(max_length=40)
    balance = models.IntegerField(default=0)
    note = models.TextField(null=True)  # noqa: DJ001  (NULL is what makes the ALTER instant)

    def __str__(self) -> str:
        return self.owner
