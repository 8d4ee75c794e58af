"""The backfills in the admin: their progress, and pause, resume and cancel as actions.

The actions only record a request; the process running the backfill honours it between two
batches, as it does for ``safemigrate --backfill-pause`` and its siblings. The backfill's
control (and its engine) is imported by the actions: Django's admin imports this module in
every process that starts.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest

from safemigrate.admin.readonly import NoEditing
from safemigrate.exceptions import SafemigrateError
from safemigrate.models import BackfillRequest, BackfillState


@admin.register(BackfillState)
class BackfillStateAdmin(NoEditing, admin.ModelAdmin):  # type: ignore[type-arg]
    """Backfills and their progress; pause, resume and cancel act between two batches."""

    list_display = (
        "name",
        "direction",
        "status",
        "request",
        "mode",
        "rows_done",
        "rows_estimated",
        "batches",
        "batch_size",
        "updated_at",
    )
    list_filter = ("status", "direction", "mode")
    search_fields = ("name", "table")
    actions = ("pause", "resume", "cancel")

    # The state is written by the backfill alone; people act on it only through requests.
    def has_control_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("safemigrate.change_backfillstate")

    def _request(
        self, request: HttpRequest, queryset: Any, action: BackfillRequest | None, verb: str
    ) -> None:
        from safemigrate.backfill import control

        for state in queryset:
            try:
                control.request(state._state.db or "default", state.name, action)
            except SafemigrateError as error:
                self.message_user(request, str(error), messages.WARNING)
            else:
                self.message_user(request, f"Backfill {state.name}: {verb} requested.")

    @admin.action(permissions=["control"], description="Pause (between two batches)")
    def pause(self, request: HttpRequest, queryset: Any) -> None:
        self._request(request, queryset, BackfillRequest.PAUSE, "pause")

    @admin.action(permissions=["control"], description="Resume")
    def resume(self, request: HttpRequest, queryset: Any) -> None:
        self._request(request, queryset, None, "resume")

    @admin.action(permissions=["control"], description="Cancel (rows done stay done)")
    def cancel(self, request: HttpRequest, queryset: Any) -> None:
        self._request(request, queryset, BackfillRequest.CANCEL, "cancel")
