from __future__ import annotations

from django.db import models


class Widget(models.Model):
    """The smallest model that gives a test a table to lock, alter and migrate."""

    name = models.CharField(max_length=100)

    def __str__(self) -> str:
        return self.name
