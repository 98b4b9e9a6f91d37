"""Pages of the statistics (统计分析): the dashboard, each chart's table as XLSX, and the annual report."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from rules.loader import registry
from workflow.doors import actor_for
from workflow.errors import WorkflowError

from . import services
from .insight import (
    InsightError,
    charts_xlsx,
    insight_build,
    insight_filter,
    may_use_insight,
    organisations_for_insight,
)
from .models import AnnualReport, AnnualReportStatus
from .replica import replica_reads

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _guard(request: HttpRequest) -> None:
    if not may_use_insight(request.user):
        raise PermissionDenied("只有党委（党组）、组织部门和纪检监察机关的人员可以查看统计分析。")


@login_required
def insight_dashboard(request: HttpRequest) -> HttpResponse:
    _guard(request)
    error, status = None, 200
    try:
        f = insight_filter(request.user, request.GET)
    except InsightError as exc:
        error, status = exc.message, 400
        f = insight_filter(request.user, {})
    with replica_reads():  # aggregates may come from a read replica (DATABASE_REPLICA_URL)
        insight = insight_build(request.user, f)
    return render(request, "reports/insight.html", {
        "insight": insight, "f": f, "error": error, "rulesets": [(r, registry().family(r).latest.title) for r in registry().ids()],
        "organisations": organisations_for_insight(request.user), "query": f.query(),
        "querystring": "&".join(f"{k}={v}" for k, v in f.query().items()),
    }, status=status)


@login_required
def insight_export(request: HttpRequest, chart_id: str) -> HttpResponse:
    _guard(request)
    try:
        f = insight_filter(request.user, request.GET)
    except InsightError as exc:
        return render(request, "400.html", {"message": exc.message}, status=400)
    with replica_reads():  # aggregates may come from a read replica (DATABASE_REPLICA_URL)
        insight = insight_build(request.user, f)
    if chart_id == "all":
        charts, name = insight.charts, "统计分析"
    else:
        chart = insight.chart(chart_id)
        if chart is None:
            raise Http404("没有这张统计图。")
        charts, name = [chart], chart.title
    content = charts_xlsx(charts, heading=f.label)
    response = HttpResponse(content, content_type=XLSX)
    filename = f"{name}-{f.date_from:%Y%m%d}-{f.date_to:%Y%m%d}.xlsx"
    from urllib.parse import quote

    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


@login_required
def annual_report_page(request: HttpRequest) -> HttpResponse:
    _guard(request)
    year = timezone.localdate().year
    if request.method == "POST":
        try:
            report = services.annual_report_request(
                actor=actor_for(request.user, request), organisation=request.POST.get("organisation", ""),
                year=request.POST.get("year", ""))
        except WorkflowError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"已生成 {report.organisation.name} {report.year} 年度报告（{report.number}）。")
        return redirect(reverse("reports:annual-report"))
    reports = AnnualReport.objects.filter(requested_by=request.user).select_related("organisation")[:20]
    return render(request, "reports/annual_report.html", {
        "organisations": organisations_for_insight(request.user), "years": list(range(year, year - 10, -1)),
        "reports": reports,
    })


@login_required
def annual_report_file(request: HttpRequest, report_id: int, kind: str) -> FileResponse:
    _guard(request)
    report = services.annual_report_get(request.user, report_id)
    if report is None or report.status != AnnualReportStatus.READY or kind not in ("pdf", "xlsx"):
        raise Http404("未找到该年度报告。")
    f = report.file if kind == "pdf" else report.xlsx
    name = f"{report.organisation.name}{report.year}年度容错纠错工作情况-{report.number}-v{report.version}.{kind}"
    return FileResponse(f.open("rb"), filename=name, as_attachment=kind == "xlsx",
                        content_type="application/pdf" if kind == "pdf" else XLSX)
