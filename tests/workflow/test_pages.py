"""The pages: Chinese errors beside fields, stale forms, double submission, buttons = allowed actions."""

import re

import pytest

from cases.models import Case
from tests.conftest import DEMO_PASSWORD
from workflow.models import Decision, Draft
from workflow.permissions import allowed_actions

from .helpers import act, create_case, drive_to_proposed, meeting

pytestmark = pytest.mark.django_db


def login(client, world, username):
    client.force_login(world.users[username])
    return client


def _buttons(html: str) -> set[str]:
    return set(re.findall(r'action="/cases/\d+/act/(\w+)/"', html))


@pytest.mark.parametrize(("username", "expected", "answered"), [
    ("inspector", {"reassign", "withdraw"}, True),
    ("inspector", {"reassign", "withdraw", "consult_withdraw"}, False),
    ("committee", {"decide", "send_back", "recuse"}, True),
    ("committee", {"send_back", "recuse"}, False),  # no decision while a consultation is unanswered
    ("orgdept", {"consult_reply"}, False),  # consulted on the proposal, so it sees the case before the decision
    ("cadre", set(), True),
])
def test_action_forms_on_the_page_are_exactly_the_allowed_actions(client, world, api, username, expected, answered):
    case = drive_to_proposed(api, world, answered=answered)
    login(client, world, username)
    page = client.get(f"/cases/{case['id']}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert case["title"] in html
    assert _buttons(html) == set(allowed_actions(world.users[username], Case.objects.get(pk=case["id"]))) == expected


def test_decision_form_errors_are_in_chinese_next_to_the_field(client, world, api):
    case = drive_to_proposed(api, world)
    login(client, world, "committee")
    response = client.post(f"/cases/{case['id']}/act/decide/", {
        "outcome": "exempt", "resolution": "免责。", "meeting_kind": "standing",
        "meeting_date": meeting()["meeting_date"], "members_present": 5, "members_total": 11,
        "revision": Case.objects.get(pk=case["id"]).revision, "_from": "review"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "未超过应到 11 人的半数" in html
    # The error sits inside the members_present field block.
    block = html[html.index('for="id_decide_members_present"'):]
    assert block.index("未超过应到") < block.index('for="id_decide_members_total"')
    assert Case.objects.get(pk=case["id"]).state == "proposed"
    assert not Decision.objects.exists()


def test_stale_form_shows_case_has_changed_and_fresh_state(client, world, api):
    case = drive_to_proposed(api, world)
    stale_revision = Case.objects.get(pk=case["id"]).revision
    act(api("committee_b"), case["id"], "send_back", {"reason": "补充材料。"})
    login(client, world, "committee")
    response = client.post(f"/cases/{case['id']}/act/decide/", {
        "outcome": "exempt", "resolution": "免责。", "meeting_kind": "standing", "revision": stale_revision,
        "meeting_date": meeting()["meeting_date"], "members_present": 9, "members_total": 11}, follow=True)
    html = response.content.decode()
    assert response.status_code == 200
    assert "此案件已被他人更新" in html
    assert "调查中" in html
    assert not Decision.objects.exists()


def test_double_submitted_case_form_creates_one_case(client, world):
    login(client, world, "inspector")
    page = client.get("/cases/new/").content.decode()
    key = re.search(r'name="submission_key" value="(\w+)"', page).group(1)
    data = {"submission_key": key, "title": "重复提交测试", "subject": world.people["cadre"].pk,
            "accountability_org": world.orgs["zjk_dc"].pk, "conduct_date": "2025-05-01",
            "matter_category": "environment", "summary": "情况。"}
    first = client.post("/cases/new/", data)
    second = client.post("/cases/new/", data)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Case.objects.filter(title="重复提交测试").count() == 1


def test_new_case_form_shows_chinese_field_errors(client, world):
    login(client, world, "inspector")
    response = client.post("/cases/new/", {"title": "", "conduct_date": "2999-01-01"})
    html = response.content.decode()
    assert "该字段是必填项" in html
    assert "行为发生日期不能晚于今天" in html
    assert Case.objects.count() == 0


def test_draft_saved_without_moving_the_case(client, world, api):
    case = drive_to_proposed(api, world)
    login(client, world, "committee")
    client.post(f"/cases/{case['id']}/act/decide/", {"_draft": "1", "resolution": "草拟的决定内容"})
    assert Case.objects.get(pk=case["id"]).state == "proposed"
    assert Draft.objects.get(case_id=case["id"], form="decide").data["resolution"] == "草拟的决定内容"
    assert "草拟的决定内容" in client.get(f"/cases/{case['id']}/review/").content.decode()


def test_cadre_application_through_the_page(client, world):
    login(client, world, "cadre")
    page = client.get("/apply/").content.decode()
    assert "zhangjiakou.S1" in page and "推动决策部署贯彻落实中开拓进取" in page
    key = re.search(r'name="submission_key" value="(\w+)"', page).group(1)
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post("/apply/", {
        "submission_key": key, "title": "申请事项", "accountability_org": world.orgs["zjk_dc"].pk,
        "conduct_date": "2025-03-01", "matter_category": "environment", "summary": "当时情况。",
        "claimed_situations": ["zhangjiakou.S1", "zhangjiakou.S3"], "remedial_measures": "已整改。",
        "attachments": [SimpleUploadedFile("说明.pdf", b"%PDF-1.4 test", content_type="application/pdf")],
    })
    assert response.status_code == 302
    case = Case.objects.get(title="申请事项")
    assert case.subject == world.people["cadre"] and case.origin == "application"
    assert case.claimed_situations == ["zhangjiakou.S1", "zhangjiakou.S3"]
    assert case.evidence.get().original_name == "说明.pdf"
    mine = client.get("/mine/").content.decode()
    assert "问责部门正在受理您的申请" in mine


def test_cadre_page_hides_internal_opinions(client, world, api):
    case = drive_to_proposed(api, world)
    login(client, world, "cadre")
    html = client.get(f"/cases/{case['id']}/").content.decode()
    assert "建议意见。" not in html and "会商意见" not in html
    assert client.get(f"/cases/{case['id']}/review/").status_code == 404
    assert client.get(f"/cases/{case['id']}/evaluation/").status_code == 404


def test_inspector2_gets_404_on_zhangjiakou_case_page(client, world, api):
    case = create_case(api, world)
    login(client, world, "inspector2")
    assert client.get(f"/cases/{case['id']}/").status_code == 404
    assert client.post(f"/cases/{case['id']}/act/investigate/", {}).status_code == 404


def test_login_page_and_password(client, world):
    assert client.post("/login/", {"username": "committee", "password": DEMO_PASSWORD}).status_code == 302
    assert "待研究决定" in client.get("/").content.decode()
