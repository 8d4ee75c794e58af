"""The shop's tables, modelled on the seed document's ``users``, ``products`` and ``orders``."""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Now


class Customer(models.Model):
    """Someone who orders: the seed's ``users`` table."""

    # Renamed from ``email`` with RenameFieldSafely (0017) and FinishRenameField (0018).
    email_address = models.EmailField(unique=True)
    # Renamed from ``name`` by expand/contract: migrations 0011-0013.
    full_name = models.CharField(max_length=200)
    # Added in 0007 with AddFieldSafely; nullable as the seed's ``phone VARCHAR(20)``.
    phone = models.CharField(max_length=20, null=True, blank=True)  # noqa: DJ001
    created_at = models.DateTimeField(db_default=Now())

    def __str__(self) -> str:
        return f"{self.full_name} <{self.email_address}>"


class Product(models.Model):
    """Something to order, priced in cents: the seed's decimal ``price`` changed type."""

    name = models.CharField(max_length=200)
    # Was the decimal ``price``: RenameFieldSafely with a new type (0005), then
    # FinishRenameField (0006); a trigger kept both in step in between.
    price_cents = models.BigIntegerField()

    def __str__(self) -> str:
        return self.name


class Order(models.Model):
    """One purchase by a customer; its status arrived in a later migration than the table."""

    class Status(models.TextChoices):
        NEW = "new"
        PAID = "paid"
        SHIPPED = "shipped"
        CANCELLED = "cancelled"

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders")
    # Added in 0009 with AddFieldSafely: foreign key NOT VALID, then validated.
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="orders", null=True, blank=True
    )
    # The decimal ``total`` changed type by expand/contract: migrations 0014-0016.
    total_cents = models.BigIntegerField()
    created_at = models.DateTimeField(db_default=Now())
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)

    class Meta:
        # Added in 0008 with AddIndexConcurrently.
        indexes = [models.Index(fields=["status"], name="order_status_idx")]

    def __str__(self) -> str:
        return f"Order {self.pk} of {self.customer}"


class AuditLog(models.Model):
    """What a customer did: the seed's ``audit_logs`` table, with its two indexes."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="audit_logs", db_index=False
    )
    action = models.CharField(max_length=50)
    details = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        indexes = [
            models.Index(fields=["customer"], name="auditlog_customer_idx"),
            models.Index(fields=["created_at"], name="auditlog_created_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action} by {self.customer}"


class Shipment(models.Model):
    """A new table (0010): created in one migration, it is empty, so nothing waits on it."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="shipments")
    carrier = models.CharField(max_length=50)
    shipped_at = models.DateTimeField(db_default=Now())

    class Meta:
        indexes = [models.Index(fields=["shipped_at"], name="shipment_shipped_at_idx")]

    def __str__(self) -> str:
        return f"Shipment of {self.order} by {self.carrier}"
