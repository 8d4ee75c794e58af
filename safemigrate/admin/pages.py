"""What every custom admin page of safemigrate's hands its template, as the admin's own do."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from safemigrate.compat import ADMIN_BREADCRUMBS_AS_LIST


def page_context(
    model_admin: admin.ModelAdmin[Any], request: HttpRequest, title: str
) -> dict[str, Any]:
    """Return the admin site's context, the model's options and the page's title.

    The breadcrumbs (``_breadcrumbs.html``) need the markup of the installed Django's admin:
    its stylesheet draws the bar only for that markup.
    """
    return {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": title,
        "breadcrumbs_as_list": ADMIN_BREADCRUMBS_AS_LIST,
    }
