"""What reports answers with, and what it accepts: each output serializer is both the response and its schema.

The API views serialize with these classes and name the same classes in ``@extend_schema``, so the
published schema cannot miss a key the response carries. Timestamps are given in UTC (``...Z``), as
the API has always given them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cases.labels import choice_labels
from cases.models import Case, Outcome
from workflow.models import ReturnVisit

from .models import Document, DocumentKind, DocumentStatus, ExportJob, ExportKind, ExportStatus
from .selectors import job_progress

# What a party (the cadre or the applying unit) reads instead of an internal error message.
PARTY_FAILURE_NOTE = "生成失败，问责部门已知悉。"


def _utc() -> serializers.DateTimeField:
    return serializers.DateTimeField(default_timezone=dt.UTC)


class FromKeyword:
    """A serializer whose field ``from`` (a Python keyword) is declared as ``from_``."""

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()  # type: ignore[misc]
        fields["from"] = fields.pop("from_")
        return fields


class DocumentOutput(serializers.Serializer):
    """One version of a case's document. Context ``internal=False`` (a party asking) hides the error text."""

    id = serializers.IntegerField(source="pk")
    kind = serializers.ChoiceField(choices=DocumentKind.choices)
    kind_label = serializers.CharField(source="get_kind_display")
    number = serializers.CharField()
    version = serializers.IntegerField()
    current = serializers.BooleanField()
    superseded_by = serializers.IntegerField(source="superseded_by_id", allow_null=True,
                                             help_text="替代本版本的新版本的 id（现行版本为 null）")
    reason = serializers.CharField(help_text="生成（或重新出具）的原因")
    status = serializers.ChoiceField(choices=DocumentStatus.choices)
    status_label = serializers.CharField(source="get_status_display")
    error = serializers.SerializerMethodField()
    sha256 = serializers.CharField()
    size = serializers.IntegerField()
    created_at = _utc()
    generated_at = serializers.DateTimeField(default_timezone=dt.UTC, allow_null=True)
    download_url = serializers.SerializerMethodField()

    def get_error(self, doc: Document) -> str:
        if self.context.get("internal", True):
            return doc.error
        return PARTY_FAILURE_NOTE if doc.status == DocumentStatus.FAILED else ""

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_download_url(self, doc: Document) -> str | None:
        if doc.status != DocumentStatus.READY:
            return None
        return reverse("reports_api:case-document-file", args=[doc.case_id, doc.pk])

    def to_representation(self, doc: Document) -> dict[str, Any]:
        """The declared fields' output, built directly: the filing register shows up to 500 documents a page,
        and DRF's generic path inspects the signature of every ``get_..._display`` for each of them.
        ``tests/reports/test_document_output.py`` holds the two outputs equal."""
        return {
            "id": doc.pk,
            "kind": _plain(doc.kind),
            "kind_label": _plain(doc.get_kind_display()),
            "number": _plain(doc.number),
            "version": None if doc.version is None else int(doc.version),
            "current": bool(doc.current),
            "superseded_by": None if doc.superseded_by_id is None else int(doc.superseded_by_id),
            "reason": _plain(doc.reason),
            "status": _plain(doc.status),
            "status_label": _plain(doc.get_status_display()),
            "error": self.get_error(doc),
            "sha256": _plain(doc.sha256),
            "size": None if doc.size is None else int(doc.size),
            "created_at": None if doc.created_at is None else _UTC.to_representation(doc.created_at),
            "generated_at": None if doc.generated_at is None else _UTC.to_representation(doc.generated_at),
            "download_url": self.get_download_url(doc),
        }


_UTC = _utc()


def _plain(value: Any) -> str | None:
    """What a ``CharField`` or ``ChoiceField`` outputs for a stored text: the text, or None."""
    return None if value is None else str(value)


class FilingVisitOutput(serializers.Serializer):
    """A return visit (回访) as the filing register shows it: the plan and whether it was done."""

    due_on = serializers.DateField()
    form = serializers.CharField(source="get_form_display")
    visited_on = serializers.DateField(allow_null=True)
    cadre_state = serializers.CharField(help_text="干部现实表现（完成后填写）")


class FilingOutput(serializers.Serializer):
    """One row of the filing register: a decided case and its current filing report (if requested yet).

    Context ``filings`` maps case id to that case's current filing document (``selectors.current_filings``);
    each case is read with ``selectors.filing_rows``.
    """

    case = serializers.IntegerField(source="pk")
    reference = serializers.CharField()
    title = serializers.CharField()
    person = serializers.CharField(source="subject.name")
    unit = serializers.CharField(source="subject.unit.name")
    accountability_org = serializers.CharField(source="accountability_org.name")
    outcome = serializers.ChoiceField(choices=Outcome.choices, allow_blank=True)
    outcome_label = serializers.CharField(source="get_outcome_display")
    decision_date = serializers.DateField(help_text="决定日期：首次集体研究决定的会议日期（登记按此排序、筛选）")
    decided_at = serializers.DateTimeField(default_timezone=dt.UTC, help_text="决定录入系统的时间（不是决定日期）")
    filing = serializers.SerializerMethodField()
    return_visits = serializers.SerializerMethodField(help_text="回访：计划日期、形式、完成日期（未完成为 null）")

    # A page holds up to 500 rows: each is built directly from the row's values (``filing_row_output``; the
    # declared fields above stay the schema, and ``tests/reports/test_filing_output.py`` holds the outputs
    # equal). DRF's field-by-field path, with a nested serializer built per row, cost more than the rest of
    # the request.
    def to_representation(self, case: Case) -> dict[str, Any]:
        return filing_row_output(_filing_row(case), self.context["filings"].get(case.pk))

    @extend_schema_field(FilingVisitOutput(many=True))
    def get_return_visits(self, case: Case) -> list[dict[str, Any]]:
        return FilingVisitOutput(case.filing_visits, many=True).data

    @extend_schema_field(DocumentOutput(allow_null=True))
    def get_filing(self, case: Case) -> dict[str, Any] | None:
        doc = self.context["filings"].get(case.pk)
        return DocumentOutput(doc).data if doc is not None else None


def _filing_row(case: Case) -> dict[str, Any]:
    """A loaded case (``selectors.filing_rows``) as the values ``selectors.filing_row_values`` reads."""
    return {
        "id": case.pk, "reference": case.reference, "title": case.title, "outcome": case.outcome,
        "decision_date": case.decision_date, "decided_at": case.decided_at, "subject__name": case.subject.name,
        "subject__unit__name": case.subject.unit.name, "accountability_org__name": case.accountability_org.name,
        "visits": [{"due_on": v.due_on, "form": v.form, "visited_on": v.visited_on, "cadre_state": v.cadre_state}
                   for v in case.filing_visits],
    }


def filing_row_output(row: dict[str, Any], doc: Document | None) -> dict[str, Any]:
    """``FilingOutput``'s output for one register row read as values, with its current filing document."""
    day, when = _DAY, _UTC
    outcome, forms = choice_labels(Case._meta.get_field("outcome")), choice_labels(ReturnVisit._meta.get_field("form"))
    return {
        "case": row["id"],
        "reference": _plain(row["reference"]),
        "title": row["title"],
        "person": row["subject__name"],
        "unit": row["subject__unit__name"],
        "accountability_org": row["accountability_org__name"],
        "outcome": row["outcome"],
        "outcome_label": str(outcome.get(row["outcome"], row["outcome"])),
        "decision_date": None if row["decision_date"] is None else day.to_representation(row["decision_date"]),
        "decided_at": None if row["decided_at"] is None else when.to_representation(row["decided_at"]),
        "filing": _DOCUMENT.to_representation(doc) if doc is not None else None,
        "return_visits": [
            {"due_on": None if v["due_on"] is None else day.to_representation(v["due_on"]),
             "form": str(forms.get(v["form"], v["form"])),
             "visited_on": None if v["visited_on"] is None else day.to_representation(v["visited_on"]),
             "cadre_state": v["cadre_state"]}
            for v in row["visits"]
        ],
    }


def filing_rows_output(rows: list[dict[str, Any]], filings: dict[int, Document]) -> list[dict[str, Any]]:
    """``FilingOutput(many=True)``'s output for rows read by ``selectors.filing_row_values``."""
    return [filing_row_output(row, filings.get(row["id"])) for row in rows]


_DAY = serializers.DateField()
_DOCUMENT = DocumentOutput()


class JobStatusOutput(serializers.Serializer):
    """An export job as the filing register page polls it (``/jobs/<id>/``): the error is in the label."""

    download_route = "reports:job-download"

    id = serializers.IntegerField(source="pk")
    status = serializers.ChoiceField(choices=ExportStatus.choices)
    status_label = serializers.SerializerMethodField()
    progress = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()

    def get_status_label(self, job: ExportJob) -> str:
        failed_note = f"：{job.error}" if job.error and job.status != ExportStatus.READY else ""
        return job.get_status_display() + failed_note

    @extend_schema_field(serializers.IntegerField(min_value=0, max_value=100))
    def get_progress(self, job: ExportJob) -> int:
        return job_progress(job)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_download_url(self, job: ExportJob) -> str | None:
        if job.status != ExportStatus.READY:
            return None
        return reverse(self.download_route, args=[job.pk])


class JobOutput(FromKeyword, JobStatusOutput):
    """An export job as the API gives it: the period, the error on its own, and the archive's SHA-256."""

    download_route = "reports_api:job-file"

    job = serializers.IntegerField(source="pk", help_text="同 id（早期客户端使用）")
    kind = serializers.ChoiceField(choices=ExportKind.choices, help_text="filings：备案材料 ZIP；cases：案件清单 XLSX")
    filters = serializers.DictField(child=serializers.CharField(), help_text="导出时的筛选与检索条件")
    status_label = serializers.CharField(source="get_status_display")
    total = serializers.IntegerField()
    from_ = serializers.DateField(source="date_from", allow_null=True, help_text="备案导出的决定日期起；案件清单为 null")
    to = serializers.DateField(source="date_to", allow_null=True)
    organisation = serializers.IntegerField(source="organisation_id", allow_null=True)
    error = serializers.CharField()
    sha256 = serializers.SerializerMethodField()
    created_at = _utc()

    def get_sha256(self, job: ExportJob) -> str:
        return job.sha256 if job.status == ExportStatus.READY else ""


class RegenerateInput(serializers.Serializer):
    """Reissue a document after a correction: which kind, and why (goes into the history)."""

    kind = serializers.ChoiceField(choices=DocumentKind.choices)
    reason = serializers.CharField(max_length=200)


class ExportInput(FromKeyword, serializers.Serializer):
    """The period (decision dates: meeting dates of the first decision) and optional organisation subtree of a filing export."""

    from_ = serializers.CharField(help_text="YYYY-MM-DD")
    to = serializers.CharField(help_text="YYYY-MM-DD")
    organisation = serializers.IntegerField(required=False, allow_null=True)
    outcome = serializers.ChoiceField(choices=Outcome.choices, required=False, help_text="容错结论")
    ruleset = serializers.CharField(required=False, help_text="适用规则编号")
    q = serializers.CharField(required=False, help_text="检索：案件编号、当事干部或单位名称、事项名称、基本情况")


class CaseListExportInput(FromKeyword, serializers.Serializer):
    """The case list's filters, as ``GET /api/cases/`` takes them (all optional; also accepted in the query string)."""

    state = serializers.CharField(required=False, help_text="状态，可用逗号分隔多个")
    ruleset = serializers.CharField(required=False, help_text="适用规则")
    outcome = serializers.CharField(required=False, help_text="结论")
    unit = serializers.CharField(required=False, help_text="当事干部所在单位编号")
    organisation = serializers.CharField(required=False, help_text="问责部门编号")
    from_ = serializers.CharField(required=False, help_text="创建日期起 YYYY-MM-DD")
    to = serializers.CharField(required=False, help_text="创建日期止 YYYY-MM-DD")
    q = serializers.CharField(required=False, help_text="检索：案件编号、事项名称、当事干部或单位名称、基本情况")
    overdue = serializers.CharField(required=False, help_text="是否超期（true / false）")
