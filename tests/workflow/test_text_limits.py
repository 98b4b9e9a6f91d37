"""Text limits: one definition (workflow.limits), enforced by the services, carried by forms and API inputs."""

import pytest

from cases.models import Case, Finding
from tests.factories import actor, case_in_state, handler_of
from workflow import forms as f
from workflow import serializers as s
from workflow import services
from workflow.errors import InvalidInput
from workflow.limits import LIMITS
from workflow.models import HistoryEntry

from .helpers import act, conduct_date, create_case, drive_to_proposed
from .services.support import footprint

pytestmark = pytest.mark.django_db

# Every place a user types each limited text: the page forms and the API inputs that carry it.
FORMS = {
    "case.title": [(f.CaseCreateForm, "title"), (f.ApplicationForm, "title")],
    "case.summary": [(f.CaseCreateForm, "summary"), (f.ApplicationForm, "summary")],
    "case.remedial_measures": [(f.CaseCreateForm, "remedial_measures"), (f.ApplicationForm, "remedial_measures")],
    "finding.reasoning": [(f.FindingForm, "reasoning")],
    "evidence.description": [(f.EvidenceForm, "description")],
    "statement.text": [(f.StatementForm, "text")],
    "participant.name": [(f.ParticipantForm, "name")],
    "participant.affiliation": [(f.ParticipantForm, "affiliation")],
    "participant.opinion": [(f.ParticipantForm, "opinion")],
    "proposal.opinion": [(f.ProposeForm, "opinion")],
    "consultation.comment": [(f.ConsultReplyForm, "comment")],
    "action.reason": [(f.ReasonForm, "reason"), (f.ReassignForm, "reason")],
    "decision.resolution": [(f.DecideForm, "resolution"), (f.ReviewAppealForm, "resolution")],
    "decision.override_reason": [(f.DecideForm, "override_reason"), (f.ReviewAppealForm, "override_reason")],
    "appeal.reasons": [(f.AppealForm, "reasons")],
}
INPUTS = {
    "case.title": [(s.CaseCreateInput, "title")],
    "case.summary": [(s.CaseCreateInput, "summary")],
    "case.remedial_measures": [(s.CaseCreateInput, "remedial_measures")],
    "finding.reasoning": [(s.FindingInput, "reasoning")],
    "evidence.description": [(s.EvidenceInput, "description")],
    "proposal.opinion": [(s.ProposeInput, "opinion")],
    "consultation.comment": [(s.ConsultReplyInput, "comment")],
    "action.reason": [(s.ReasonInput, "reason"), (s.ReassignInput, "reason")],
    "decision.resolution": [(s.DecideInput, "resolution"), (s.ReviewAppealInput, "resolution")],
    "decision.override_reason": [(s.DecideInput, "override_reason"), (s.ReviewAppealInput, "override_reason")],
    "appeal.reasons": [(s.AppealInput, "reasons")],
}


def test_every_limit_is_carried_by_its_page_forms_and_api_inputs():
    assert set(FORMS) == set(LIMITS)
    for key, places in FORMS.items():
        for form, name in places:
            assert form.base_fields[name].max_length == LIMITS[key].max_length, (key, form.__name__)
    for key, places in INPUTS.items():
        for serializer, name in places:
            assert serializer().fields[name].max_length == LIMITS[key].max_length, (key, serializer.__name__)


def test_the_published_schema_states_the_limits(api):
    schema = api("inspector").get("/api/schema/", {"format": "json"}).json()["components"]["schemas"]
    assert schema["CaseCreateInput"]["properties"]["summary"]["maxLength"] == 20000
    assert schema["FindingInput"]["properties"]["reasoning"]["maxLength"] == 5000


def _create_payload(world, **changes):
    return {"title": "超长文本测试", "subject": world.people["cadre"].pk, "accountability_org": world.orgs["zjk_dc"].pk,
            "ruleset": "zhangjiakou", "conduct_date": conduct_date(), "matter_category": "environment",
            "summary": "督察期间先行查封。", **changes}


@pytest.mark.parametrize(("field", "label", "limit"), [
    ("summary", "基本情况", 20000),
    ("remedial_measures", "补救措施", 20000),
    ("title", "事项名称", 200),
])
def test_an_over_long_case_text_is_refused_naming_the_field_and_no_case_is_created(api, world, field, label, limit):
    response = api("inspector").post("/api/cases/", _create_payload(world, **{field: "情" * (limit + 1)}),
                                     format="json")

    assert response.status_code == 400
    body = response.json()
    assert (body["field"], body["code"]) == (field, "max_length")  # refused by the input serializer itself
    assert f"{label}不能超过 {limit} 字" in body["detail"]
    assert Case.objects.count() == 0
    assert HistoryEntry.objects.count() == 0


def test_a_case_text_at_its_limit_is_accepted(api, world):
    response = api("inspector").post("/api/cases/", _create_payload(world, summary="情" * 20000), format="json")

    assert response.status_code == 201, response.json()
    assert len(Case.objects.get().summary) == 20000


def test_an_over_long_reasoning_is_refused_and_no_finding_is_written(api, world):
    case = create_case(api, world)
    assert act(api("inspector"), case["id"], "investigate").status_code == 200
    revision = Case.objects.get(pk=case["id"]).revision

    response = api("inspector").put(f"/api/cases/{case['id']}/findings/zhangjiakou.X1/",
                                    {"status": "not_met", "reasoning": "理" * 5001}, format="json")

    assert response.status_code == 400
    assert response.json()["field"] == "reasoning"
    assert "认定理由不能超过 5000 字" in response.json()["detail"]
    assert not Finding.objects.exists()
    assert Case.objects.get(pk=case["id"]).revision == revision


@pytest.mark.parametrize("body", [{"reasoning": "经核实。"}, {"status": "", "reasoning": "经核实。"},
                                  {"status": None, "reasoning": "经核实。"}])
def test_a_finding_without_a_status_is_refused_in_chinese_and_nothing_is_written(api, world, body):
    case = create_case(api, world)
    assert act(api("inspector"), case["id"], "investigate").status_code == 200
    revision = Case.objects.get(pk=case["id"]).revision

    response = api("inspector").put(f"/api/cases/{case['id']}/findings/zhangjiakou.X1/", body, format="json")

    assert response.status_code == 400
    assert response.json()["field"] == "status"
    assert "请选择认定" in response.json()["detail"]
    assert not Finding.objects.exists()
    assert Case.objects.get(pk=case["id"]).revision == revision


def test_an_over_long_send_back_reason_is_refused_and_the_case_stays_proposed(api, world):
    case = drive_to_proposed(api, world)

    response = act(api("committee"), case["id"], "send_back", {"reason": "退" * 2001})

    assert response.status_code == 400
    assert (response.json()["field"], response.json()["code"]) == ("reason", "max_length")
    assert "理由不能超过 2000 字" in response.json()["detail"]
    assert Case.objects.get(pk=case["id"]).state == "proposed"


def test_an_over_long_consultation_comment_is_refused(api, world):
    case = drive_to_proposed(api, world, answered=False)

    response = act(api("orgdept"), case["id"], "consult_reply", {"opinion": "disagree", "comment": "意" * 5001})

    assert response.status_code == 400
    assert response.json()["field"] == "comment"
    assert not Case.objects.get(pk=case["id"]).proposals.get().consultations.filter(replied_at__isnull=False).exists()


# --- the services have the last word (the admin, tasks and commands have no form in front) --------------

@pytest.mark.parametrize(("call", "field"), [
    (lambda c, a: services.finding_record(case_id=c.pk, actor=a, clause_id="zhangjiakou.P1", status="met",
                                          reasoning="理" * 5001), "reasoning"),
    (lambda c, a: services.participant_add(case_id=c.pk, actor=a, name="张某", kind="expert",
                                           affiliation="单" * 101), "affiliation"),
    (lambda c, a: services.participant_add(case_id=c.pk, actor=a, name="张某", kind="expert",
                                           opinion="意" * 5001), "opinion"),
    (lambda c, a: services.case_withdraw(case_id=c.pk, actor=a, reason="撤" * 2001), "reason"),
    (lambda c, a: services.case_reassign(case_id=c.pk, actor=a, handler=None, reason="转" * 2001), "reason"),
])
def test_services_refuse_over_long_text_naming_the_field_and_change_nothing(call, field):
    case = case_in_state("investigating")
    before = footprint(case)

    with pytest.raises(InvalidInput) as refused:
        call(case, actor(handler_of(case)))

    assert refused.value.field == field
    assert "不能超过" in refused.value.message
    assert footprint(case) == before
    assert case.participants.count() == 0


def test_an_over_long_evidence_description_is_refused_not_cut(tmp_path, settings):
    from tests.factories import png_upload

    settings.MEDIA_ROOT = tmp_path
    case = case_in_state("investigating")
    before = footprint(case)

    with pytest.raises(InvalidInput) as refused:
        services.evidence_add(case_id=case.pk, actor=actor(handler_of(case)), upload=png_upload(),
                              description="说" * 501)

    assert (refused.value.field, footprint(case)) == ("description", before)


def test_line_breaks_count_once_as_in_the_browser():
    case = case_in_state("investigating")
    text = "甲\r\n" * 2000 + "乙"  # 4,001 characters on screen, 6,001 as submitted

    services.finding_record(case_id=case.pk, actor=actor(handler_of(case)), clause_id="zhangjiakou.P1",
                            status="met", reasoning=text)

    assert case.findings.get().reasoning == text.replace("\r\n", "\n")
