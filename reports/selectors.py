"""Reads over documents, filings and export jobs, always starting from what the user may see."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from accounts.models import Organisation, User
from accounts.selectors import subtree_ids
from cases.models import Case, CaseState, Outcome
from cases.search import case_search
from rules.loader import registry
from workflow.models import ReturnVisit
from workflow.permissions import scope_of, visible_cases
from workflow.selectors import case_get, clarifications_visible

from .models import Document, DocumentKind, DocumentStatus, ExportJob, ExportStatus
from .permissions import may_see_job, may_use_filing_register, visible_kinds


class PeriodError(ValueError):
    """A date or period the user typed that cannot be used; ``field`` names the input ("from" or "to")."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def case_documents(user: User, case: Case) -> QuerySet[Document]:
    """Every version of the case's documents this user may see, newest first within a kind."""
    kinds = visible_kinds(user, case)
    return (
        Document.objects.filter(case=case, kind__in=kinds)
        .select_related("issuing_org")
        .order_by("kind", "-version")
    )


def document_get(user: User, document_id: Any) -> Document | None:
    """One document the user may see (its case visible, its kind allowed), or None: the door answers 404."""
    try:
        pk = int(document_id)
    except (TypeError, ValueError):
        return None
    doc = Document.objects.select_related("case", "issuing_org").filter(pk=pk).first()
    if doc is None:
        return None
    if doc.kind == DocumentKind.CLARIFICATION:
        # A clarification's notice: whoever may see the clarification (its body, the cadre cleared).
        return doc if clarifications_visible(user).filter(pk=doc.clarification_id).exists() else None
    case = case_get(user, doc.case_id)
    if case is None or doc.kind not in visible_kinds(user, case):
        return None
    doc.case = case
    return doc


def document_by_token(token: str) -> Document | None:
    """For the public verification page: by the QR token or by the file's SHA-256."""
    token = (token or "").strip().lower() if len(token or "") == 64 else (token or "").strip()
    if not token or len(token) > 64:
        return None
    field = "sha256" if len(token) == 64 else "token"
    return (
        Document.objects.select_related("case__subject", "issuing_org", "superseded_by")
        .filter(**{field: token}, status=DocumentStatus.READY)
        .first()
    )


def parse_period(raw_from: Any, raw_to: Any, *, required: bool = False) -> tuple[dt.date | None, dt.date | None]:
    """The period a page or the API was given, as dates; raises ``PeriodError`` naming the bad input."""
    def one(value: Any, field: str) -> dt.date | None:
        if value in (None, ""):
            if required:
                raise PeriodError(field, "请填写日期（YYYY-MM-DD）。")
            return None
        if isinstance(value, dt.date):
            return value
        try:
            parsed = dt.date.fromisoformat(str(value))
        except ValueError:
            raise PeriodError(field, "日期格式应为 YYYY-MM-DD。") from None
        if not (1900 <= parsed.year <= 2999):
            raise PeriodError(field, "日期应在 1900 年至 2999 年之间。")
        return parsed

    start, end = one(raw_from, "from"), one(raw_to, "to")
    if start and end and start > end:
        raise PeriodError("from", "起始日期不能晚于截止日期。")
    return start, end


def organisation_from_param(raw: Any) -> Organisation | None:
    """The organisation a query or form parameter names by id, or None (empty, not an id, or unknown)."""
    text = str(raw).strip() if isinstance(raw, int | str) and not isinstance(raw, bool) else ""
    # An id longer than a bigint would make the database raise rather than find nothing.
    if not (text.isascii() and text.isdecimal() and len(text) < 19):
        return None
    return Organisation.objects.filter(pk=int(text)).first()


# The filing register's order, wherever it is read (page, API, export): see ``filing_list``.
FILING_ORDER = ("-decision_date", "-id")
# What a row of the register shows (the page, ``FilingOutput``): a case row also holds its long texts.
FILING_ROW_FIELDS = ("id", "reference", "title", "outcome", "decision_date", "decided_at", "subject__name",
                     "subject__unit__name", "accountability_org__name")


# The register's filters besides the period and organisation, by parameter name (page, API, export job).
FILING_FILTERS = ("outcome", "ruleset", "q")


class FilingFilterError(ValueError):
    """A register filter value that names nothing (``field``: the parameter), for a page message or a 400."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def filing_filters_check(*, outcome: str = "", ruleset: str = "") -> None:
    """Refuse an outcome or rule set that does not exist, naming it, rather than listing nothing."""
    if outcome and outcome not in Outcome.values:
        raise FilingFilterError("outcome", f"未知的容错结论：{outcome[:20]}")
    if ruleset and ruleset not in registry().ids():
        raise FilingFilterError("ruleset", f"未知的适用规则：{ruleset[:60]}")


def filing_list(
    user: User, *, date_from: dt.date | None = None, date_to: dt.date | None = None,
    organisation: Organisation | None = None, outcome: str = "", ruleset: str = "", q: str = "",
) -> QuerySet[Case]:
    """Decided cases the user's organisation department receives, by decision date, with a subtree filter.

    The decision date is the meeting date of the first decision (``Case.decision_date``), the date the
    feedback letter and the filing report print; an appeal review later does not move it. Newest first,
    then by id, so the order is total and served by the ``case_decision_date_idx`` index, which the page
    walks testing each row's visibility from the index alone. ``outcome`` and
    ``ruleset`` narrow to one conclusion or rule set (``filing_filters_check`` first); ``q`` is the same
    search box as the case lists: case number, cadre's or unit's name, title, summary.
    """
    if not may_use_filing_register(user):
        return Case.objects.none()
    filing_filters_check(outcome=outcome, ruleset=ruleset)
    qs = visible_cases(user, walking=True).filter(state__in=CaseState.decided(), decision_date__isnull=False)
    if date_from:
        qs = qs.filter(decision_date__gte=date_from)
    if date_to:
        qs = qs.filter(decision_date__lte=date_to)
    if organisation is not None:
        ids = subtree_ids(organisation)
        qs = qs.filter(Q(subject__unit_id__in=ids) | Q(accountability_org_id__in=ids))
    if outcome:
        qs = qs.filter(outcome=outcome)
    if ruleset:
        qs = qs.filter(ruleset=ruleset)
    qs = case_search(qs, q)
    return filing_rows(qs).order_by(*FILING_ORDER)


def filing_rows(cases: QuerySet[Case]) -> QuerySet[Case]:
    """Cases with what a register row shows: the cadre, their unit, the department, and the return visits
    as a plain list (``Case.filing_visits``; a prefetch into the related manager builds a queryset per row)."""
    return cases.select_related("subject__unit", "accountability_org").prefetch_related(
        Prefetch("return_visits", to_attr="filing_visits"))


# A return visit as a register row shows it (``FilingVisitOutput``).
FILING_VISIT_FIELDS = ("case_id", "due_on", "form", "visited_on", "cadre_state")


def filing_row_values(case_ids: list[int]) -> list[dict[str, Any]]:
    """The register rows of these cases, in this order, read as values (``FILING_ROW_FIELDS``) with each case's
    return visits under ``visits``: what ``GET /api/filings/`` answers with, without building a model
    instance for each case, cadre, unit, department and visit (which cost twice the reading)."""
    if not case_ids:
        return []
    found = {row["id"]: {**row, "visits": []} for row in Case.objects.filter(pk__in=case_ids).values(*FILING_ROW_FIELDS)}
    for visit in ReturnVisit.objects.filter(case_id__in=list(found)).values(*FILING_VISIT_FIELDS):
        found[visit["case_id"]]["visits"].append(visit)
    return [found[pk] for pk in case_ids if pk in found]


def current_filings(case_ids: list[int]) -> dict[int, Document]:
    """The newest filing document of each case (ready or not)."""
    docs: dict[int, Document] = {}
    for doc in Document.objects.filter(case_id__in=case_ids, kind=DocumentKind.FILING).order_by("case_id", "-version"):
        docs.setdefault(doc.case_id, doc)
    return docs


def organisations_for_filter(user: User) -> list[dict[str, Any]]:
    """Organisations whose subtree the user may narrow the register to: their own part of the tree.

    The subtrees the user's organisation department serves (every organisation for the admin), read in
    one query of plain values however many cases there are; listed top-down (by depth), then by id.
    Each item has ``pk`` and ``name``.
    """
    scope = scope_of(user)
    rows = list(Organisation.objects.values_list("pk", "name", "parent_id"))
    parents = {pk: parent for pk, _, parent in rows}

    def depth(pk: int) -> int:
        n, seen = 0, {pk}
        while (pk := parents.get(pk)) is not None and pk not in seen:
            n, seen = n + 1, seen | {pk}
        return n

    wanted = set(parents) if scope.is_admin else scope.orgdept_subtree_ids
    return sorted(({"pk": pk, "name": name} for pk, name, _ in rows if pk in wanted),
                  key=lambda o: (depth(o["pk"]), o["pk"]))


def job_get(user: User, job_id: Any) -> ExportJob | None:
    """One export job the user may see (their own, or any for the admin), or None: the door answers 404."""
    try:
        pk = int(job_id)
    except (TypeError, ValueError):
        return None
    job = ExportJob.objects.filter(pk=pk).first()
    if job is None or not may_see_job(user, job):
        return None
    return job


def job_progress(job: ExportJob) -> int:
    """Progress read live: while the workers render, the job's own check may wait behind them in the queue."""
    if job.status != ExportStatus.RUNNING or not job.case_ids or job.progress >= 80:
        return job.progress
    ready = (
        Document.objects.filter(case_id__in=job.case_ids, kind=DocumentKind.FILING, status=DocumentStatus.READY)
        .values("case_id").distinct().count()
    )
    return max(job.progress, min(80, ready * 80 // max(len(job.case_ids), 1)))


def clarification_documents(user: User, clarification_id: Any) -> QuerySet[Document]:
    """Every version of a visible clarification's notice, newest first."""
    if not clarifications_visible(user).filter(pk=clarification_id).exists():
        return Document.objects.none()
    return Document.objects.filter(clarification_id=clarification_id, kind=DocumentKind.CLARIFICATION).order_by(
        "-version")
