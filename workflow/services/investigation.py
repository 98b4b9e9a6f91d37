"""Investigation: taking the case up, findings clause by clause, evidence, statements, participants.

The rows themselves are written by ``cases.services``; here each action is locked, guarded,
validated and recorded in the history.
"""

from __future__ import annotations

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from cases.models import (
    Case,
    CaseState,
    Evidence,
    Finding,
    FindingStatus,
    Participant,
    ParticipantKind,
    Statement,
)
from cases.selectors import case_rule_version
from cases.services import finding_write, participant_write, statement_write

from ..errors import InvalidInput
from ..history import Actor
from ..models import HistoryAction
from .kernel import choice, limited_text, lock, notify, save
from .uploads import evidence_store


def _clause_check(case: Case, clause_id: str) -> None:
    version = case_rule_version(case)
    if not version.has_clause(clause_id):
        raise InvalidInput(f"条款 {clause_id} 不属于规则 {case.ruleset}（{version.label}）。", field="clause_id")


@transaction.atomic
def case_investigate(*, case_id: int, actor: Actor, expected_revision: int | None = None) -> Case:
    """Take the case up for investigation; whoever starts it becomes the handler if there is none."""
    case = lock(case_id, actor, HistoryAction.INVESTIGATE, expected_revision)
    fields = []
    if case.handler_id is None:
        case.handler = actor.user
        fields.append("handler")
    return save(case, actor, HistoryAction.INVESTIGATE, to_state=CaseState.INVESTIGATING, fields=fields)


@transaction.atomic
def finding_record(
    *,
    case_id: int,
    actor: Actor,
    clause_id: str,
    status: str,
    reasoning: str = "",
    expected_revision: int | None = None,
) -> Finding:
    """Record or change the finding on one clause (met / not met / unknown) with its reasoning."""
    case = lock(case_id, actor, HistoryAction.RECORD_FINDING, expected_revision)
    if not status:
        raise InvalidInput(f"请选择条款 {clause_id} 的认定：符合、不符合或待查明。", field="status")
    status = choice(status, FindingStatus, "status", "认定")
    reasoning = limited_text(reasoning, "finding.reasoning", required=False)
    _clause_check(case, clause_id)
    if status != FindingStatus.UNKNOWN and not reasoning:
        raise InvalidInput("认定为“符合”或“不符合”时须写明理由。", field="reasoning")
    finding, before, changed = finding_write(
        case=case, clause_id=clause_id, status=status, reasoning=reasoning, by=actor.user
    )
    if changed:  # saving the same finding twice is not a second event
        save(case, actor, HistoryAction.RECORD_FINDING,
             changes={"clause": clause_id, "before": before, "after": {"status": status, "reasoning": reasoning}})
    return finding


@transaction.atomic
def evidence_add(
    *, case_id: int, actor: Actor, upload: UploadedFile | None, description: str = "", clause_id: str = ""
) -> Evidence:
    """Attach a file to the case, optionally to one clause."""
    case = lock(case_id, actor, HistoryAction.ADD_EVIDENCE, None)
    if upload is None:
        raise InvalidInput("请选择要上传的文件。", field="file")
    description = limited_text(description, "evidence.description", required=False)
    if clause_id:
        _clause_check(case, clause_id)
    evidence = evidence_store(case=case, actor=actor, upload=upload, description=description, clause_id=clause_id)
    save(case, actor, HistoryAction.ADD_EVIDENCE, changes={"file": evidence.original_name, "sha256": evidence.sha256})
    return evidence


@transaction.atomic
def statement_add(*, case_id: int, actor: Actor, text: str) -> Statement:
    """The subject's own statement (陈述); the handler is told."""
    case = lock(case_id, actor, HistoryAction.ADD_STATEMENT, None)
    statement = statement_write(case=case, text=limited_text(text, "statement.text"), by=actor.user)
    save(case, actor, HistoryAction.ADD_STATEMENT, changes={"length": len(statement.text)})
    if case.handler is not None:
        notify([case.handler], case, f"{case.subject.name}提交了陈述")
    return statement


@transaction.atomic
def participant_add(
    *, case_id: int, actor: Actor, name: str, kind: str, affiliation: str = "", opinion: str = ""
) -> Participant:
    """Record someone invited to take part in the investigation, with their opinion."""
    case = lock(case_id, actor, HistoryAction.ADD_PARTICIPANT, None)
    participant = participant_write(
        case=case, by=actor.user,
        name=limited_text(name, "participant.name"),
        kind=choice(kind, ParticipantKind, "kind", "身份"),
        affiliation=limited_text(affiliation, "participant.affiliation", required=False),
        opinion=limited_text(opinion, "participant.opinion", required=False),
    )
    save(case, actor, HistoryAction.ADD_PARTICIPANT, changes={"name": participant.name, "kind": participant.kind})
    return participant
