"""Reads over cases, and the facts the rule engine needs, computed from the system's own records."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.utils import timezone

from rules.definitions import RuleSetVersion
from rules.engine import Evaluation, evaluate
from rules.loader import registry

from .models import Case, CaseState, Finding

# States in which a case means the person has already been held to account for the matter.
_ACCOUNTED_STATES = (CaseState.DECIDED, CaseState.EXECUTED, CaseState.APPEALED, CaseState.CLOSED)


def prior_same_matter(case: Case) -> list[dict[str, str | None]]:
    """Earlier decided cases of the same person in the same matter category (the "repeat" clauses),
    each with the accountability measure or reminder it recorded and its date (``None``: not recorded)."""
    earlier = (
        Case.objects.filter(
            subject_id=case.subject_id,
            matter_category=case.matter_category,
            state__in=_ACCOUNTED_STATES,
            conduct_date__lt=case.conduct_date,
        )
        .exclude(pk=case.pk)
        .order_by("conduct_date")
        .only("id", "reference", "conduct_date", "accountability_measure", "accountability_measure_date")
    )
    return [
        {
            "case": c.reference,
            "date": c.conduct_date.isoformat(),
            "measure": c.accountability_measure or None,
            "measure_date": c.accountability_measure_date.isoformat() if c.accountability_measure_date else None,
        }
        for c in earlier
    ]


def case_facts(case: Case) -> dict[str, Any]:
    return {
        "loss_amount": float(case.loss_amount) if case.loss_amount is not None else None,
        "disposition": case.disposition or None,
        "prior_same_matter": prior_same_matter(case),
    }


def case_rule_version(case: Case) -> RuleSetVersion:
    """The rule-set version whose clauses the case is judged by: the one in force at the conduct, or,
    for conduct before a rule set that governs earlier conduct, the one in force at the decision."""
    decision = timezone.localdate(case.decided_at) if case.decided_at else timezone.localdate()
    return registry().version_applying(case.ruleset, case.conduct_date, decision)[0]


def case_findings(case: Case, findings: Iterable[Finding] | None = None) -> dict[str, dict[str, str]]:
    """The findings as the engine takes them; ``findings``: the case's rows already loaded (with
    ``recorded_by``) by a caller that shows them too, so they are not read twice."""
    rows = case.findings.select_related("recorded_by") if findings is None else findings
    return {
        f.clause_id: {"status": f.status, "reasoning": f.reasoning, "by": f.recorded_by.display_name()}
        for f in rows
    }


def case_evaluation(
    case: Case, *, on: dt.date | None = None, findings: Iterable[Finding] | None = None
) -> Evaluation:
    """The live rule evaluation of a case from its findings and recorded facts."""
    return evaluate(
        case.ruleset,
        case_findings(case, findings),
        case.conduct_date,
        facts=case_facts(case),
        decision_date=on or timezone.localdate(),
    )
