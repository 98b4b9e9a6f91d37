"""The whole procedure through the REST API, as an integrating system drives it."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from cases.models import Case
from workflow.history import history_verify
from workflow.models import Decision, HistoryEntry, Notification

from .helpers import act, create_case, drive_to_proposed, findings_for, meeting, record_findings

pytestmark = pytest.mark.django_db


def _actions(case_id):
    return list(HistoryEntry.objects.filter(case_id=case_id).order_by("id").values_list("action", flat=True))


def test_tolerated_case_runs_start_to_close(api, world):
    case = create_case(api, world)
    assert case["state"] == "started"
    assert case["allowed_actions"] == ["investigate", "reassign", "withdraw"]

    assert act(api("inspector"), case["id"], "investigate").json()["state"] == "investigating"
    record_findings(api, case, findings_for(case, tolerable=True))
    evaluation = api("inspector").get(f"/api/cases/{case['id']}/evaluation/").json()
    assert evaluation["verdict"] == "tolerable"
    assert set(evaluation["outcomes"]) == {"exempt", "lighter", "mitigated"}

    proposed = act(api("inspector"), case["id"], "propose", {"recommended_outcome": "exempt", "opinion": "符合容错。"})
    assert proposed.json()["state"] == "proposed"
    reply = act(api("orgdept"), case["id"], "consult_reply", {"opinion": "agree", "comment": "同意。"})
    assert reply.status_code == 200, reply.json()
    assert "decide" in api("committee").get(f"/api/cases/{case['id']}/").json()["allowed_actions"]

    decided = act(api("committee"), case["id"], "decide", {"outcome": "exempt", "resolution": "予以免责。", **meeting()})
    assert decided.status_code == 200, decided.json()
    assert decided.json()["state"] == "decided" and decided.json()["outcome"] == "exempt"
    decision = Decision.objects.get(case_id=case["id"])
    assert decision.evaluation["verdict"] == "tolerable"
    assert decision.ruleset_hash == evaluation["content_hash"]
    assert decision.ruleset_version == evaluation["version"]

    executed = act(api("inspector"), case["id"], "execute", {"delivered_on": timezone.localdate().isoformat()})
    assert executed.json()["state"] == "executed"
    assert executed.json()["appeal_deadline"] == (timezone.localdate() + dt.timedelta(days=30)).isoformat()

    history = api("inspector").get(f"/api/cases/{case['id']}/history/").json()
    actions = [h["action"] for h in history]
    assert actions[0] == "start"
    assert actions.count("record_finding") == len(findings_for(case, tolerable=True))
    assert [a for a in actions if a != "record_finding"] == [
        "start", "investigate", "clock_pause", "propose", "clock_resume", "consult_reply", "decide", "execute"]
    assert history[4 + actions.count("record_finding") - 1]["to_state"] in {"proposed", "decided", "investigating"}
    assert all(h["ip"] == "127.0.0.1" and h["via"] == "api" for h in history)
    assert history_verify().ok

    assert Notification.objects.filter(user=world.users["cadre"], case_id=case["id"]).exists()
    # After the window passes the beat task closes the case.
    Case.objects.filter(pk=case["id"]).update(appeal_deadline=timezone.localdate() - dt.timedelta(days=1))
    from workflow.services import cases_close_expired

    assert cases_close_expired() == 1
    assert Case.objects.get(pk=case["id"]).state == "closed"
    assert _actions(case["id"])[-1] == "close"


def test_refused_case_is_appealed_and_overturned(api, world):
    case = drive_to_proposed(api, world, tolerable=False)
    decided = act(api("committee"), case["id"], "decide", {"outcome": "refused", "resolution": "不予容错。", **meeting()})
    assert decided.json()["outcome"] == "refused"
    act(api("inspector"), case["id"], "execute", {"delivered_on": timezone.localdate().isoformat()})

    cadre_view = api("cadre").get(f"/api/cases/{case['id']}/").json()
    assert cadre_view["allowed_actions"] == ["appeal"]
    appealed = act(api("cadre"), case["id"], "appeal", {"reasons": "当时系为防止污染扩散。"})
    assert appealed.json()["state"] == "appealed"

    # Overturning against the engine's verdict needs a reason.
    no_reason = act(api("committee"), case["id"], "review_appeal",
                    {"result": "overturned", "outcome": "lighter", "resolution": "撤销原决定。", **meeting()})
    assert no_reason.status_code == 400
    assert no_reason.json()["field"] == "override_reason"
    assert Case.objects.get(pk=case["id"]).state == "appealed"

    overturned = act(api("committee"), case["id"], "review_appeal", {
        "result": "overturned", "outcome": "lighter", "resolution": "撤销原决定，从轻处理。",
        "override_reason": "申诉材料证明属于紧急处置。", **meeting()})
    assert overturned.status_code == 200, overturned.json()
    assert overturned.json()["state"] == "decided" and overturned.json()["outcome"] == "lighter"
    act(api("inspector"), case["id"], "execute", {"delivered_on": timezone.localdate().isoformat()})

    actions = [a for a in _actions(case["id"]) if a != "record_finding"]
    # The organisation department replies before the committee decides (Zhangjiakou 第十一条(一)).
    # The consultation pauses the stage clock until the reply comes (the clock's entries precede the action's).
    assert actions == ["start", "investigate", "clock_pause", "propose", "clock_resume", "consult_reply", "decide",
                       "execute", "appeal", "review_appeal", "execute"]
    review = Decision.objects.get(case_id=case["id"], kind="appeal_review")
    assert review.override_reason == "申诉材料证明属于紧急处置。"
    assert review.appeal_result == "overturned"
    # The register of filings keeps the first decision's time; the review does not move the case in it.
    first = Decision.objects.get(case_id=case["id"], kind="decision")
    assert Case.objects.get(pk=case["id"]).decided_at == first.decided_at < review.decided_at


def test_appeal_upheld_closes_the_case(api, world):
    case = drive_to_proposed(api, world, tolerable=False)
    act(api("committee"), case["id"], "decide", {"outcome": "refused", "resolution": "不予容错。", **meeting()})
    act(api("inspector"), case["id"], "execute", {"delivered_on": timezone.localdate().isoformat()})
    act(api("cadre"), case["id"], "appeal", {"reasons": "请求复核。"})
    upheld = act(api("committee"), case["id"], "review_appeal",
                 {"result": "upheld", "resolution": "维持原决定。", **meeting()})
    assert upheld.json()["state"] == "closed"
    assert upheld.json()["outcome"] == "refused"


def test_appeal_after_the_window_is_refused(api, world):
    case = drive_to_proposed(api, world, tolerable=False)
    act(api("committee"), case["id"], "decide", {"outcome": "refused", "resolution": "不予容错。", **meeting()})
    act(api("inspector"), case["id"], "execute", {"delivered_on": timezone.localdate().isoformat()})
    Case.objects.filter(pk=case["id"]).update(appeal_deadline=timezone.localdate() - dt.timedelta(days=1))

    response = act(api("cadre"), case["id"], "appeal", {"reasons": "迟到的申诉。"})

    assert response.status_code == 409
    assert "申诉期限" in response.json()["detail"]
    assert Case.objects.get(pk=case["id"]).state == "executed"


def test_cadre_application_lands_in_department_inbox(api, world):
    response = api("cadre").post("/api/cases/", {
        "title": "申请容错", "subject": world.people["housing1"].pk,  # ignored: a cadre applies for themselves
        "accountability_org": world.orgs["zjk_dc"].pk, "conduct_date": "2025-06-01",
        "matter_category": "environment", "summary": "情况说明。"}, format="json")
    assert response.status_code == 201, response.json()
    case = response.json()
    assert case["subject"]["name"] == "王某"
    assert case["origin"] == "application"
    assert case["ruleset"] == "zhangjiakou"
    inbox = api("inspector").get("/api/cases/?state=started").json()["results"]
    assert case["id"] in [c["id"] for c in inbox]
    assert Notification.objects.filter(user=world.users["inspector"], case_id=case["id"]).exists()
    assert _actions(case["id"]) == ["apply"]


def test_send_back_returns_to_investigation_with_reason(api, world):
    case = drive_to_proposed(api, world)
    response = act(api("committee"), case["id"], "send_back", {"reason": "请补充第三方鉴定。"})
    assert response.json()["state"] == "investigating"
    seen = api("inspector").get(f"/api/cases/{case['id']}/").json()
    assert seen["sent_back_reason"] == "请补充第三方鉴定。"
    assert "sent_back_reason" not in api("cadre").get(f"/api/cases/{case['id']}/").json()
    entry = HistoryEntry.objects.filter(case_id=case["id"]).last()
    assert (entry.action, entry.from_state, entry.to_state, entry.reason) == (
        "send_back", "proposed", "investigating", "请补充第三方鉴定。")


def test_reassign_notifies_new_handler(api, world):
    case = create_case(api, world)
    response = act(api("inspector"), case["id"], "reassign", {"handler": "inspector_b", "reason": "工作调整。"})
    assert response.json()["handler"] == "inspector_b"
    assert Notification.objects.filter(user=world.users["inspector_b"], case_id=case["id"]).exists()
    bad = act(api("inspector"), case["id"], "reassign", {"handler": "cadre", "reason": "x"})
    assert bad.status_code == 400 and bad.json()["field"] == "handler"


def test_withdraw_before_decision_only(api, world):
    case = create_case(api, world)
    assert act(api("inspector"), case["id"], "withdraw", {"reason": "重复立案。"}).json()["state"] == "withdrawn"
    again = act(api("inspector"), case["id"], "withdraw", {"reason": "重复立案。"})
    assert again.status_code == 409


def test_verify_history_command_reports_ok(api, world, capsys):
    create_case(api, world)
    call_command("verify_history")
    assert "操作记录完整" in capsys.readouterr().out
