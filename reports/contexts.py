"""What each document says, gathered from the records as plain values for its template.

The grounds come from the evaluation pinned on the decision (not a fresh evaluation), so a document
regenerated later says what the committee decided on.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.template.loader import select_template
from django.utils import timezone

from accounts.models import Organisation
from accounts.selectors import CaseAuthority, case_authority
from cases.models import Case, Outcome
from rules.dates import cn_date
from rules.errors import RuleError
from rules.loader import registry
from workflow.deadlines import appeal_window_days
from workflow.models import Appeal, AppealResult, Consultation, Decision, DecisionKind, MeetingKind, Proposal

from .middleware import request_origin
from .models import Document, DocumentKind
from .pdf import DocumentRefused, qr_png_data_uri

CN_DIGITS = "〇一二三四五六七八九"


def cn_number(n: int) -> str:
    """Small numbers in Chinese (三十日), as official letters write periods."""
    if n < 10:
        return CN_DIGITS[n]
    if n < 20:
        return "十" + (CN_DIGITS[n - 10] if n % 10 else "")
    if n < 100:
        return CN_DIGITS[n // 10] + "十" + (CN_DIGITS[n % 10] if n % 10 else "")
    return str(n)




# runserver's own default address: development's last resort when nothing says where the server runs.
DEVELOPMENT_SITE_URL = "http://127.0.0.1:8000"


def site_url() -> str:
    """The address documents print and link their QR codes to, without a trailing slash.

    ``SITE_URL`` when set. Unset in development: the address of the request that triggered the render,
    else runserver's default. Unset in production: refuse (the document fails), never a dead link.
    """
    if settings.SITE_URL:
        return settings.SITE_URL.rstrip("/")
    if not settings.SITE_URL_FROM_REQUEST:
        raise DocumentRefused("未设置系统对外访问地址（SITE_URL），文书中的核验地址和二维码将无法访问，因此不予生成。"
                              "请管理员设置 SITE_URL 后重新生成。")
    return request_origin() or DEVELOPMENT_SITE_URL


def verify_url(document: Document) -> str:
    return f"{site_url()}/verify/{document.token}/"


def _clause_view(item: dict[str, Any]) -> dict[str, Any]:
    source = item.get("source") or {}
    attested = source.get("attested") or {}
    derived = source.get("derived") or {}
    # The basis without repeating the status (it has its own column): the reasoning, then any derivation.
    basis = [attested["reasoning"].rstrip("。；;")] if attested.get("reasoning") else []
    if derived.get("basis"):
        basis.append(f"系统派生：{derived['basis']}")
    by = attested.get("by") or ""
    return {
        "id": item.get("clause", ""),
        "short_id": str(item.get("clause", "")).split(".", 1)[-1],
        "kind": item.get("kind", ""),
        "kind_label": item.get("kind_label", ""),
        "parent": item.get("parent"),
        "applies_to": item.get("applies_to"),
        "title": item.get("title", ""),
        "status": item.get("status", ""),
        "status_label": item.get("status_label", ""),
        "citation": item.get("citation", ""),
        "text": item.get("text", ""),
        "reasoning": attested.get("reasoning") or "",
        "source_label": source.get("label", ""),
        "basis": "；".join(basis) or source.get("label", ""),
        "by": by,
    }


def grounds(evaluation: dict[str, Any]) -> dict[str, Any]:
    """The clauses relied on, in the order a reader follows them."""
    trace = [_clause_view(t) for t in evaluation.get("trace") or []]
    by_id = {c["id"]: c for c in trace}
    decisive = [by_id[c] for c in evaluation.get("decisive") or [] if c in by_id]
    top = [c for c in trace if not c["parent"]]
    decisive_ids = {c["id"] for c in decisive}
    requirements = [c for c in trace if c["kind"] == "R" and c["applies_to"] in decisive_ids]
    return {
        "verdict": evaluation.get("verdict", ""),
        "verdict_label": evaluation.get("verdict_label", ""),
        "ruleset_title": evaluation.get("title", ""),
        "ruleset_label": f"{evaluation.get('ruleset', '')}@{evaluation.get('version', '')}",
        "ruleset_version": evaluation.get("version", ""),
        "ruleset_doc_number": evaluation.get("doc_number") or "",
        "content_hash": evaluation.get("content_hash", ""),
        "engine_version": evaluation.get("engine_version", ""),
        "decisive": decisive,
        "prerequisites": [c for c in top if c["kind"] == "P"],
        "prerequisites_met": bool(top) and all(c["status"] == "met" for c in top if c["kind"] == "P"),
        "exclusions_met": [c for c in top if c["kind"] == "X" and c["status"] == "met"],
        "requirements": requirements,
        "mitigation": [by_id[c] for c in evaluation.get("mitigation") or [] if c in by_id],
        "trace": trace,
    }


def consequences_template(ruleset: str) -> str:
    """What the outcome means for assessment and promotion, as the jurisdiction's documents state it."""
    family = ruleset.split("@", 1)[0]
    template = select_template([f"reports/consequences/{family}.html", "reports/consequences/default.html"])
    return template.template.name


def _decision_for(document: Document, kind: str) -> Decision | None:
    if document.decision_id:
        return document.decision
    return document.case.decisions.filter(kind=kind).order_by("-sequence").first()


def _meeting(decision: Decision) -> dict[str, Any]:
    return {
        "kind_label": MeetingKind(decision.meeting_kind).label if decision.meeting_kind in MeetingKind.values else
        decision.meeting_kind,
        "date": cn_date(decision.meeting_date),
        "present": decision.members_present,
        "total": decision.members_total,
        "recused": list(decision.recused or []),
    }


def _person(case: Case) -> dict[str, Any]:
    person = case.subject
    unit = person.is_unit
    return {"name": person.name, "unit": person.unit.name, "position": person.position, "rank": person.rank,
            "is_unit": unit,
            # How documents address the party: 王某同志 / 张家口市住房和城乡建设局; 你 / 你单位.
            "about": person.name if unit else f"{person.name}同志", "you": "你单位" if unit else "你",
            "you_self": "你单位" if unit else "你本人"}


def _appeal_deadline(case: Case, issue_date: dt.date, authority: CaseAuthority) -> dict[str, Any]:
    days = appeal_window_days()
    known = case.appeal_deadline
    return {
        "days": days,
        "days_cn": cn_number(days),
        "deadline": cn_date(known or issue_date + dt.timedelta(days=days)),
        "known": known is not None,
        "to": (authority.committee or case.accountability_org).name,
    }


def _recipients(case: Case, authority: CaseAuthority) -> list[Organisation]:
    seen: dict[int, Organisation] = {}
    for org in (authority.upper_discipline, authority.upper_orgdept, case.accountability_org):
        if org is not None:
            seen.setdefault(org.pk, org)
    return list(seen.values())


def _claimed(case: Case) -> list[dict[str, str]]:
    try:
        version = registry().version_for(case.ruleset, case.conduct_date)
    except RuleError:
        return [{"id": c, "title": "", "citation": ""} for c in case.claimed_situations]
    out = []
    for clause_id in case.claimed_situations or []:
        clause = version.clause(clause_id) if version.has_clause(clause_id) else None
        out.append({"id": clause_id.split(".", 1)[-1], "title": clause.title if clause else "",
                    "citation": clause.citation if clause else ""})
    return out


def document_context(document: Document) -> dict[str, Any]:
    """Everything the document's template needs; raises ValueError when the record is incomplete."""
    if document.kind == DocumentKind.CLARIFICATION:
        return _clarification_context(document)
    case = document.case
    url = verify_url(document)
    issue_date = timezone.localdate(document.created_at) if document.created_at else timezone.localdate()
    base: dict[str, Any] = {
        "document": document,
        "kind_label": document.get_kind_display(),
        "case": case,
        "reference": case.reference,
        "person": _person(case),
        "issuing_org": document.issuing_org,
        "number": document.number,
        "version": document.version,
        "verify_url": url,
        "qr": qr_png_data_uri(url),
        "matter_category": case.get_matter_category_display(),
        "conduct_date": cn_date(case.conduct_date),
    }
    kind = document.kind
    if kind == DocumentKind.APPLICATION:
        attachments = [e.original_name for e in case.evidence.filter(description="申请附件")]
        applicant = case.applicant.display_name() if case.applicant else case.subject.name
        try:
            ruleset_title = registry().version_for(case.ruleset, case.conduct_date).title
        except RuleError:
            ruleset_title = case.ruleset
        return {**base, "issue_date": cn_date(timezone.localdate(case.created_at)), "applicant": applicant,
                "claimed": _claimed(case), "attachments": attachments, "ruleset_title": ruleset_title,
                "applicant_unit": case.applicant_unit.name if case.applicant_unit_id else ""}

    decision_kind = DecisionKind.APPEAL_REVIEW if kind == DocumentKind.APPEAL_REVIEW else DecisionKind.DECISION
    decision = _decision_for(document, decision_kind)
    if decision is None:
        raise ValueError(f"案件 {case.reference} 尚无{DecisionKind(decision_kind).label}，不能生成{document.get_kind_display()}。")
    evaluation = decision.evaluation or {}
    authority = case_authority(case.subject)
    context = {
        **base,
        "decision": decision,
        "issue_date": cn_date(issue_date),
        "outcome": decision.outcome,
        "outcome_label": Outcome(decision.outcome).label,
        "refused": decision.outcome == Outcome.REFUSED,
        "grounds": grounds(evaluation),
        "meeting": _meeting(decision),
        "committee": authority.committee,
        "consequences_template": consequences_template(case.ruleset),
        "appeal": _appeal_deadline(case, issue_date, authority),
    }
    if kind == DocumentKind.FILING:
        proposals = list(Proposal.objects.filter(case=case).select_related("proposed_by").order_by("round"))
        consultations = list(
            Consultation.objects.filter(proposal__case=case)
            .select_related("organisation", "proposal").order_by("proposal__round", "id")
        )
        context.update({
            "recipients": _recipients(case, authority),
            "proposal": proposals[-1] if proposals else None,
            "proposal_outcome_label": Outcome(proposals[-1].recommended_outcome).label if proposals else "",
            "consultations": consultations,
            "appeals": list(case.appeals.order_by("filed_at")),
            # 回访 done by the time the report is (re)issued (张家口 第十一条(五)).
            "return_visits": list(case.return_visits.filter(completed_at__isnull=False).order_by("visited_on")),
            "origin_label": case.get_origin_display(),
            "disposition_label": case.get_disposition_display() if case.disposition else "",
            "rounds": len(proposals),
        })
    if kind == DocumentKind.APPEAL_REVIEW:
        appeal = Appeal.objects.filter(review_decision=decision).first() or case.appeals.order_by("-filed_at").first()
        context.update({"appeal_record": appeal, "appeal_filed": cn_date(timezone.localdate(appeal.filed_at))
                        if appeal else "", "overturned": decision.appeal_result == AppealResult.OVERTURNED,
                        "appeal_by_unit": bool(appeal and case.applicant_unit_id and not case.subject.is_unit
                                               and appeal.filed_by_id
                                               and appeal.filed_by_id != case.subject.user_id)})
    return context


def _clarification_context(document: Document) -> dict[str, Any]:
    """The clarification notice (澄清正名通知): who is cleared, on what basis, announced how widely."""
    from workflow import followup_policy

    clarification = document.clarification
    if clarification is None:
        raise ValueError("澄清正名通知缺少澄清记录。")
    person = clarification.person
    url = verify_url(document)
    issue_date = timezone.localdate(document.created_at) if document.created_at else timezone.localdate()
    return {
        "document": document,
        "kind_label": document.get_kind_display(),
        "case": clarification.case,
        "reference": clarification.case.reference if clarification.case_id else document.number,
        "person": {"name": person.name, "unit": person.unit.name, "position": person.position,
                   "about": f"{person.name}同志"},
        "clarification": clarification,
        "scope_label": clarification.get_scope_display(),
        "decided_on": cn_date(clarification.decided_on),
        "referred_on": cn_date(clarification.accuser_referred_on),
        "citations": followup_policy.CLARIFICATION,
        "issuing_org": document.issuing_org,
        "number": document.number,
        "version": document.version,
        "verify_url": url,
        "qr": qr_png_data_uri(url),
        "issue_date": cn_date(issue_date),
    }
