"""What every door shares: the acting user as an Actor, and each action's call into the services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest

from accounts.models import Organisation, User
from accounts.selectors import primary_organisation, role_names
from cases.models import Case

from . import services
from .history import Actor


def actor_for(user: User, request: HttpRequest | None = None, *, via: str = "web") -> Actor:
    org = primary_organisation(user)
    ip = request.META.get("REMOTE_ADDR") if request is not None else None
    return Actor(user=user, role=",".join(role_names(user)), organisation=org.name if org else "", ip=ip, via=via)


def _orgs(ids: list[int]) -> list[Organisation]:
    found = {o.pk: o for o in Organisation.objects.filter(pk__in=ids)}
    missing = [str(i) for i in ids if i not in found]
    if missing:
        raise services.InvalidInput(f"会商部门不存在：{'、'.join(missing)}", field="consult")
    return [found[i] for i in ids]


def _meeting(d: dict[str, Any]) -> dict[str, Any]:
    return {k: d.get(k) for k in ("meeting_kind", "meeting_date", "members_present", "members_total")}


ACTION_CALLS: dict[str, Callable[[Case, Actor, dict[str, Any]], Any]] = {
    "investigate": lambda c, a, d: services.case_investigate(
        case_id=c.pk, actor=a, expected_revision=d.get("revision")),
    "propose": lambda c, a, d: services.case_propose(
        case_id=c.pk, actor=a, recommended_outcome=d.get("recommended_outcome"), opinion=d.get("opinion"),
        consult=_orgs(list(d.get("consult") or [])), expected_revision=d.get("revision")),
    "consult_reply": lambda c, a, d: services.consultation_reply(
        case_id=c.pk, actor=a, opinion=d.get("opinion"), comment=d.get("comment", "")),
    "send_back": lambda c, a, d: services.case_send_back(
        case_id=c.pk, actor=a, reason=d.get("reason"), expected_revision=d.get("revision")),
    "recuse": lambda c, a, d: services.case_recuse(case_id=c.pk, actor=a, reason=d.get("reason")),
    "decide": lambda c, a, d: services.case_decide(
        case_id=c.pk, actor=a, outcome=d.get("outcome"), resolution=d.get("resolution"),
        override_reason=d.get("override_reason", ""), expected_revision=d.get("revision"), **_meeting(d)),
    "execute": lambda c, a, d: services.case_execute(
        case_id=c.pk, actor=a, delivered_on=d.get("delivered_on"), expected_revision=d.get("revision")),
    "appeal": lambda c, a, d: services.case_appeal(
        case_id=c.pk, actor=a, reasons=d.get("reasons"), attachments=d.get("attachments") or ()),
    "review_appeal": lambda c, a, d: services.appeal_review(
        case_id=c.pk, actor=a, result=d.get("result"), outcome=d.get("outcome") or None,
        resolution=d.get("resolution"), override_reason=d.get("override_reason", ""),
        expected_revision=d.get("revision"), **_meeting(d)),
    "reassign": lambda c, a, d: services.case_reassign(
        case_id=c.pk, actor=a, handler=d.get("handler"), reason=d.get("reason"), expected_revision=d.get("revision")),
    "withdraw": lambda c, a, d: services.case_withdraw(
        case_id=c.pk, actor=a, reason=d.get("reason"), expected_revision=d.get("revision")),
}
