"""The auditor's pages: search the audit record and export it (CSV or XLSX). Nobody else gets in."""

from __future__ import annotations

import csv
import io
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from listing.keyset import Keyset, bounded_count

from .models import AuditAction, AuditEvent
from .permissions import is_auditor
from .selectors import FILTER_KEYS, FilterError, audit_events

PAGE_SIZE = 50
EXPORT_LIMIT = 200_000
COLUMNS = ["时间", "用户名", "用户 ID", "事件", "结果", "客户端地址", "请求方法", "请求路径", "路由名",
           "对象类型", "对象 ID", "响应状态", "说明"]


def _require_auditor(request: HttpRequest) -> None:
    if not is_auditor(request.user):
        raise PermissionDenied("只有审计员可以查看审计记录。")


def _row(e: AuditEvent) -> list[object]:
    return [timezone.localtime(e.at).strftime("%Y-%m-%d %H:%M:%S"), e.username, e.user_id or "",
            e.get_action_display(), "成功" if e.success else "失败", e.ip or "", e.method, e.path, e.route,
            e.object_type, e.object_id, e.status_code or "", e.detail]


def _cell(value: object) -> object:
    # A spreadsheet would run a value that starts like a formula (CSV/formula injection).
    if isinstance(value, str) and value[:1] in {"=", "+", "-", "@", "\t", "\r"}:
        return "'" + value
    return value


@login_required
def audit_search(request: HttpRequest) -> HttpResponse:
    _require_auditor(request)
    filters = {k: request.GET.get(k, "") for k in FILTER_KEYS}
    error = None
    try:
        qs = audit_events(filters)
    except FilterError as exc:
        error, qs = exc.message, AuditEvent.objects.none()
    # Keyset pages newest first (an audit record grows by every read of case material): no OFFSET, and
    # the count stops at its bound.
    page = Keyset("at", size=PAGE_SIZE).page(qs, after=request.GET.get("after", ""),
                                             before=request.GET.get("before", ""))
    page.count, page.more = bounded_count(qs)
    page.unit = "条"
    query = urlencode({k: v for k, v in filters.items() if v})
    return render(request, "audit/search.html", {
        "page": page, "filters": filters, "error": error or page.error or None, "actions": AuditAction.choices,
        "querystring": query,
    }, status=400 if error else 200)


@login_required
def audit_export(request: HttpRequest) -> HttpResponse:
    _require_auditor(request)
    filters = {k: request.GET.get(k, "") for k in FILTER_KEYS}
    try:
        rows = [_row(e) for e in audit_events(filters)[:EXPORT_LIMIT]]
    except FilterError as exc:
        return render(request, "audit/search.html", {"error": exc.message, "filters": filters,
                                                     "actions": AuditAction.choices}, status=400)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    if request.GET.get("format") == "xlsx":
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        sheet.title = "审计记录"
        sheet.append(COLUMNS)
        for row in rows:
            sheet.append([_cell(v) for v in row])
        buffer = io.BytesIO()
        book.save(buffer)
        response = HttpResponse(
            buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.xlsx"'
        return response
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(COLUMNS)
    writer.writerows([[_cell(v) for v in row] for row in rows])
    # The byte-order mark lets Excel on Windows open Chinese text as UTF-8.
    response = HttpResponse("\ufeff" + text.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    return response
