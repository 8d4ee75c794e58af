"""The backfill benchmark's table: the example shop's products, turning prices into cents."""

from __future__ import annotations

from django.db import models


class Product(models.Model):
    """Read and updated by primary key by the clients (``stock``) while ``price_cents`` fills."""

    price = models.DecimalField(max_digits=10, decimal_places=2)
    stock = models.IntegerField(default=0)
    price_cents = models.BigIntegerField(null=True)

    def __str__(self) -> str:
        return f"product {self.pk}"
