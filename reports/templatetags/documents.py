"""Template tags that show a case's documents on the case page."""

from __future__ import annotations

from typing import Any

from django import template
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.safestring import SafeString

from reports import selectors
from reports.models import DocumentKind
from reports.permissions import may_regenerate

register = template.Library()


def _url(name: str, *args: Any) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:  # reports' pages not mounted (e.g. another app's tests): list without links
        return ""


@register.simple_tag(takes_context=True)
def case_documents(context: template.Context, case: Any) -> SafeString:
    """The case's documents this user may see, each version with its status and a download link."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return SafeString("")
    from workflow.permissions import sees_internal

    docs = list(selectors.case_documents(user, case))
    rows = []
    for doc in docs:
        rows.append({
            "doc": doc,
            "url": _url("reports:document-download", doc.pk) if doc.status == "ready" else "",
            "verify": _url("reports:verify", doc.token) if doc.status == "ready" else "",
        })
    values = {
        "rows": rows,
        "case": case,
        "internal": sees_internal(user, case),
        "can_regenerate": may_regenerate(user, case),
        "regenerate_url": _url("reports:document-regenerate", case.pk),
        "kinds": [(k, label) for k, label in DocumentKind.choices if any(d.kind == k for d in docs)],
    }
    if context.template is None:  # called outside a template render (no page context to reuse)
        return render_to_string("reports/_case_documents.html", values, request=request)
    # Rendered inside the page's own context, as an include would be: the context processors
    # (roles, the auditor check, the unread count) have already run for this request.
    fragment = context.template.engine.get_template("reports/_case_documents.html")
    with context.push(values):
        return fragment.render(context)
