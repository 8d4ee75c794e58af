"""The admin mixin for records safemigrate writes itself and people only read."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


class NoEditing:
    """Refuse add, change and delete: the record is what happened, not something to edit."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
