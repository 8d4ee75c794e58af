"""Reviews in the admin: the pending migrations with their runbook, and a page per review
with a tickable checklist, notes and the approve button.

Every page goes through ``admin_site.admin_view`` (staff only, CSRF-protected). Ticking and
notes need ``change_review``; approving and revoking need ``safemigrate.approve``.

The plan's inspection and the runbook are imported by the views that show them: Django's
admin imports this module in every process that starts, ``migrate`` included, and they
bring the whole analysis with them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import connections
from django.db.migrations.loader import MigrationLoader
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_POST

from safemigrate.admin.pages import page_context
from safemigrate.conf import conf
from safemigrate.models import Review
from safemigrate.review import reviews

if TYPE_CHECKING:
    from safemigrate.review.inspection import MigrationInfo


class ApprovalFilter(admin.SimpleListFilter):
    title = "approval"
    parameter_name = "approved"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "approved"), ("no", "not approved")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() in ("yes", "no"):
            return queryset.filter(approved_at__isnull=self.value() == "no")
        return queryset


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("__str__", "approved_at", "approved_by", "tick_count", "updated_at")
    list_filter = (ApprovalFilter,)
    search_fields = ("app_label", "name", "notes")
    actions = ("approve_selected",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Review]:
        queryset: QuerySet[Review] = super().get_queryset(request)
        return queryset.select_related("approved_by").annotate(tick_total=Count("ticks"))

    @admin.display(description="ticked")
    def tick_count(self, review: Any) -> str:
        return f"{review.tick_total}/{len(conf.checklist)}"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # reviews are started from the pending page, for a real migration

    def has_approve_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm(reviews.APPROVE_PERMISSION))

    @admin.action(description="Approve selected migrations", permissions=["approve"])
    def approve_selected(self, request: HttpRequest, queryset: QuerySet[Review]) -> None:
        steps = _migrations_by_key()
        for review in queryset:
            migration = steps.get((review.app_label, review.name))
            if migration is None:
                self.message_user(request, f"{review}: no such migration.", messages.WARNING)
                continue
            reviews.approve(review, request.user, reviews.fingerprint(migration))
            self.message_user(request, f"{review} approved.", messages.SUCCESS)

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path("pending/", wrap(self.pending_view), name="safemigrate_review_pending"),
            path(
                "start/<str:app_label>/<str:name>/",
                wrap(require_POST(self.start_view)),
                name="safemigrate_review_start",
            ),
            *super().get_urls(),
        ]

    def pending_view(self, request: HttpRequest) -> HttpResponse:
        """List the migrations the next run would apply, their approval and their runbook."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        from safemigrate.review.inspection import inspect_plan
        from safemigrate.review.runbook import runbook_from

        connection = connections["default"]
        info = inspect_plan(connection)
        book = runbook_from(info, connection, conf.checklist)
        existing = {(r.app_label, r.name): r for r in Review.objects.all()}
        rows = [_pending_row(m, existing.get(m.item.key)) for m in info.migrations]
        context = {
            **page_context(self, request, "Pending migrations"),
            "rows": rows,
            "book": book,
            "gate": conf.require_approval,
            "can_change": self.has_change_permission(request),
        }
        return TemplateResponse(request, "admin/safemigrate/pending.html", context)

    def start_view(self, request: HttpRequest, app_label: str, name: str) -> HttpResponse:
        """Create (or open) the review of a pending migration, then go to it."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        if (app_label, name) not in _migrations_by_key():
            raise PermissionDenied("No such migration.")
        review = reviews.review_for(app_label, name)
        return HttpResponseRedirect(reverse("admin:safemigrate_review_change", args=[review.pk]))

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        """The review page: checklist with who ticked what, notes, approval, runbook."""
        review = get_object_or_404(Review, pk=object_id)
        if not self.has_view_permission(request, review):
            raise PermissionDenied
        if request.method == "POST":
            return self._post(request, review)
        return TemplateResponse(
            request, "admin/safemigrate/review_detail.html", self._context(request, review)
        )

    def _post(self, request: HttpRequest, review: Review) -> HttpResponse:
        action = request.POST.get("action", "save")
        if action in ("approve", "revoke"):
            migration = _migrations_by_key().get((review.app_label, review.name))
            if action == "approve" and migration is None:
                self.message_user(request, "This migration no longer exists.", messages.ERROR)
            elif action == "approve" and migration is not None:
                reviews.approve(review, request.user, reviews.fingerprint(migration))
                self.message_user(request, f"{review} approved.", messages.SUCCESS)
            else:
                reviews.revoke(review, request.user)
                self.message_user(request, f"Approval of {review} revoked.", messages.SUCCESS)
        else:
            if not self.has_change_permission(request, review):
                raise PermissionDenied
            review.notes = request.POST.get("notes", "")[:20_000]
            review.save(update_fields=["notes", "updated_at"])
            ticked = set(request.POST.getlist("tick"))
            reviews.set_ticks(review, conf.checklist, ticked, request.user)
            self.message_user(request, "Checklist saved.", messages.SUCCESS)
        return HttpResponseRedirect(request.path)

    def _context(self, request: HttpRequest, review: Review) -> dict[str, Any]:
        from safemigrate.review.runbook import build_runbook

        ticks = {t.item: t for t in review.ticks.select_related("ticked_by")}
        connection = connections["default"]
        loader = MigrationLoader(connection, ignore_no_migrations=True)
        key = (review.app_label, review.name)
        migration = loader.disk_migrations.get(key)
        state = reviews.approval_state(review, reviews.fingerprint(migration) if migration else "")
        pending = migration is not None and key not in (loader.applied_migrations or {})
        # The runbook of migrating up to this migration: what approving it lets run.
        book = build_runbook(connection, *key) if pending else None
        sections: dict[str, list[dict[str, Any]]] = {}
        for item in conf.checklist:
            sections.setdefault(item.section, []).append({"item": item, "tick": ticks.get(item.id)})
        return {
            **page_context(self, request, f"Review of {review}"),
            "review": review,
            "state": state,
            "exists": migration is not None,
            "pending": pending,
            "book": book,
            "sections": sections,
            "can_change": self.has_change_permission(request, review),
            "can_approve": self.has_approve_permission(request),
        }


def _pending_row(migration: MigrationInfo, review: Review | None) -> dict[str, Any]:
    item = migration.item
    return {
        "label": item.label,
        "app_label": item.migration.app_label,
        "name": item.migration.name,
        "phase": "rollback" if item.backwards else migration.deploy_phase.phase.label,
        "phase_source": "" if item.backwards else migration.deploy_phase.source,
        "review": review,
        "state": reviews.approval_state(review, migration.fingerprint),
    }


def _migrations_by_key() -> dict[tuple[str, str], Any]:
    """Return every migration on disk by (app_label, name), from the default database's loader."""
    loader = MigrationLoader(connections["default"], ignore_no_migrations=True)
    return dict(loader.disk_migrations)
