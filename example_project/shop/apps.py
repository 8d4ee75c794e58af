from __future__ import annotations

from django.apps import AppConfig


class ShopConfig(AppConfig):
    """The demo shop, under the short label its migrations are addressed by (``shop 0002``)."""

    name = "example_project.shop"
    label = "shop"
    default_auto_field = "django.db.models.BigAutoField"
