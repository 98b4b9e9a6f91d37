"""Trustworthy records: every date is one the procedure allows, decisions wait for consultation,
appeal-review results mean one thing, and no to-do outlives the case's need for it."""

import datetime as dt

import pytest
from django.utils import timezone

from cases.models import Case, CaseState
from workflow.models import Consultation, Decision, HistoryEntry, Notification

from .helpers import act, drive_to_proposed, meeting

pytestmark = pytest.mark.django_db


def _state(case_id: int) -> tuple[str, int]:
    row = Case.objects.get(pk=case_id)
    return row.state, row.revision


def test_a_decision_meeting_before_the_proposal_is_refused_naming_the_date(api, world):
    case = drive_to_proposed(api, world)
    before = _state(case["id"])
    body = {"outcome": "exempt", "resolution": "予以免责。", **meeting(),
            "meeting_date": (timezone.localdate() - dt.timedelta(days=200)).isoformat()}
    response = act(api("committee"), case["id"], "decide", body)
    assert response.status_code == 400
    assert response.json()["field"] == "meeting_date"
    assert "不能早于本案的" in response.json()["detail"]
    assert _state(case["id"]) == before and not Decision.objects.filter(case_id=case["id"]).exists()


def test_a_delivery_before_the_decision_meeting_is_refused(api, world):
    case = drive_to_proposed(api, world)
    act(api("committee"), case["id"], "decide", {"outcome": "exempt", "resolution": "予以免责。", **meeting()})
    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    response = act(api("inspector"), case["id"], "execute", {"delivered_on": yesterday})
    assert response.status_code == 400 and response.json()["field"] == "delivered_on"
    assert Case.objects.get(pk=case["id"]).state == CaseState.DECIDED


def test_no_decision_while_a_consultation_is_unanswered(api, world):
    # 张家口 第十一条(一): 沟通会商, 商定容错纠错事宜.
    case = drive_to_proposed(api, world, answered=False)
    assert "decide" not in api("committee").get(f"/api/cases/{case['id']}/").json()["allowed_actions"]
    response = act(api("committee"), case["id"], "decide", {"outcome": "exempt", "resolution": "免责。", **meeting()})
    assert response.status_code == 409
    assert "尚有会商意见未回复：中共张家口市委组织部" in response.json()["detail"]
    assert Case.objects.get(pk=case["id"]).state == CaseState.PROPOSED


def test_the_handler_may_withdraw_a_consultation_with_a_reason_and_then_the_committee_decides(api, world):
    case = drive_to_proposed(api, world, answered=False)
    orgdept = world.orgs["zjk_od"].pk
    no_reason = act(api("inspector"), case["id"], "consult_withdraw", {"organisation": orgdept, "reason": " "})
    assert no_reason.status_code == 400 and no_reason.json()["field"] == "reason"
    assert act(api("committee"), case["id"], "consult_withdraw",
               {"organisation": orgdept, "reason": "x"}).status_code == 403

    withdrawn = act(api("inspector"), case["id"], "consult_withdraw",
                    {"organisation": orgdept, "reason": "组织部书面意见已附卷。"})
    assert withdrawn.status_code == 200, withdrawn.json()
    consultation = Consultation.objects.get(proposal__case_id=case["id"])
    assert consultation.closed_reason == "组织部书面意见已附卷。" and consultation.replied_at is None
    entry = HistoryEntry.objects.filter(case_id=case["id"]).last()
    assert (entry.action, entry.reason) == ("consult_withdraw", "组织部书面意见已附卷。")
    # The department no longer has anything to answer, on its list or as a to-do.
    assert "consult_reply" not in api("orgdept").get(f"/api/cases/{case['id']}/").json()["allowed_actions"]
    orgdept_user = world.users["orgdept"]
    assert not Notification.objects.filter(user=orgdept_user, case_id=case["id"], task="consult_reply",
                                           done_at__isnull=True).exists()
    decided = act(api("committee"), case["id"], "decide", {"outcome": "exempt", "resolution": "免责。", **meeting()})
    assert decided.status_code == 200, decided.json()


def test_withdrawing_a_case_ends_its_consultations_and_to_dos(api, world, client):
    case = drive_to_proposed(api, world, answered=False)
    orgdept = world.users["orgdept"]
    assert Notification.objects.filter(user=orgdept, case_id=case["id"], task="consult_reply",
                                       done_at__isnull=True).exists()
    client.force_login(orgdept)
    waiting = client.get("/").content.decode()
    assert "待回复的会商请求" in waiting and case["title"] in waiting.split("待回复的会商请求")[-1][:2000]
    response = act(api("inspector"), case["id"], "withdraw", {"reason": "与另一案件重复。"})
    assert response.status_code == 200
    consultation = Consultation.objects.get(proposal__case_id=case["id"])
    assert consultation.closed_at is not None and "案件已撤回" in consultation.closed_reason
    open_todos = Notification.objects.filter(case_id=case["id"], done_at__isnull=True).exclude(task="")
    assert not open_todos.exists()
    ended = Notification.objects.get(user=orgdept, case_id=case["id"], task="consult_reply")
    assert ended.done_reason.startswith("撤回") and ended.read_at is not None
    client.force_login(orgdept)
    assert case["title"] not in client.get("/").content.decode().split("待回复的会商请求")[-1][:2000]


def test_sending_back_ends_the_rounds_open_consultations(api, world):
    case = drive_to_proposed(api, world, answered=False)
    assert act(api("committee"), case["id"], "send_back", {"reason": "请补充第三方鉴定。"}).status_code == 200
    consultation = Consultation.objects.get(proposal__case_id=case["id"])
    assert consultation.closed_at is not None and "退回补充调查" in consultation.closed_reason
    handler_todo = Notification.objects.get(user=world.users["inspector"], case_id=case["id"], task="propose")
    assert handler_todo.done_at is None  # the handler now has to propose again


def test_the_decision_marks_the_members_to_do_done(api, world):
    case = drive_to_proposed(api, world)
    assert act(api("committee"), case["id"], "decide", {"outcome": "exempt", "resolution": "免责。",
                                                        **meeting()}).status_code == 200
    todos = Notification.objects.filter(case_id=case["id"], task="decide")
    assert todos.exists() and not todos.filter(done_at__isnull=True).exists()


def test_an_upheld_review_refuses_a_new_outcome(api, world):
    case = drive_to_proposed(api, world, tolerable=False)
    act(api("committee"), case["id"], "decide", {"outcome": "refused", "resolution": "不予容错。", **meeting()})
    act(api("inspector"), case["id"], "execute", {"delivered_on": timezone.localdate().isoformat()})
    act(api("cadre"), case["id"], "appeal", {"reasons": "请求复核。"})
    response = act(api("committee_b"), case["id"], "review_appeal",
                   {"result": "upheld", "outcome": "lighter", "resolution": "维持。", **meeting()})
    assert response.status_code == 400 and response.json()["field"] == "outcome"
    assert Case.objects.get(pk=case["id"]).state == CaseState.APPEALED


def test_the_handler_records_the_accountability_measure_a_later_case_reads(api, world):
    # 张家口 附件2 三(九) counts an earlier case only 「在被问责或组织提醒后」: the date comes from here.
    case = drive_to_proposed(api, world, tolerable=False)
    act(api("committee"), case["id"], "decide", {"outcome": "refused", "resolution": "不予容错。", **meeting()})
    act(api("inspector"), case["id"], "execute", {"delivered_on": timezone.localdate().isoformat()})
    no_date = act(api("inspector"), case["id"], "record_accountability", {"measure": "accountability"})
    assert no_date.status_code == 400 and no_date.json()["field"] == "measured_on"
    too_early = act(api("inspector"), case["id"], "record_accountability",
                    {"measure": "reminder", "measured_on": "2000-01-01"})
    assert too_early.status_code == 400 and "不能早于行为发生日期" in too_early.json()["detail"]
    assert act(api("cadre"), case["id"], "record_accountability",
               {"measure": "none"}).status_code == 403
    today = timezone.localdate().isoformat()
    done = act(api("inspector"), case["id"], "record_accountability", {"measure": "reminder", "measured_on": today})
    assert done.status_code == 200, done.json()
    row = Case.objects.get(pk=case["id"])
    assert (row.accountability_measure, row.accountability_measure_date.isoformat()) == ("reminder", today)
    entry = HistoryEntry.objects.filter(case_id=case["id"]).last()
    assert entry.action == "record_accountability" and entry.changes["after"]["measure"] == "reminder"


def test_a_corrected_delivery_date_moves_the_appeal_window_and_re_issues_the_documents(api, world):
    from workflow.models import OutboxEvent

    case = drive_to_proposed(api, world, tolerable=False)
    act(api("committee"), case["id"], "decide", {"outcome": "refused", "resolution": "不予容错。", **meeting()})
    act(api("inspector"), case["id"], "execute", {"delivered_on": timezone.localdate().isoformat()})
    before = Case.objects.get(pk=case["id"])
    no_reason = act(api("inspector"), case["id"], "correct_delivery",
                    {"delivered_on": timezone.localdate().isoformat(), "reason": "x"})
    assert no_reason.status_code == 400 and no_reason.json()["field"] == "delivered_on"  # the same date
    future = (timezone.localdate() + dt.timedelta(days=2)).isoformat()
    assert act(api("inspector"), case["id"], "correct_delivery",
               {"delivered_on": future, "reason": "登记错误。"}).json()["field"] == "delivered_on"
    assert Case.objects.get(pk=case["id"]).revision == before.revision

    # The decision was taken today, so a correction can only stay today or move forward: fake an earlier one.
    Case.objects.filter(pk=case["id"]).update(delivered_on=timezone.localdate() - dt.timedelta(days=1))
    corrected = act(api("inspector"), case["id"], "correct_delivery",
                    {"delivered_on": timezone.localdate().isoformat(), "reason": "送达回证日期登记有误。"})
    assert corrected.status_code == 200, corrected.json()
    row = Case.objects.get(pk=case["id"])
    assert row.delivered_on == timezone.localdate() and row.deadline == row.appeal_deadline
    entry = HistoryEntry.objects.filter(case_id=case["id"], action="correct_delivery").last()
    assert (entry.action, entry.reason) == ("correct_delivery", "送达回证日期登记有误。")
    event = OutboxEvent.objects.filter(case_id=case["id"], kind="case_corrected").get()
    assert event.payload == {"fields": ["delivered_on", "appeal_deadline"], "reason": "送达回证日期登记有误。"}


@pytest.mark.parametrize("organisation", [10**30, 0, -1])
def test_an_impossible_department_id_is_a_400_naming_the_field(api, world, organisation):
    case = drive_to_proposed(api, world, answered=False)
    response = act(api("inspector"), case["id"], "consult_withdraw", {"organisation": organisation, "reason": "x"})
    assert response.status_code == 400 and response.json()["field"] == "organisation"
    assert Consultation.objects.get(proposal__case_id=case["id"]).closed_at is None


def test_the_home_page_lists_the_longest_waiting_requests_and_a_page_holds_them_all(api, world, client,
                                                                                     monkeypatch):
    from workflow import views
    from workflow.models import Proposal

    monkeypatch.setattr(views.lists, "HOME_WAITING", 3)
    monkeypatch.setattr(views.lists, "WAITING_PAGE_SIZE", 2)
    cases = [drive_to_proposed(api, world, answered=False) for _ in range(5)]
    # Asked a day apart, the first case first.
    for i, case in enumerate(cases):
        Proposal.objects.filter(case_id=case["id"]).update(proposed_at=timezone.now() - dt.timedelta(days=10 - i))
    client.force_login(world.users["orgdept"])

    home = client.get("/").content.decode().split("待回复的会商请求")[1].split("</section>")[0]
    shown = [case["id"] for case in cases if f"/cases/{case['id']}/" in home]
    assert shown == [c["id"] for c in cases[:3]]  # the three waiting longest
    assert "共 5 件" in home and "/consultations/waiting/" in home

    seen, url, pages = [], "/consultations/waiting/", 0
    while url:
        response = client.get(url)
        assert response.status_code == 200
        rows = response.context["rows"]
        seen += [c.case_id for c in rows]
        html = response.content.decode()
        assert all(f"{(timezone.localdate() - timezone.localdate(c.proposal.proposed_at)).days} 天" in html
                   for c in rows)
        following = response.context["page"].next_position
        url = f"/consultations/waiting/?after={following}" if following else ""
        pages += 1
    assert pages == 3 and seen == [c["id"] for c in reversed(cases)]  # newest first, each once
    assert "共 5 件" in response.content.decode()

    # A reply takes the request off both.
    assert act(api("orgdept"), cases[0]["id"], "consult_reply", {"opinion": "agree", "comment": "同意。"}).status_code == 200
    assert f"/cases/{cases[0]['id']}/" not in client.get("/").content.decode().split("待回复的会商请求")[1]
    assert "共 4 件" in client.get("/consultations/waiting/").content.decode()


def test_only_an_organisation_department_has_a_waiting_list(world, client):
    client.force_login(world.users["inspector"])
    response = client.get("/consultations/waiting/")
    assert response.status_code == 403
    assert "只有组织部门可以查看待回复的会商请求" in response.content.decode()


@pytest.mark.parametrize("query", ["after=nonsense", "before=W10", "after=" + "A" * 500,
                                   "after=WzAsIjk5OTk5LTAxLTAxVDAwOjAwOjAwIiwxXQ"])
def test_a_broken_position_on_the_waiting_list_shows_the_first_page(api, world, client, query):
    case = drive_to_proposed(api, world, answered=False)
    client.force_login(world.users["orgdept"])
    response = client.get(f"/consultations/waiting/?{query}")
    assert response.status_code == 200
    html = response.content.decode()
    assert "翻页位置无效" in html and f"/cases/{case['id']}/" in html and "共 1 件" in html


def test_an_empty_waiting_list_says_so(world, client):
    client.force_login(world.users["orgdept"])
    html = client.get("/consultations/waiting/").content.decode()
    assert "没有待回复的会商请求。" in html and "共 0 件" in html
