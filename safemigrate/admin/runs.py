"""The run history in the admin: read-only lists, and a detail page per run with a timeline.

The list pages stay fast with a large history: no ``date_hierarchy`` and no filter whose
choices need a ``SELECT DISTINCT`` over the history; filters come from settings and choices,
sorting uses the ``started_at`` indexes, and a run's migrations arrive in one prefetch.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connections
from django.db.migrations.loader import MigrationLoader
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join

from safemigrate.admin.readonly import NoEditing
from safemigrate.admin.timeline import timeline
from safemigrate.models import Backup, Direction, MigrationRun, Run, Status
from safemigrate.postgres.tables import quote_relation

#: Above this many rows, an unfiltered list shows the planner's row estimate, not COUNT(*).
ESTIMATE_COUNT_ABOVE = 10_000
#: How many of a run's migrations the list names.
MIGRATIONS_SHOWN = 3
#: A filtered or searched list counts at most this many matches (and shows one more).
COUNT_CAP = 10_000


class HistoryPaginator(Paginator):  # type: ignore[type-arg]
    """Count the history at a cost that does not grow with it.

    ``COUNT(*)`` reads every row on every page view. An unfiltered list uses the planner's
    estimate (``pg_class.reltuples``); a filtered one counts only up to ``COUNT_CAP`` + 1
    matches, so a broad filter stops early and "10,001" reads as "more than 10,000".
    """

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not isinstance(queryset, QuerySet):
            return int(super().count)
        if not queryset.query.where:
            estimate = _estimated_rows(queryset)
            if estimate > ESTIMATE_COUNT_ABOVE:
                return estimate
        return int(queryset.order_by()[: COUNT_CAP + 1].count())


def _estimated_rows(queryset: QuerySet[Any]) -> int:
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)",
            [quote_relation(queryset.model._meta.db_table)],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else -1


class ReadOnlyAdmin(NoEditing, admin.ModelAdmin):  # type: ignore[type-arg]
    """History is a record of what happened: it is never edited by hand."""

    paginator = HistoryPaginator


class DatabaseFilter(admin.SimpleListFilter):
    """Filter by database alias; the choices are ``settings.DATABASES``, not a DISTINCT scan."""

    title = "database"
    parameter_name = "database"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(alias, alias) for alias in settings.DATABASES]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(database=self.value()) if self.value() else queryset


class AppFilter(admin.SimpleListFilter):
    """Filter runs by an app they migrated; the choices are the installed apps."""

    title = "app"
    parameter_name = "app"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(label, label) for label in _migrated_apps()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if not self.value():
            return queryset
        touched = MigrationRun.objects.filter(run=OuterRef("pk"), app_label=self.value())
        return queryset.filter(Exists(touched))


def _migrated_apps() -> list[str]:
    """Return the labels of installed apps that have migrations, without touching the database."""
    labels = []
    for config in apps.get_app_configs():
        module, _ = MigrationLoader.migrations_module(config.label)
        try:
            if module and importlib.util.find_spec(module):
                labels.append(config.label)
        except ImportError:
            continue
    return labels


@admin.register(Run)
class RunAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "started_at",
        "status",
        "migrations_done",
        "duration",
        "os_user",
        "database",
    )
    list_display_links = ("id", "started_at")
    list_filter = ("status", AppFilter, DatabaseFilter)
    search_fields = ("os_user", "hostname", "git_revision", "migrations__name")
    search_help_text = (
        "An OS user or host name (exact), the start of a git revision, or part of a "
        "migration's name."
    )
    show_full_result_count = False
    # Facet counts run one COUNT per filter choice over the whole history.
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 50
    ordering = ("-started_at", "-id")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Run]:
        names = MigrationRun.objects.only("run_id", "app_label", "name", "direction", "status")
        return (
            super()
            .get_queryset(request)
            .defer("options", "targets", "error")
            .prefetch_related(Prefetch("migrations", queryset=names.order_by("started_at")))
        )

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Run], search_term: str
    ) -> tuple[QuerySet[Run], bool]:
        """Search runs and their migrations' names without a join plus DISTINCT.

        The admin's own search joins the migrations and de-duplicates with DISTINCT over
        every column. ``pk IN (subquery)`` lets PostgreSQL scan the migrations once into a
        hash (a "hashed SubPlan") and probe it per run.
        """
        term = search_term.strip()
        if not term:
            return queryset, False
        # Migration names are lower case by convention: a plain LIKE spares PostgreSQL an
        # upper() of every name, which is most of a search's cost on a large history.
        by_name = MigrationRun.objects.filter(name__contains=term.lower()).values("run_id")
        matches = (
            Q(os_user__iexact=term)
            | Q(hostname__iexact=term)
            | Q(git_revision__startswith=term.lower())
            | Q(pk__in=by_name)
        )
        return queryset.filter(matches), False

    @admin.display(description="migrations")
    def migrations_done(self, run: Run) -> str:
        """Name the first migrations of the run; a first deploy can apply hundreds."""
        records = list(run.migrations.all())
        rows = [
            (f"{m.app_label}.{m.name}", "" if m.direction == "forwards" else " (back)")
            for m in records[:MIGRATIONS_SHOWN]
        ]
        more = len(records) - MIGRATIONS_SHOWN
        text = format_html_join(", ", "{}{}", rows) or "-"
        return format_html("{} and {} more", text, more) if more > 0 else text

    @admin.display(description="duration", ordering="duration_ms")
    def duration(self, run: Run) -> str:
        return "-" if run.duration_ms is None else f"{run.duration_ms / 1000:.2f} s"

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        """Show the run: its migrations, attempts, blockers, statements and a timeline."""
        run = get_object_or_404(Run, pk=object_id)
        if not self.has_view_permission(request, run):
            raise PermissionDenied
        migrations = list(
            run.migrations.order_by("started_at").prefetch_related("attempts", "statements")
        )
        applied = any(
            m.direction == Direction.FORWARDS and m.status == Status.SUCCEEDED for m in migrations
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": str(run),
            "run": run,
            "migrations": migrations,
            "timeline": timeline(run, migrations),
            "backup": Backup.objects.filter(run=run).first(),
            "rollbacks": list(run.rollbacks.order_by("started_at")),
            # A run that applied something can be rolled back; a rollback is undone by
            # applying again.
            "can_roll_back": applied and run.rollback_of_id is None,
        }
        return TemplateResponse(request, "admin/safemigrate/run_detail.html", context)


@admin.register(MigrationRun)
class MigrationRunAdmin(ReadOnlyAdmin):
    list_display = (
        "app_label",
        "name",
        "direction",
        "status",
        "duration_ms",
        "started_at",
        "run_link",
    )
    list_filter = ("status", "direction")
    search_fields = ("app_label", "name")
    list_select_related = ("run",)
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    ordering = ("-started_at", "-id")

    @admin.display(description="run")
    def run_link(self, record: MigrationRun) -> str:
        url = reverse("admin:safemigrate_run_change", args=[record.run_id])
        return format_html('<a href="{}">run {}</a>', url, record.run_id)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        """A migration is shown within its run, where its neighbours and timeline are."""
        record = get_object_or_404(MigrationRun, pk=object_id)
        if not self.has_view_permission(request, record):
            raise PermissionDenied
        url = reverse("admin:safemigrate_run_change", args=[record.run_id])
        return HttpResponseRedirect(f"{url}#migration-{record.pk}")
