"""The annual report on tolerance work (年度容错纠错工作情况): numbered, versioned, verifiable, like every document.

Hohhot's measures end with the duty it serves: 具體落實情況由各旗縣區紀委監委和市紀委監委派駐(出)機構每年
綜合報送市紀委監委. A report covers one discipline commission (and the commissions below it) for one
year, with the figures its requester may see; it is rendered after commit by a Celery task through the
same PDF pipeline (GB/T 9704 layout, document number, SM3/SHA-256, verification QR code).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from functools import partial
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from workflow.errors import InvalidInput, NotAllowed
from workflow.history import Actor
from workflow.timeline import cn_date

from ..contexts import site_url
from ..fonts import FontMissing
from ..insight import (
    Chart,
    InsightFilter,
    charts_xlsx,
    insight_build,
    may_use_insight,
    organisations_for_insight,
)
from ..models import AnnualReport, AnnualReportStatus
from ..pdf import DocumentRefused, RenderError, qr_png_data_uri, render_html, render_pdf
from ..replica import replica_reads
from .numbers import number_format, number_next

logger = logging.getLogger(__name__)
EARLIEST_YEAR = 2016
# Hohhot's measures, last paragraph (the pinyin glosses of the source web page removed).
HOHHOT_DUTY = "具體落實情況由各旗縣區紀委監委和市紀委監委派駐(出)機構每年綜合報送市紀委監委。"


def _year(value: Any) -> int:
    text = str(value or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) != 4:
        raise InvalidInput("年度应为四位数字，如 2026。", field="year")
    year = int(text)
    this_year = timezone.localdate().year
    if not EARLIEST_YEAR <= year <= this_year:
        raise InvalidInput(f"年度应在 {EARLIEST_YEAR} 至 {this_year} 年之间。", field="year")
    return year


def annual_report_request(*, actor: Actor, organisation: Any, year: Any) -> AnnualReport:
    """Number a new version of the report and render it after commit."""
    user = actor.user
    if user is None or not may_use_insight(user):
        raise NotAllowed("只有党委（党组）、组织部门和纪检监察机关的人员可以生成年度报告。")
    year_value = _year(year)
    text = str(getattr(organisation, "pk", organisation) or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise InvalidInput("请选择报送单位（纪检监察机关）。", field="organisation")
    org = organisations_for_insight(user).filter(pk=int(text)).first()
    if org is None:
        raise InvalidInput("所选单位不在您的查看范围内。", field="organisation")
    with transaction.atomic():
        last = (AnnualReport.objects.select_for_update().filter(organisation=org, year=year_value)
                .order_by("-version").first())
        issued = timezone.localdate().year
        report = AnnualReport.objects.create(
            organisation=org, year=year_value, version=(last.version + 1) if last else 1,
            number=number_format(org, issued, number_next(organisation=org, year=issued)),
            token=secrets.token_urlsafe(16), requested_by=user,
        )
        transaction.on_commit(partial(annual_report_queue, report.pk))
    report.refresh_from_db()
    return report


def annual_report_queue(report_id: int) -> None:
    from ..tasks import annual_report_generate  # the tasks module imports these services

    try:
        annual_report_generate.apply_async(args=[report_id], retry=False)
    except Exception as exc:  # noqa: BLE001 - the row stays pending and shows it; a new request reissues it
        logger.warning("annual report %s not queued (%s)", report_id, exc)


def _bars(chart: Chart) -> list[dict[str, Any]]:
    """The chart's first series as rows of a bar table (WeasyPrint draws no JavaScript chart)."""
    data = chart.series[0]["data"] if chart.series else []
    top = max([v for v in data if isinstance(v, (int, float))] or [0]) or 1
    return [{"label": label, "value": value if value is not None else "—",
             "width": round(100 * (value or 0) / top, 1)} for label, value in zip(chart.categories, data, strict=False)]


def annual_report_context(report: AnnualReport) -> tuple[dict[str, Any], bytes]:
    f = InsightFilter(dt.date(report.year, 1, 1), dt.date(report.year, 12, 31), "", report.organisation)
    with replica_reads():  # a year of aggregates may come from a read replica (DATABASE_REPLICA_URL)
        insight = insight_build(report.requested_by, f)
    url = f"{site_url()}/verify/{report.token}/"
    charts = {c.id: c for c in insight.charts}
    context = {
        "report": report, "issuing_org": report.organisation, "person": {"name": report.organisation.name}, "number": report.number, "version": report.version,
        "kind_label": "年度容错纠错工作情况报告", "verify_url": url, "qr": qr_png_data_uri(url),
        "reference": f"{report.year}年度", "issue_date": cn_date(timezone.localdate()),
        "insight": insight, "charts": charts,
        # Only Hohhot's measures impose the yearly report; elsewhere the report cites no duty it does not have.
        "duty": HOHHOT_DUTY if report.organisation.jurisdiction == "hohhot" else "",
        "bars": {k: _bars(c) for k, c in charts.items()},
    }
    heading = f"{report.organisation.name} {report.year} 年度"
    return context, charts_xlsx(insight.charts, heading=heading)


def annual_report_generate(*, report_id: int) -> AnnualReport | None:
    """Render and store one pending report; safe to run twice."""
    report = AnnualReport.objects.select_related("organisation", "requested_by").filter(pk=report_id).first()
    if report is None or report.status != AnnualReportStatus.PENDING:
        return report
    try:
        context, xlsx = annual_report_context(report)
        rendered = render_pdf(render_html("reports/documents/annual.html", context))
    except (FontMissing, DocumentRefused, RenderError) as exc:
        return _fail(report_id, str(exc))
    except Exception as exc:  # a template or data problem: show it on the report instead of leaving it pending
        logger.exception("annual report %s failed", report_id)
        return _fail(report_id, f"报告生成失败：{exc}")
    digest = hashlib.sha256(rendered.content).hexdigest()
    return _store(report_id, rendered, context, xlsx, digest)


def _fail(report_id: int, error: str) -> AnnualReport:
    AnnualReport.objects.filter(pk=report_id, status=AnnualReportStatus.PENDING).update(
        status=AnnualReportStatus.FAILED, error=error[:2000])
    return AnnualReport.objects.get(pk=report_id)


def _store(report_id: int, rendered: Any, context: dict[str, Any], xlsx: bytes, digest: str) -> AnnualReport:
    with transaction.atomic():
        locked = AnnualReport.objects.select_for_update().get(pk=report_id)
        if locked.status != AnnualReportStatus.PENDING:
            return locked
        locked.file.save(f"annual-{locked.pk}-v{locked.version}-{digest[:12]}.pdf", ContentFile(rendered.content),
                         save=False)
        locked.xlsx.save(f"annual-{locked.pk}-v{locked.version}.xlsx", ContentFile(xlsx), save=False)
        locked.sha256 = digest
        locked.sm3 = hashlib.new("sm3", rendered.content).hexdigest() if settings.SM3_AVAILABLE else ""
        locked.size, locked.pages = len(rendered.content), rendered.pages
        locked.figures = {c.id: {"title": c.title, "headers": c.headers, "rows": c.rows}
                          for c in context["insight"].charts}
        locked.status, locked.error, locked.generated_at = AnnualReportStatus.READY, "", timezone.now()
        locked.save()
        AnnualReport.objects.filter(organisation_id=locked.organisation_id, year=locked.year,
                                    version__lt=locked.version).update(superseded=True, superseded_by=locked)
    return locked


def annual_report_get(user: User, report_id: int) -> AnnualReport | None:
    """A report the user asked for, or one of an organisation in the user's statistics scope."""
    if not may_use_insight(user):
        return None
    qs = AnnualReport.objects.select_related("organisation")
    if not user.is_superuser:
        qs = qs.filter(Q(requested_by=user) | Q(organisation__in=organisations_for_insight(user)))
    return qs.filter(pk=report_id).first()
