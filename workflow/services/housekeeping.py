"""What moves no case: drafts of half-filled forms, read marks on notices, and an administrator's
corrections of a case's descriptive text."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from cases.models import Case, MatterCategory

from ..errors import InvalidInput, NotAllowed, StaleRevision
from ..history import Actor
from ..limits import limit_of
from ..models import Draft, HistoryAction, Notification, OutboxKind
from .kernel import choice, limited_text, outbox, save


@transaction.atomic
def draft_save(*, case: Case, user: User, form: str, data: dict[str, Any]) -> Draft:
    """Keep a half-filled form without moving the case."""
    from ..actions import drafts_kept  # the action table imports these services

    if not drafts_kept(form):
        raise InvalidInput(f"未知表单：{form}", field="form")
    clean = {
        str(k)[:60]: [str(x)[:20000] for x in v] if isinstance(v, list | tuple) else str(v)[:20000]
        for k, v in data.items() if k not in {"csrfmiddlewaretoken", "revision"}
    }
    draft, _ = Draft.objects.update_or_create(case=case, user=user, form=form, defaults={"data": clean})
    return draft


def draft_discard(*, case: Case, user: User, form: str) -> None:
    """Forget a draft once its form has been submitted."""
    Draft.objects.filter(case=case, user=user, form=form).delete()


# A written application has no case until it is sent: its draft is the user's own.
APPLICATION_FORM = "apply"
# Fields of the application that are not the user's text: the form's one-time submission token.
_NOT_DRAFTED = {"csrfmiddlewaretoken", "submission_key", "attachments"}


@transaction.atomic
def application_draft_save(*, user: User, data: dict[str, Any]) -> Draft:
    """Keep a half-filled written application (no case exists yet)."""
    clean = {
        str(k)[:60]: [str(x)[:20000] for x in v][:50] if isinstance(v, list | tuple) else str(v)[:20000]
        for k, v in list(data.items())[:50] if k not in _NOT_DRAFTED
    }
    draft = Draft.objects.select_for_update().filter(case__isnull=True, user=user, form=APPLICATION_FORM).first()
    if draft is None:
        try:
            with transaction.atomic():  # two first saves at once: the second updates what the first created
                return Draft.objects.create(case=None, user=user, form=APPLICATION_FORM, data=clean)
        except IntegrityError:
            draft = Draft.objects.select_for_update().get(case__isnull=True, user=user, form=APPLICATION_FORM)
    draft.data = clean
    draft.save(update_fields=["data", "updated_at"])
    return draft


def application_draft(user: User) -> Draft | None:
    return Draft.objects.filter(case__isnull=True, user=user, form=APPLICATION_FORM).first()


def application_draft_discard(*, user: User) -> None:
    Draft.objects.filter(case__isnull=True, user=user, form=APPLICATION_FORM).delete()


def notification_open(*, user: User, notification_id: int) -> Notification | None:
    """The user's own notice, marked read as it is opened; None when it is not theirs."""
    notification = Notification.objects.filter(user=user, pk=notification_id).select_related("case").first()
    if notification is not None and notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def notifications_mark_read(*, user: User, ids: Sequence[int] | None = None) -> int:
    """Mark this user's notices read (all, or the given ones); returns how many changed."""
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())


# What an administrator may correct in the admin: descriptive text only. Everything the rules, the
# authority or the documents depend on (rule set, subject, department, handler, dates, amounts,
# disposition) changes only through the procedure's actions.
ADMIN_CORRECTABLE = {"title": ("事项名称", limit_of("case.title")), "summary": ("基本情况", limit_of("case.summary")),
                     "remedial_measures": ("采取的补救措施", limit_of("case.remedial_measures")),
                     "matter_category": ("事项类别", 20)}


@transaction.atomic
def case_admin_correct(*, case_id: int, actor: Actor, changes: dict[str, Any], expected_revision: int | None) -> Case:
    """An administrator's correction of a case's text: locked, validated and recorded like any action."""
    if actor.user is None or not actor.user.is_superuser:
        raise NotAllowed("只有系统管理员可以更正案件信息。")
    case = Case.objects.select_for_update(of=("self",)).filter(pk=case_id).first()
    if case is None:
        raise InvalidInput("案件不存在。")
    if expected_revision is not None and case.revision != expected_revision:
        raise StaleRevision("此案件已被他人更新，请查看最新状态后重试。")
    unknown = sorted(set(changes) - set(ADMIN_CORRECTABLE))
    if unknown:
        raise InvalidInput(f"以下字段不能在管理后台修改：{'、'.join(unknown)}", field=unknown[0])
    after: dict[str, str] = {}
    before: dict[str, str] = {}
    for name, value in changes.items():
        label = ADMIN_CORRECTABLE[name][0]
        if name == "matter_category":
            value = choice(value, MatterCategory, name, label)
        else:
            value = limited_text(value, f"case.{name}", required=name != "remedial_measures", label=label)
        if getattr(case, name) != value:
            before[name], after[name] = str(getattr(case, name)), str(value)
            setattr(case, name, value)
    if not after:
        return case
    save(case, actor, HistoryAction.ADMIN_EDIT, fields=list(after), changes={**after, "before": before})
    # Documents already issued that print a corrected fact are re-issued as a new version.
    outbox(case, OutboxKind.CASE_CORRECTED, {"fields": list(after), "reason": "管理员更正案件信息"})
    return case
