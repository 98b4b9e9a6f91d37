"""Starting a case: an inspector's own start (依职权启动) or a written application (书面申请)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Organisation, OrgKind, Person, Role, User
from accounts.selectors import (
    applying_unit_for,
    applying_units,
    case_authority,
    orgs_with_role,
    people_visible_to,
    person_of,
)
from cases.models import Case, CaseState, Disposition, MatterCategory, Origin
from rules.errors import RuleError
from rules.loader import registry

from ..deadlines import deadline_for
from ..errors import InvalidInput, NotAllowed
from ..history import Actor, history_append
from ..models import HistoryAction, OutboxKind, PendingUpload
from .kernel import as_date, choice, limited_text, members, notify, outbox
from .uploads import evidence_store, pending_upload_file, pending_uploads_consume, uploads_check


def _resolve_ruleset(ruleset: str | None, org: Organisation, conduct_date: dt.date) -> str:
    """The department's own jurisdiction's rules, or a department list built on them (1+X)."""
    ruleset_id = (ruleset or org.jurisdiction or "").strip()
    try:
        registry().family(ruleset_id)
    except RuleError as exc:
        raise InvalidInput(str(exc), field="ruleset") from None
    try:
        version, _ = registry().version_applying(ruleset_id, conduct_date, timezone.localdate())
    except RuleError as exc:
        raise InvalidInput(str(exc), field="conduct_date") from None
    if ruleset_id != org.jurisdiction and not (version.extends and version.extends[0] == org.jurisdiction):
        raise InvalidInput(f"{org.name}适用的规则为 {org.jurisdiction}，不能适用 {ruleset_id}。", field="ruleset")
    return ruleset_id


def _origin_of(
    user: User, subject: Person | None, accountability_org: Organisation
) -> tuple[str, Person, User | None, Organisation | None]:
    """Who is starting this case and for whom: (origin, subject, handler, applying unit)."""
    own_person = person_of(user)
    inspector_orgs = {o.pk for o in orgs_with_role(user, Role.INSPECTOR)}
    if accountability_org.pk in inspector_orgs:
        if subject is None:
            raise InvalidInput("请选择当事干部。", field="subject")
        if not people_visible_to(user).filter(pk=subject.pk).exists():
            raise InvalidInput("该干部不在本部门的管理权限范围内。", field="subject")
        return Origin.ACCOUNTABILITY, subject, user, None
    if applying_units(user) and subject is not None and (own_person is None or subject.pk != own_person.pk):
        # The cadre's unit applies in writing on their behalf (被问责的干部、单位提出书面申请).
        unit = applying_unit_for(user, subject)
        if unit is None:
            raise InvalidInput(f"{subject.name}不在本单位，不能代为申请。", field="subject")
        return Origin.APPLICATION, subject, None, unit
    if inspector_orgs and (own_person is None or (subject is not None and subject.pk != own_person.pk)):
        raise InvalidInput("您不是该问责部门的人员，不能以其名义启动容错程序。", field="accountability_org")
    if own_person is not None:  # a cadre's create is an application for themselves
        return Origin.APPLICATION, own_person, None, None
    if applying_units(user):
        raise InvalidInput("请选择为哪位干部申请。", field="subject")
    raise NotAllowed("只有问责部门人员、干部本人或其所在单位可以启动容错程序。")


@transaction.atomic
def case_create(
    *,
    actor: Actor,
    title: str,
    subject: Person | None,
    accountability_org: Organisation | None,
    conduct_date: Any,
    matter_category: str,
    summary: str,
    ruleset: str | None = None,
    remedial_measures: str = "",
    claimed_situations: Sequence[str] = (),
    loss_amount: Decimal | None = None,
    disposition: str = "",
    attachments: Sequence[UploadedFile] = (),
    pending: Sequence[PendingUpload] = (),
    submission_key: str | None = None,
) -> Case:
    """Open a case: an inspector's own start, or a cadre's or unit's written application.

    ``pending`` are files the user chose on an earlier try of the form (kept server-side); they become
    evidence like ``attachments`` and are deleted once the case exists.
    A repeated submission with the same ``submission_key`` returns the case already created.
    """
    user = actor.user
    if user is None:
        raise NotAllowed("缺少操作人。")
    if submission_key:
        # Keys are per user: the same form token from two users never collides.
        submission_key = hashlib.sha256(f"{user.pk}:{submission_key}".encode()).hexdigest()
        existing = Case.objects.filter(submission_key=submission_key, created_by=user).first()
        if existing is not None:
            return existing
    if any(p.user_id != user.pk for p in pending):
        raise InvalidInput("附件不属于当前用户。", field="attachments")
    kept_files: list[UploadedFile] = []
    try:
        for p in pending:
            kept_files.append(pending_upload_file(p))
        return _case_create(actor=actor, user=user, title=title, subject=subject,
                            accountability_org=accountability_org, conduct_date=conduct_date,
                            matter_category=matter_category, summary=summary, ruleset=ruleset,
                            remedial_measures=remedial_measures, claimed_situations=claimed_situations,
                            loss_amount=loss_amount, disposition=disposition,
                            attachments=[*kept_files, *attachments], pending=pending,
                            submission_key=submission_key)
    finally:
        for kept in kept_files:
            kept.close()


def _case_create(
    *, actor: Actor, user: User, title: str, subject: Person | None, accountability_org: Organisation | None,
    conduct_date: Any, matter_category: str, summary: str, ruleset: str | None, remedial_measures: str,
    claimed_situations: Sequence[str], loss_amount: Decimal | None, disposition: str,
    attachments: Sequence[UploadedFile], pending: Sequence[PendingUpload], submission_key: str | None,
) -> Case:
    uploads_check(attachments)  # every file and the quotas, before anything is written
    title = limited_text(title, "case.title")
    summary = limited_text(summary, "case.summary")
    remedial_measures = limited_text(remedial_measures, "case.remedial_measures", required=False)
    matter_category = choice(matter_category, MatterCategory, "matter_category", "事项类别")
    conduct = as_date(conduct_date, "conduct_date", "行为发生日期")
    if conduct > timezone.localdate():
        raise InvalidInput("行为发生日期不能晚于今天。", field="conduct_date")
    if disposition:
        disposition = choice(disposition, Disposition, "disposition", "处置形态")
    if loss_amount is not None and loss_amount < 0:
        raise InvalidInput("损失金额不能为负数。", field="loss_amount")
    if accountability_org is None:
        raise InvalidInput("请选择问责部门。", field="accountability_org")

    origin, subject, handler, applicant_unit = _origin_of(user, subject, accountability_org)
    authority = case_authority(subject)
    if not authority.may_act(accountability_org) or accountability_org.kind not in (
        OrgKind.DISCIPLINE, OrgKind.FUNCTIONAL, OrgKind.ORGDEPT
    ):
        raise InvalidInput(
            f"{accountability_org.name}不是对{subject.name}具有问责职责的部门。", field="accountability_org"
        )
    ruleset_id = _resolve_ruleset(ruleset, accountability_org, conduct)
    version, _ = registry().version_applying(ruleset_id, conduct, timezone.localdate())
    situation_ids = {c.id for c in version.situations()}
    claimed = [str(c) for c in claimed_situations]
    unknown = [c for c in claimed if c not in situation_ids]
    if unknown:
        raise InvalidInput(f"所选容错情形不属于该规则：{'、'.join(unknown)}", field="claimed_situations")

    try:
        # A savepoint: a concurrent double submission loses the unique key race, not the transaction.
        with transaction.atomic():
            case = Case.objects.create(
                title=title, subject=subject, accountability_org=accountability_org, handler=handler,
                ruleset=ruleset_id, conduct_date=conduct, matter_category=matter_category, summary=summary,
                remedial_measures=remedial_measures, claimed_situations=claimed,
                loss_amount=loss_amount, disposition=disposition, origin=origin,
                applicant=user if origin == Origin.APPLICATION else None, applicant_unit=applicant_unit,
                created_by=user, submission_key=submission_key or None, deadline=deadline_for(CaseState.STARTED, org=accountability_org),
            )
            # The number is derived from the id the sequence just gave this row: concurrent creations
            # cannot share one, and the unique index would refuse it if they did.
            Case.objects.filter(pk=case.pk).reference_fill()
            case.refresh_from_db(fields=["reference"])
    except IntegrityError:
        existing = Case.objects.filter(submission_key=submission_key, created_by=user).first() if submission_key else None
        if existing is None:
            raise
        return existing
    history_append(
        case_id=case.pk, actor=actor,
        action=HistoryAction.APPLY if origin == Origin.APPLICATION else HistoryAction.START,
        to_state=case.state,
        changes={"title": title, "subject": subject.name, "ruleset": ruleset_id, "origin": origin,
                 **({"applicant_unit": applicant_unit.name} if applicant_unit else {})},
    )
    for upload in attachments:
        evidence_store(case=case, actor=actor, upload=upload, description="申请附件")
    if pending:
        pending_uploads_consume(pending)
    if origin == Origin.APPLICATION:
        by = f"（{applicant_unit.name}代为申请）" if applicant_unit else ""
        notify(members(accountability_org, Role.INSPECTOR), case, f"收到容错申请：{subject.name}《{title}》{by}",
               task=HistoryAction.INVESTIGATE)
        if applicant_unit is not None and subject.user_id:
            notify([subject.user], case, f"{applicant_unit.name}已为您提交容错申请《{title}》")
        outbox(case, OutboxKind.APPLICATION_SUBMITTED)
    return case
