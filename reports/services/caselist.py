"""Export of the case list as its user sees it (the same filters, search and visibility) to one XLSX.

The job is created with the list's parameters; the worker reads the list again as that user, so an
export never holds a case the user could not open. Dates are written as Excel dates, the rule set by
its Chinese title and the date of the version that applies to the case.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from functools import cache, partial
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from accounts.models import PartyKind
from cases.models import Case, CaseState, MatterCategory, Origin, Outcome
from rules.errors import RuleError
from rules.loader import registry
from workflow.errors import InvalidInput, NotAllowed
from workflow.history import Actor, history_append
from workflow.models import HistoryAction
from workflow.selectors import FilterError, case_list, overdue_first

from ..models import ExportJob, ExportKind, ExportStatus

# The parameters of the case list (``workflow.filters.CaseFilter``) an export takes over.
CASE_LIST_PARAMS = ("state", "ruleset", "outcome", "unit", "organisation", "from", "to", "q", "overdue")
CASE_LIST_HEADER = ["序号", "案件编号", "事项名称", "当事人", "当事人类别", "所在单位", "职务", "问责部门", "适用规则",
                    "事项类别", "行为发生日期", "启动方式", "状态", "容错结论", "决定日期", "本环节办理期限", "是否超期",
                    "创建日期"]
DATE_FORMAT = "yyyy-mm-dd"
# Progress is written every this many rows (a write per row would cost more than the row).
PROGRESS_EVERY = 200


def date_cn(day: dt.date) -> str:
    """The date as documents print it (GB/T 9704): 2027年1月1日."""
    return f"{day.year}年{day.month}月{day.day}日"


@cache
def _version_label(ruleset: str, title: str, effective_from: dt.date) -> str:
    return f"{title}（{date_cn(effective_from)}施行版）"


def ruleset_label(ruleset: str, conduct_date: dt.date | None, decision_date: dt.date | None = None) -> str:
    """The rule set as people name it: its Chinese title and the date of the version applying to the case."""
    try:
        if conduct_date is None:
            version = registry().family(ruleset).latest
        else:
            version, _ = registry().version_applying(ruleset, conduct_date, decision_date)
    except RuleError:
        try:
            version = registry().family(ruleset).latest
        except RuleError:
            return ruleset
    return _version_label(ruleset, version.title, version.effective_from)


def case_list_filters(data: Any) -> dict[str, str]:
    """The list parameters of a request (query string or form), as the job stores them."""
    return {k: str(data.get(k)).strip()[:200] for k in CASE_LIST_PARAMS if data.get(k) not in (None, "")}


_PARAM_LABELS = {"state": "状态", "ruleset": "规则", "outcome": "结论", "unit": "单位编号", "organisation": "问责部门编号",
                 "from": "创建日期起", "to": "创建日期止", "q": "检索", "overdue": "超期"}


def filters_text(filters: dict[str, str]) -> str:
    """The filters of a job in words, for the exports page."""
    labels = {"state": dict(CaseState.choices), "outcome": dict(Outcome.choices),
              "overdue": {"true": "仅超期", "1": "仅超期", "false": "未超期", "0": "未超期"}}
    parts = []
    for key, value in (filters or {}).items():
        shown = "、".join(labels[key].get(v, v) for v in value.split(",")) if key in labels else value
        if key == "ruleset":
            shown = ruleset_label(value, None)
        parts.append(f"{_PARAM_LABELS.get(key, key)}：{shown}")
    return "；".join(parts) or "全部可见案件"


@transaction.atomic
def case_list_export_create(*, actor: Actor, filters: dict[str, str]) -> ExportJob:
    """Start an export of the case list with these filters; a bad filter is refused before anything is written."""
    user = actor.user
    if user is None or not user.is_authenticated:
        raise NotAllowed("请先登录。")
    try:
        case_list(user, filters)
    except FilterError as exc:
        raise InvalidInput(exc.message, field=exc.field) from None
    job = ExportJob.objects.create(requested_by=user, kind=ExportKind.CASES, filters=filters)
    history_append(case_id=None, actor=actor, action=HistoryAction.CASE_LIST_EXPORT,
                   changes={"job": job.pk, "filters": filters})
    from .exports import export_queue

    transaction.on_commit(partial(export_queue, job.pk))
    return job


def sheet_cells(ws: Any, values: list[Any]) -> list[Any]:
    """Write-only cells for one row: dates as Excel dates, and text that starts with "=" kept as text.

    openpyxl would store such text as a formula, which Excel then runs: a title typed by anyone must
    never become one.
    """
    from openpyxl.cell import WriteOnlyCell

    cells = []
    for value in values:
        cell = WriteOnlyCell(ws, value=value)
        if isinstance(value, dt.date):
            cell.number_format = DATE_FORMAT
        elif isinstance(value, str) and value.startswith("="):
            cell.data_type = "s"
        cells.append(cell)
    return cells


def _row(i: int, case: Case, today: dt.date) -> list[Any]:
    subject = case.subject
    return [
        i, case.reference, case.title, subject.name, PartyKind(subject.kind).label,
        subject.unit.name, subject.position, case.accountability_org.name,
        ruleset_label(case.ruleset, case.conduct_date, case.decision_date),
        MatterCategory(case.matter_category).label if case.matter_category in MatterCategory.values else "",
        case.conduct_date, Origin(case.origin).label, CaseState(case.state).label,
        Outcome(case.outcome).label if case.outcome else "", case.decision_date, case.deadline,
        "是" if case.is_overdue(today) else "否", timezone.localtime(case.created_at).date(),
    ]


def case_list_export_build(job: ExportJob) -> str:
    """Write the XLSX of a case-list job, reporting progress as rows are written; returns "done"."""
    from openpyxl import Workbook  # only exports need it

    qs = overdue_first(case_list(job.requested_by, job.filters or {}))
    total = qs.count()
    ExportJob.objects.filter(pk=job.pk).update(total=total)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("案件清单")
    for column, width in zip("ABCDEFGHIJKLMNOPQR", (6, 16, 36, 12, 10, 24, 12, 24, 40, 14, 14, 18, 12, 10, 14,
                                                     16, 10, 14), strict=True):
        ws.column_dimensions[column].width = width
    ws.append(CASE_LIST_HEADER)
    today = timezone.localdate()
    for i, case in enumerate(qs.iterator(chunk_size=500), start=1):
        ws.append(sheet_cells(ws, _row(i, case, today)))
        if i % PROGRESS_EVERY == 0:
            ExportJob.objects.filter(pk=job.pk).update(progress=min(95, i * 95 // max(total, 1)))
    buffer = io.BytesIO()
    wb.save(buffer)
    _finish(job, buffer.getvalue(), total)
    return "done"


def _finish(job: ExportJob, content: bytes, total: int) -> None:
    with transaction.atomic():
        locked = ExportJob.objects.select_for_update().get(pk=job.pk)
        if locked.status == ExportStatus.READY:
            return  # an earlier delivery finished it
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
        locked.file.save(f"cases-{job.pk}-{stamp}.xlsx", ContentFile(content), save=False)
        locked.sha256 = hashlib.sha256(content).hexdigest()
        locked.size = len(content)
        locked.total = total
        locked.progress = 100
        locked.status = ExportStatus.READY
        locked.finished_at = timezone.now()
        locked.error = ""
        locked.save(update_fields=["file", "sha256", "size", "total", "progress", "status", "finished_at", "error"])


def case_list_download_record(*, job: ExportJob, actor: Actor) -> None:
    """Audit a download of a case list export."""
    with transaction.atomic():
        history_append(case_id=None, actor=actor, action=HistoryAction.CASE_LIST_EXPORT_DOWNLOAD,
                       changes={"job": job.pk, "sha256": job.sha256, "count": job.total, "filters": job.filters})
