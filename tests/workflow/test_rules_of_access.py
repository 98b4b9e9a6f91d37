"""Who may see and do what: 404 outside one's view, 403 for the wrong role, 409 in the wrong state."""

import pytest
from django.utils import timezone

from accounts.models import Membership, User
from cases.models import Case
from workflow.models import Consultation, Decision, HistoryEntry, Proposal
from workflow.permissions import visible_cases

from .helpers import act, create_case, drive_to_proposed, meeting

pytestmark = pytest.mark.django_db


def _snapshot(case_id):
    case = Case.objects.get(pk=case_id)
    return case.state, case.outcome, case.revision, HistoryEntry.objects.filter(case_id=case_id).count()


def test_cadre_probing_another_case_gets_404(api, world):
    other = create_case(api, world, subject="cadre2")
    client = api("cadre")
    assert client.get(f"/api/cases/{other['id']}/").status_code == 404
    assert client.get(f"/api/cases/{other['id']}/history/").status_code == 404
    assert client.get(f"/api/cases/{other['id']}/evidence/").status_code == 404
    assert act(client, other["id"], "appeal", {"reasons": "x"}).status_code == 404
    assert client.get("/api/cases/999999/").status_code == 404
    assert other["id"] not in [c["id"] for c in client.get("/api/cases/").json()["results"]]


def test_other_jurisdiction_inspector_sees_nothing_of_zhangjiakou(api, world):
    case = create_case(api, world)
    client = api("inspector2")
    assert client.get("/api/cases/").json()["results"] == []
    assert client.get(f"/api/cases/{case['id']}/").status_code == 404
    before = _snapshot(case["id"])
    assert act(client, case["id"], "investigate").status_code == 404
    assert _snapshot(case["id"]) == before


def test_cadre_cannot_see_internal_opinions_before_decision(api, world, client):
    case = drive_to_proposed(api, world)
    cadre_api = api("cadre")
    detail = cadre_api.get(f"/api/cases/{case['id']}/")
    assert detail.status_code == 200
    assert "sent_back_reason" not in detail.json()
    assert cadre_api.get(f"/api/cases/{case['id']}/evaluation/").status_code == 403
    client.force_login(world.users["cadre"])
    page = client.get(f"/cases/{case['id']}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert case["title"] in html
    assert "建议意见。" not in html and "调取会议纪要与现场记录核实" not in html


def test_cadre_cannot_decide_own_case_and_nothing_changes(api, world):
    case = drive_to_proposed(api, world)
    before = _snapshot(case["id"])
    response = act(api("cadre"), case["id"], "decide", {"outcome": "exempt", "resolution": "x", **meeting()})
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert _snapshot(case["id"]) == before


def test_wrong_state_is_409(api, world):
    case = drive_to_proposed(api, world)
    before = _snapshot(case["id"])
    response = act(api("inspector"), case["id"], "execute", {"delivered_on": timezone.localdate().isoformat()})
    assert response.status_code == 409
    assert response.json()["code"] == "wrong_state"
    assert _snapshot(case["id"]) == before


def test_orgdept_sees_decided_cases_only(api, world):
    # The city organisation department is consulted on every proposal, so it sees a proposed case
    # through the consultation anyway; the provincial one receives filings but is never consulted,
    # so only the decision can open the case to it.
    upper = User.objects.create(username="hebei_orgdept", full_name="省委组织部干部")
    Membership.objects.create(user=upper, organisation=world.orgs["hebei_od"], role="orgdept")
    world.users["hebei_orgdept"] = upper
    investigating = create_case(api, world)
    decided = drive_to_proposed(api, world)
    assert api("hebei_orgdept").get(f"/api/cases/{decided['id']}/").status_code == 404

    response = act(api("committee"), decided["id"], "decide", {"outcome": "exempt", "resolution": "免责。", **meeting()})

    assert response.status_code == 200, response.json()
    client = api("orgdept")
    assert client.get(f"/api/cases/{investigating['id']}/").status_code == 404
    assert client.get(f"/api/cases/{decided['id']}/").status_code == 200
    upper_client = api("hebei_orgdept")
    assert upper_client.get(f"/api/cases/{investigating['id']}/").status_code == 404
    assert upper_client.get(f"/api/cases/{decided['id']}/").status_code == 200


def test_a_department_consulted_across_jurisdictions_sees_that_case_in_every_list(api, world):
    # Zhengzhou's organisation department manages none of Zhangjiakou's cadres: only the consultation
    # opens this case to it, in the lists that collect consulted cases as ids (the case list) and in the
    # filing register, which tests each row it walks against them.
    other = User.objects.create(username="zz_orgdept", full_name="郑州市委组织部干部")
    Membership.objects.create(user=other, organisation=world.orgs["zz_od"], role="orgdept")
    world.users["zz_orgdept"] = other
    decided, unseen = drive_to_proposed(api, world), drive_to_proposed(api, world)
    proposal = Proposal.objects.get(case_id=decided["id"])
    Consultation.objects.create(proposal=proposal, case_id=proposal.case_id, organisation=world.orgs["zz_od"],
                                opinion="agree", replied_by=other, replied_at=timezone.now())
    for case in (decided, unseen):
        ok = act(api("committee"), case["id"], "decide", {"outcome": "exempt", "resolution": "免责。", **meeting()})
        assert ok.status_code == 200, ok.json()

    client = api("zz_orgdept")
    assert [c["id"] for c in client.get("/api/cases/").json()["results"]] == [decided["id"]]
    assert [r["case"] for r in client.get("/api/filings/").json()["results"]] == [decided["id"]]
    assert client.get(f"/api/cases/{unseen['id']}/").status_code == 404
    # Both forms of the rule give every user the same cases.
    for user in world.users.values():
        ids = set(visible_cases(user).values_list("id", flat=True))
        assert ids == set(visible_cases(user, walking=True).values_list("id", flat=True)), user.username


def test_investigator_who_is_also_committee_member_cannot_vote(api, world):
    Membership.objects.create(user=world.users["inspector"], organisation=world.orgs["zjk"], role="committee")
    case = drive_to_proposed(api, world)
    before = _snapshot(case["id"])
    response = act(api("inspector"), case["id"], "decide", {"outcome": "exempt", "resolution": "x", **meeting()})
    assert response.status_code == 403
    assert "职责分离" in response.json()["detail"]
    assert _snapshot(case["id"]) == before


def test_recused_member_is_excluded_and_recorded(api, world):
    case = drive_to_proposed(api, world)
    assert act(api("committee_b"), case["id"], "recuse", {"reason": "与当事人系近亲属。"}).status_code == 200
    refused = act(api("committee_b"), case["id"], "decide", {"outcome": "exempt", "resolution": "x", **meeting()})
    assert refused.status_code == 403
    ok = act(api("committee"), case["id"], "decide", {"outcome": "exempt", "resolution": "免责。", **meeting()})
    assert ok.status_code == 200
    assert Decision.objects.get(case_id=case["id"]).recused == ["孙常委"]


@pytest.mark.parametrize(("payload", "field"), [
    ({"members_present": 5, "members_total": 11}, "members_present"),
    ({"members_present": 12, "members_total": 11}, "members_present"),
    ({"outcome": "refused"}, "override_reason"),
    ({"outcome": "nonsense"}, "outcome"),
    ({"meeting_date": "2026-13-40"}, "meeting_date"),
    ({"resolution": ""}, "resolution"),
])
def test_bad_decision_input_names_the_field_and_changes_nothing(api, world, payload, field):
    case = drive_to_proposed(api, world)
    before = _snapshot(case["id"])
    body = {"outcome": "exempt", "resolution": "免责。", **meeting(), **payload}
    response = act(api("committee"), case["id"], "decide", body)
    assert response.status_code == 400, response.json()
    assert response.json()["field"] == field
    assert _snapshot(case["id"]) == before
    assert not Decision.objects.filter(case_id=case["id"]).exists()


@pytest.mark.parametrize(("payload", "field"), [
    ({"ruleset": "atlantis"}, "ruleset"),
    ({"conduct_date": "2010-01-01"}, "conduct_date"),
    ({"conduct_date": "not-a-date"}, "conduct_date"),
    ({"subject": 999999}, "subject"),
    ({"accountability_org": "zz_dc"}, "accountability_org"),
    ({"title": ""}, "title"),
    ({"matter_category": "x"}, "matter_category"),
])
def test_bad_case_input_is_400_and_writes_nothing(api, world, payload, field):
    body = {"title": "事项", "subject": world.people["cadre"].pk, "accountability_org": world.orgs["zjk_dc"].pk,
            "conduct_date": "2025-01-01", "matter_category": "environment", "summary": "情况。", **payload}
    if payload.get("accountability_org") == "zz_dc":
        body["accountability_org"] = world.orgs["zz_dc"].pk
    count = Case.objects.count()
    response = api("inspector").post("/api/cases/", body, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["field"] == field
    assert Case.objects.count() == count


def test_unknown_clause_and_status_are_400(api, world):
    case = create_case(api, world)
    act(api("inspector"), case["id"], "investigate")
    client = api("inspector")
    r = client.put(f"/api/cases/{case['id']}/findings/henan.P1/", {"status": "met", "reasoning": "x"}, format="json")
    assert r.status_code == 400 and r.json()["field"] == "clause_id"
    r = client.put(f"/api/cases/{case['id']}/findings/zhangjiakou.P1/", {"status": "maybe"}, format="json")
    assert r.status_code == 400 and r.json()["field"] == "status"
    r = client.put(f"/api/cases/{case['id']}/findings/zhangjiakou.P1/", {"status": "met"}, format="json")
    assert r.status_code == 400 and r.json()["field"] == "reasoning"


def test_list_filters_and_text_search(api, world):
    a = create_case(api, world, title="危废处置问题")
    create_case(api, world, title="道路工程问题", subject="housing1")
    client = api("inspector")
    found = client.get("/api/cases/?q=危废").json()["results"]
    assert [c["id"] for c in found] == [a["id"]]
    assert len(client.get("/api/cases/?q=张某").json()["results"]) == 1
    assert client.get("/api/cases/?state=bogus").status_code == 400
    assert client.get("/api/cases/?overdue=maybe").json()["field"] == "overdue"
    assert client.get("/api/cases/?overdue=true").json()["results"] == []
    Case.objects.filter(pk=a["id"]).update(deadline=timezone.localdate().replace(year=2020))
    overdue = client.get("/api/cases/?overdue=true").json()["results"]
    assert [c["id"] for c in overdue] == [a["id"]] and overdue[0]["overdue"] is True


def test_evidence_upload_and_download_are_scoped(api, world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    case = create_case(api, world)
    upload = SimpleUploadedFile("现场照片.png", b"\x89PNG\r\n\x1a\nfake", content_type="image/png")
    r = api("inspector").post(f"/api/cases/{case['id']}/evidence/", {"file": upload, "description": "现场"},
                              format="multipart")
    assert r.status_code == 201, r.json()
    evidence = r.json()
    assert evidence["original_name"] == "现场照片.png" and len(evidence["sha256"]) == 64
    assert api("inspector").get(f"/api/cases/{case['id']}/evidence/{evidence['id']}/").status_code == 200
    assert api("cadre2").get(f"/api/cases/{case['id']}/evidence/{evidence['id']}/").status_code == 404
    bad = SimpleUploadedFile("run.exe", b"MZ", content_type="application/octet-stream")
    r = api("inspector").post(f"/api/cases/{case['id']}/evidence/", {"file": bad}, format="multipart")
    assert r.status_code == 400 and r.json()["field"] == "file"
