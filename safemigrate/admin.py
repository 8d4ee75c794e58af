"""Read-only admin pages for the run history."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from safemigrate.models import Attempt, MigrationRun, Run, Statement


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """History is a record of what happened: it is never edited by hand."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class MigrationRunInline(admin.TabularInline):  # type: ignore[type-arg]
    model = MigrationRun
    fields = ("app_label", "name", "direction", "status", "duration_ms", "lock_wait_ms", "error")
    readonly_fields = fields
    extra = 0
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Run)
class RunAdmin(ReadOnlyAdmin):
    list_display = ("id", "started_at", "status", "database", "duration_ms", "os_user", "hostname")
    list_filter = ("status", "database")
    search_fields = ("os_user", "hostname", "git_revision", "migrations__name")
    date_hierarchy = "started_at"
    inlines = (MigrationRunInline,)


class AttemptInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Attempt
    fields = ("number", "started_at", "duration_ms", "outcome", "backoff_ms", "blockers", "error")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class StatementInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Statement
    fields = ("position", "attempt", "offset_ms", "duration_ms", "outcome", "sql")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(MigrationRun)
class MigrationRunAdmin(ReadOnlyAdmin):
    list_display = ("app_label", "name", "direction", "status", "duration_ms", "started_at", "run")
    list_filter = ("status", "direction", "app_label")
    search_fields = ("app_label", "name")
    list_select_related = ("run",)
    inlines = (AttemptInline, StatementInline)
