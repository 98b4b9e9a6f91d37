"""Demo follow-through: a completed return visit, a clarification, and the upper commission's list.

The executed demo cases already have their visits planned (at delivery), and the ``appealed`` case's
refusal against a tolerable verdict already recorded a possible 应容未容 matter for 河北省纪委监委.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from accounts.models import Role
from workflow import services
from workflow.history import Actor
from workflow.models import Clarification, ReturnVisit


def demo_followup_seed(*, world: Any) -> int:
    """Complete the first visit of the executed refusal and record a clarification; idempotent."""
    from cases.models import Case

    o, u, p = world.orgs, world.users, world.people
    insp = Actor(user=u["inspector"], role=Role.INSPECTOR, organisation=o["zjk_dc"].name, via="seed")
    today = timezone.localdate()
    created = 0
    case = Case.objects.filter(title="排污许可核发把关不严", accountability_org=o["zjk_dc"]).order_by("id").first()
    visit = ReturnVisit.objects.filter(case=case).order_by("due_on").first() if case else None
    if visit is not None and not visit.done and case.handler_id == u["inspector"].pk:
        services.visit_complete(case_id=case.pk, actor=insp, visit_id=visit.pk, visited_on=today, form="talk",
                                notes="送达后即与王某谈心谈话，说明不予容错的理由和申诉途径，了解其思想状况。",
                                cadre_state="思想稳定，表示认真吸取教训，工作积极。")
        created += 1
    if not Clarification.objects.filter(person=p["housing2"]).exists():
        services.clarification_record(
            actor=insp, person=p["housing2"], decided_on=today, scope="unit",
            basis="经调查核实，反映刘某在保障房分配中优亲厚友的问题不属实，系错告。",
            accuser_referred_to="张家口市纪委监委信访室", accuser_referred_on=today,
            accuser_outcome="经核查属错告，已对举报人进行教育。")
        created += 1
    return created
