"""Bad input that once gave a 500, and internal material that once reached the subject cadre."""

import re

import pytest

from accounts.models import Membership
from cases.models import Case, Evidence
from workflow.models import Draft

from .helpers import act, create_case, drive_to_proposed, meeting

pytestmark = pytest.mark.django_db


def test_cadre_applies_through_the_api_without_a_subject_field(api, world):
    response = api("cadre").post("/api/cases/", {
        "title": "申请", "accountability_org": world.orgs["zjk_dc"].pk, "conduct_date": "2025-01-01",
        "matter_category": "construction", "summary": "情况。"}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["subject"]["name"] == "王某"
    missing = api("inspector").post("/api/cases/", {
        "title": "无当事人", "accountability_org": world.orgs["zjk_dc"].pk, "conduct_date": "2025-01-01",
        "matter_category": "construction", "summary": "情况。"}, format="json")
    assert missing.status_code == 400 and missing.json()["field"] == "subject"


def test_subject_cadre_sees_steps_but_not_internal_reasoning_in_history(api, world, client):
    case = drive_to_proposed(api, world, answered=False)
    act(api("orgdept"), case["id"], "consult_reply", {"opinion": "disagree", "comment": "组织部内部意见"})
    history = api("cadre").get(f"/api/cases/{case['id']}/history/").json()
    actions = [h["action"] for h in history]
    assert "propose" in actions
    assert "record_finding" not in actions and "consult_reply" not in actions
    assert all("reason" not in h and "changes" not in h for h in history)
    client.force_login(world.users["cadre"])
    page = client.get(f"/cases/{case['id']}/?tab=history")
    assert page.status_code == 200
    assert "组织部内部意见" not in page.content.decode() and "consult_reply" not in page.content.decode()
    full = api("inspector").get(f"/api/cases/{case['id']}/history/").json()
    assert any(h["action"] == "consult_reply" and h["changes"]["comment"] == "组织部内部意见" for h in full)


def test_official_elsewhere_is_still_only_the_subject_on_own_case(api, world, client):
    # The cadre also works in another jurisdiction's organisation department: no internal view of own case.
    Membership.objects.create(user=world.users["cadre"], organisation=world.orgs["zz_od"], role="orgdept")
    case = drive_to_proposed(api, world)
    assert api("cadre").get(f"/api/cases/{case['id']}/evaluation/").status_code == 403
    client.force_login(world.users["cadre"])
    assert client.get(f"/cases/{case['id']}/review/").status_code == 404


@pytest.mark.parametrize("query", ["organisation=99999999999999999999999", "unit=99999999999999999999999",
                                   "unit=²", "organisation=-1"])
def test_huge_or_odd_id_filters_are_400(api, world, query):
    response = api("inspector").get(f"/api/cases/?{query}")
    assert response.status_code == 400
    assert response.json()["field"] == query.split("=")[0]


def test_attendance_beyond_any_committee_is_400(api, world):
    case = drive_to_proposed(api, world)
    body = {"outcome": "exempt", "resolution": "x", **meeting(), "members_present": 10**20, "members_total": 10**20}
    response = act(api("committee"), case["id"], "decide", body)
    assert response.status_code == 400
    assert Case.objects.get(pk=case["id"]).state == "proposed"


def test_reassign_to_a_non_ascii_digit_is_400(api, world):
    case = create_case(api, world)
    response = act(api("inspector"), case["id"], "reassign", {"handler": "²", "reason": "x"})
    assert response.status_code == 400 and response.json()["field"] == "handler"


def test_same_form_token_from_two_users_creates_two_cases(client, world):
    key = "k" * 32
    client.force_login(world.users["inspector"])
    client.post("/cases/new/", {"submission_key": key, "title": "甲", "subject": world.people["cadre2"].pk,
                                "accountability_org": world.orgs["zjk_dc"].pk, "conduct_date": "2025-01-01",
                                "matter_category": "other", "summary": "x"})
    client.force_login(world.users["cadre"])
    response = client.post("/apply/", {"submission_key": key, "title": "乙", "accountability_org": world.orgs["zjk_dc"].pk,
                                       "conduct_date": "2025-01-01", "matter_category": "other", "summary": "y"})
    assert response.status_code == 302
    assert set(Case.objects.values_list("title", flat=True)) == {"甲", "乙"}


def test_a_bad_attachment_stores_nothing(client, world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(world.users["cadre"])
    page = client.get("/apply/").content.decode()
    key = re.search(r'name="submission_key" value="(\w+)"', page).group(1)
    response = client.post("/apply/", {
        "submission_key": key, "title": "带附件", "accountability_org": world.orgs["zjk_dc"].pk,
        "conduct_date": "2025-01-01", "matter_category": "other", "summary": "y",
        "attachments": [SimpleUploadedFile("ok.pdf", b"%PDF-1.4"), SimpleUploadedFile("bad.exe", b"MZ")]})
    assert response.status_code == 400
    assert "不支持的文件类型 .exe" in response.content.decode()
    assert not Case.objects.exists() and not Evidence.objects.exists()


def test_drafts_only_for_draftable_forms_the_user_may_submit(client, world, api):
    case = drive_to_proposed(api, world)
    client.force_login(world.users["cadre"])
    client.post(f"/cases/{case['id']}/act/decide/", {"_draft": "1", "resolution": "不该保存"})
    client.force_login(world.users["committee"])
    response = client.post(f"/cases/{case['id']}/act/recuse/", {"_draft": "1", "reason": "x"})
    assert response.status_code == 302
    assert not Draft.objects.exists()


def test_stale_decision_keeps_the_typed_text_as_a_draft(client, world, api):
    case = drive_to_proposed(api, world, answered=False)
    stale = Case.objects.get(pk=case["id"]).revision
    act(api("orgdept"), case["id"], "consult_reply", {"opinion": "agree"})
    client.force_login(world.users["committee"])
    response = client.post(f"/cases/{case['id']}/act/decide/", {
        "outcome": "exempt", "resolution": "很长的决定内容", "meeting_kind": "standing", "revision": stale,
        "meeting_date": meeting()["meeting_date"], "members_present": 9, "members_total": 11}, follow=True)
    html = response.content.decode()
    assert "此案件已被他人更新" in html and "已保存为草稿" in html
    assert "很长的决定内容" in html
    assert Case.objects.get(pk=case["id"]).state == "proposed"


def test_department_cannot_apply_another_jurisdictions_rules(api, world):
    response = api("inspector").post("/api/cases/", {
        "title": "x", "subject": world.people["cadre"].pk, "accountability_org": world.orgs["zjk_dc"].pk,
        "ruleset": "henan", "conduct_date": "2025-01-01", "matter_category": "other", "summary": "x"},
        format="json")
    assert response.status_code == 400 and response.json()["field"] == "ruleset"


def test_rules_evaluate_with_a_null_prior_case_is_not_a_500(api, world):
    response = api("inspector").post("/api/rulesets/henan/evaluate/", {"prior_same_matter": [None]}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["ruleset"] == "henan"
    assert response.json()["verdict"] == "undetermined"


def test_export_with_a_list_body_or_extreme_dates_is_400(api, world):
    client = api("orgdept")
    assert client.post("/api/filings/export/", [None, None], format="json").status_code == 400
    r = client.get("/api/filings/?from=0001-01-01&to=9999-12-31")
    assert r.status_code == 400 and r.json()["field"] == "from"
    from django.test import Client

    page = Client()
    page.force_login(world.users["orgdept"])
    assert page.get("/filings/?organisation=²").status_code == 200
