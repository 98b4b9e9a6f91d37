"""Units as parties (Henan 三(一)、三(五): 被问责的干部、单位提出书面申请 … 相关干部、单位可以提出申诉).

A cadre's unit applies in writing on their behalf; a unit held accountable as a unit is itself the
case's subject. Either way the unit sees what concerns it and what is sent back (the feedback), never
internal opinions or its cadres' other cases; it may withdraw its application and appeal a refusal.
"""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import Role
from accounts.services import membership_grant, user_upsert
from cases.models import Case
from reports.models import Document, DocumentKind
from tests.conftest import DEMO_PASSWORD
from tests.factories import answer_consultations
from tests.reports.conftest import _reports_setup, pdf_text  # noqa: F401 - documents rendered in-process
from workflow.models import Appeal, HistoryEntry, Notification
from workflow.selectors import PUBLIC_FIELDS

from .helpers import act, conduct_date, create_case, findings_for, meeting, record_findings

pytestmark = pytest.mark.django_db


def _apply(api, world, *, subject: str = "housing1", user: str = "unit", **extra):
    body = {"title": "汛期危房先行拆除被问责", "subject": world.people[subject].pk if subject else None,
            "accountability_org": world.orgs["zjk_dc"].pk, "conduct_date": conduct_date(),
            "matter_category": "emergency", "summary": "暴雨中组织先行拆除危房，鉴定备案程序后补。", **extra}
    return api(user).post("/api/cases/", body, format="json")


def test_unit_applies_for_its_cadre_and_the_department_is_told_who_applied(api, world):
    response = _apply(api, world)

    assert response.status_code == 201, response.json()
    case = response.json()
    assert case["origin"] == "application" and case["state"] == "started"
    assert case["subject"]["name"] == "张某"
    assert case["applicant_unit"] == {"id": world.orgs["zjk_housing"].pk, "name": "张家口市住房和城乡建设局"}
    stored = Case.objects.get(pk=case["id"])
    assert stored.applicant == world.users["unit"] and stored.applicant_unit == world.orgs["zjk_housing"]
    entry = HistoryEntry.objects.get(case_id=case["id"])
    assert entry.action == "apply" and entry.changes["applicant_unit"] == "张家口市住房和城乡建设局"
    note = Notification.objects.get(user=world.users["inspector"], case_id=case["id"])
    assert "张家口市住房和城乡建设局代为申请" in note.text
    assert case["id"] in [c["id"] for c in api("inspector").get("/api/cases/?state=started").json()["results"]]


def test_the_cadre_is_told_when_their_unit_applies_for_them(api, world):
    officer = user_upsert(username="env_officer", password=DEMO_PASSWORD, full_name="环保局经办人")
    membership_grant(user=officer, organisation=world.orgs["zjk_env"], role=Role.UNIT)
    world.users["env_officer"] = officer

    response = _apply(api, world, subject="cadre", user="env_officer")

    assert response.status_code == 201, response.json()
    note = Notification.objects.get(user=world.users["cadre"], case_id=response.json()["id"])
    assert note.text.startswith("张家口市生态环境局已为您提交容错申请")
    # The cadre sees the case their unit opened, as their own.
    assert api("cadre").get(f"/api/cases/{response.json()['id']}/").status_code == 200


@pytest.mark.parametrize(("subject", "message"), [("cadre", "不在本单位"), (None, "请选择为哪位干部申请")])
def test_unit_cannot_apply_for_someone_outside_it_or_for_nobody(api, world, subject, message):
    before = Case.objects.count()

    response = _apply(api, world, subject=subject)

    assert response.status_code == 400
    assert response.json()["field"] == "subject" and message in response.json()["detail"]
    assert Case.objects.count() == before and not HistoryEntry.objects.exists()


def test_unit_sees_its_applications_but_not_its_cadres_other_cases_nor_internal_opinions(api, world):
    mine = _apply(api, world).json()
    other = create_case(api, world, subject="housing1")  # opened by the inspector, same cadre
    client = api("unit")

    listed = [c["id"] for c in client.get("/api/cases/").json()["results"]]
    assert listed == [mine["id"]]
    assert client.get(f"/api/cases/{other['id']}/").status_code == 404

    assert act(api("inspector"), mine["id"], "investigate").status_code == 200
    record_findings(api, mine, findings_for(mine, tolerable=True))
    act(api("inspector"), mine["id"], "propose", {"recommended_outcome": "exempt", "opinion": "内部建议意见。"})
    detail = client.get(f"/api/cases/{mine['id']}/").json()
    assert detail["state"] == "proposed" and "sent_back_reason" not in detail
    assert client.get(f"/api/cases/{mine['id']}/evaluation/").status_code in (403, 404)
    history = client.get(f"/api/cases/{mine['id']}/history/").json()
    assert history and all(set(h) <= set(PUBLIC_FIELDS) for h in history)
    assert "record_finding" not in [h["action"] for h in history]


def test_unit_may_withdraw_its_application(api, world):
    case = _apply(api, world).json()

    response = act(api("unit"), case["id"], "withdraw", {"reason": "情况已另行说明。"})

    assert response.status_code == 200, response.json()
    assert Case.objects.get(pk=case["id"]).state == "withdrawn"


def test_refused_unit_application_feedback_reaches_the_unit_which_may_appeal(api, world,
                                                                             django_capture_on_commit_callbacks):
    case = _apply(api, world).json()
    assert act(api("inspector"), case["id"], "investigate").status_code == 200
    record_findings(api, case, findings_for(case, tolerable=False))
    act(api("inspector"), case["id"], "propose", {"recommended_outcome": "refused", "opinion": "不符合容错情形。"})
    answer_consultations(Case.objects.get(pk=case["id"]))
    with django_capture_on_commit_callbacks(execute=True):
        decided = act(api("committee"), case["id"], "decide",
                      {"outcome": "refused", "resolution": "不予容错。", **meeting()})
    assert decided.status_code == 200, decided.json()
    executed = act(api("inspector"), case["id"], "execute", {"delivered_on": timezone.localdate().isoformat()})
    assert executed.status_code == 200, executed.json()
    assert Notification.objects.filter(user=world.users["unit"], case_id=case["id"],
                                       text__startswith="容错认定结论已送达：不予容错").exists()

    kinds = {d["kind"] for d in api("unit").get(f"/api/cases/{case['id']}/documents/").json()}
    assert "feedback" in kinds and "filing" not in kinds
    filing = Document.objects.get(case_id=case["id"], kind=DocumentKind.FILING)
    assert api("unit").get(f"/api/cases/{case['id']}/documents/{filing.pk}/file/").status_code == 404

    feedback = Document.objects.get(case_id=case["id"], kind=DocumentKind.FEEDBACK)
    letter = pdf_text(feedback.file.path)
    assert "经张家口市住房和城乡建设局代为书面申请" in letter and "抄送：张家口市住房和城乡建设局" in letter

    appeal = act(api("unit"), case["id"], "appeal", {"reasons": "单位认为属于紧急处置险情，请求复核。"})
    assert appeal.status_code == 200, appeal.json()
    assert Appeal.objects.get(case_id=case["id"]).filed_by == world.users["unit"]
    with django_capture_on_commit_callbacks(execute=True):
        upheld = act(api("committee"), case["id"], "review_appeal",
                     {"result": "upheld", "resolution": "维持原决定。", **meeting()})
    assert upheld.status_code == 200, upheld.json()
    assert Notification.objects.filter(user=world.users["unit"], case_id=case["id"],
                                       text__startswith="申诉复核结果").exists()
    review = Document.objects.get(case_id=case["id"], kind=DocumentKind.APPEAL_REVIEW)
    assert "张家口市住房和城乡建设局于" in pdf_text(review.file.path)
    assert "代你对" in pdf_text(review.file.path)


def test_unit_application_through_the_pages_prints_the_unit_as_applicant(client, world,
                                                                         django_capture_on_commit_callbacks):
    client.force_login(world.users["unit"])
    assert "本单位的申请" in client.get("/").content.decode()
    page = client.get("/apply/").content.decode()
    assert "为哪位干部申请" in page and "张某" in page and "刘某" in page and "王某" not in page
    key = re.search(r'name="submission_key" value="(\w+)"', page).group(1)
    form = {"submission_key": key, "title": "汛期危房先行拆除", "accountability_org": world.orgs["zjk_dc"].pk,
            "conduct_date": conduct_date(), "matter_category": "emergency", "summary": "先行拆除危房。"}

    missing = client.post("/apply/", form)
    assert missing.status_code == 400 and "请选择为哪位干部申请" in missing.content.decode()
    outsider = client.post("/apply/", {**form, "subject": world.people["cadre"].pk})
    assert outsider.status_code == 400 and "该干部不在本单位" in outsider.content.decode()
    assert not Case.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/apply/", {**form, "subject": world.people["housing2"].pk})
    assert response.status_code == 302
    case = Case.objects.get(title="汛期危房先行拆除")
    assert case.subject == world.people["housing2"] and case.applicant_unit == world.orgs["zjk_housing"]
    listing = client.get("/mine/").content.decode()
    assert "为 刘某（副局长）申请" in listing and "问责部门正在受理本单位的申请" in listing

    application = Document.objects.get(case=case, kind=DocumentKind.APPLICATION)
    text = pdf_text(application.file.path)
    assert "申请单位：张家口市住房和城乡建设局" in text and "经办人：马经办" in text
    assert "副局长刘某同志" in text


def test_a_unit_held_accountable_is_the_party_its_officers_act_for(api, world, client,
                                                                   django_capture_on_commit_callbacks):
    case = create_case(api, world, subject="housing_unit", title="专项资金拨付滞后问责")
    assert case["subject"]["kind"] == "unit" and case["subject"]["name"] == "张家口市住房和城乡建设局"
    officer = api("unit")
    assert [c["id"] for c in officer.get("/api/cases/").json()["results"]] == [case["id"]]
    assert api("cadre").get(f"/api/cases/{case['id']}/").status_code == 404  # a cadre elsewhere

    assert act(api("inspector"), case["id"], "investigate").status_code == 200
    client.force_login(world.users["unit"])
    stated = client.post(f"/cases/{case['id']}/statements/", {"text": "单位情况说明：暂缓拨付是为保证工程质量。"})
    assert stated.status_code == 302
    assert HistoryEntry.objects.filter(case_id=case["id"], action="add_statement").exists()
    assert "本单位被问责" in client.get("/mine/").content.decode()

    record_findings(api, case, findings_for(case, tolerable=False))
    act(api("inspector"), case["id"], "propose", {"recommended_outcome": "refused", "opinion": "内部意见：不符合。"})
    answer_consultations(Case.objects.get(pk=case["id"]))
    assert "内部意见" not in client.get(f"/cases/{case['id']}/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        act(api("committee"), case["id"], "decide", {"outcome": "refused", "resolution": "不予容错。", **meeting()})
    act(api("inspector"), case["id"], "execute", {"delivered_on": timezone.localdate().isoformat()})
    assert Notification.objects.filter(user=world.users["unit"], case_id=case["id"],
                                       text__startswith="容错认定结论已送达").exists()

    letter = pdf_text(Document.objects.get(case_id=case["id"], kind=DocumentKind.FEEDBACK).file.path)
    assert "关于张家口市住房和城乡建设局容错认定结论的" in letter and "张家口市住房和城乡建设局：" in letter
    assert "对你单位不予容错" in letter and "你单位的行为不属于" in letter and "同志" not in letter
    filing = pdf_text(Document.objects.get(case_id=case["id"], kind=DocumentKind.FILING).file.path)
    assert "被问责单位张家口市住房和城乡建设局" in filing

    appeal = act(officer, case["id"], "appeal", {"reasons": "单位请求复核。"})
    assert appeal.status_code == 200, appeal.json()


def test_a_unit_may_apply_for_itself(api, world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = _apply(api, world, subject="housing_unit")

    assert response.status_code == 201, response.json()
    case = Case.objects.get(pk=response.json()["id"])
    assert case.subject == world.people["housing_unit"] and case.applicant_unit == world.orgs["zjk_housing"]
    text = pdf_text(Document.objects.get(case=case, kind=DocumentKind.APPLICATION).file.path)
    assert "我单位（张家口市住房和城乡建设局）现就" in text and "申请单位：张家口市住房和城乡建设局" in text


def test_the_applying_unit_sees_what_it_filed_but_not_the_cadres_statements_or_the_investigation(
        api, world, client):
    officer = user_upsert(username="env_officer", password=DEMO_PASSWORD, full_name="环保局经办人")
    membership_grant(user=officer, organisation=world.orgs["zjk_env"], role=Role.UNIT)
    world.users["env_officer"] = officer
    case = _apply(api, world, subject="cadre", user="env_officer").json()
    assert act(api("inspector"), case["id"], "investigate").status_code == 200
    files = {}
    for who in ("env_officer", "inspector", "cadre"):
        upload = SimpleUploadedFile(f"{who}.pdf", b"%PDF-1.4 " + who.encode(), content_type="application/pdf")
        response = api(who).post(f"/api/cases/{case['id']}/evidence/", {"file": upload, "description": who},
                                 format="multipart")
        assert response.status_code == 201, (who, response.json())
        files[who] = response.json()["id"]
    client.force_login(world.users["cadre"])
    client.post(f"/cases/{case['id']}/statements/", {"text": "本人陈述：当时情况紧急。"})

    unit = api("env_officer")
    listed = [e["id"] for e in unit.get(f"/api/cases/{case['id']}/evidence/").json()]
    assert listed == [files["env_officer"]]
    assert unit.get(f"/api/cases/{case['id']}/evidence/{files['inspector']}/").status_code == 404
    assert unit.get(f"/api/cases/{case['id']}/evidence/{files['env_officer']}/").status_code == 200
    assert len(api("cadre").get(f"/api/cases/{case['id']}/evidence/").json()) == 3  # the party sees all

    client.force_login(officer)
    page = client.get(f"/cases/{case['id']}/").content.decode()
    assert "本人陈述：当时情况紧急。" not in page and "inspector.pdf" not in page and "env_officer.pdf" in page
    client.force_login(world.users["cadre"])
    assert "本人陈述：当时情况紧急。" in client.get(f"/cases/{case['id']}/").content.decode()


def test_another_units_officer_can_neither_see_nor_act(api, world):
    case = _apply(api, world).json()
    officer = user_upsert(username="env_officer", password=DEMO_PASSWORD, full_name="环保局经办人")
    membership_grant(user=officer, organisation=world.orgs["zjk_env"], role=Role.UNIT)
    world.users["env_officer"] = officer
    other = api("env_officer")

    assert other.get(f"/api/cases/{case['id']}/").status_code == 404
    assert act(other, case["id"], "withdraw", {"reason": "x"}).status_code == 404
    assert act(other, case["id"], "appeal", {"reasons": "x"}).status_code == 404
    assert Case.objects.get(pk=case["id"]).state == "started"


def test_an_officer_who_is_also_a_cadre_may_still_apply_for_themselves_on_the_page(client, world):
    membership_grant(user=world.users["cadre"], organisation=world.orgs["zjk_housing"], role=Role.UNIT)
    client.force_login(world.users["cadre"])
    page = client.get("/apply/").content.decode()
    key = re.search(r'name="submission_key" value="(\w+)"', page).group(1)

    response = client.post("/apply/", {
        "submission_key": key, "subject": world.people["cadre"].pk, "title": "本人申请",
        "accountability_org": world.orgs["zjk_dc"].pk, "conduct_date": conduct_date(),
        "matter_category": "environment", "summary": "情况。"})

    assert response.status_code == 302, response.content.decode()[:2000]
    case = Case.objects.get(title="本人申请")
    assert case.subject == world.people["cadre"] and case.applicant_unit is None


def test_a_parent_units_officer_cannot_apply_as_a_sub_unit(api, world):
    from accounts.models import OrgKind, OrgLevel
    from accounts.services import organisation_upsert, unit_party_ensure

    section = organisation_upsert(name="张家口市住建局城建科", kind=OrgKind.UNIT, level=OrgLevel.CITY,
                                  jurisdiction="zhangjiakou", parent=world.orgs["zjk_housing"])
    world.people["section"] = unit_party_ensure(section)

    response = _apply(api, world, subject="section")

    assert response.status_code == 400 and response.json()["field"] == "subject"


def test_the_admin_registers_an_organisation_as_a_unit_party(client, world, api):
    from accounts.models import PartyKind, Person

    client.force_login(world.users["admin"])
    response = client.post("/admin/accounts/organisation/", {
        "action": "make_unit_parties", "_selected_action": [world.orgs["zz_transport"].pk, world.orgs["zz"].pk]},
        follow=True)

    assert response.status_code == 200 and "已为 1 个组织建立被问责单位当事人" in response.content.decode()
    assert "1 个党委（党组）、纪检监察机关或组织部门未建立" in response.content.decode()
    assert not Person.objects.filter(unit=world.orgs["zz"]).exists()  # a committee never decides on itself
    party = Person.objects.get(kind=PartyKind.UNIT, unit=world.orgs["zz_transport"])
    assert party.name == "郑州市交通运输局" and party.user is None
    # The Zhengzhou commission can now open a case about the bureau itself.
    response = api("inspector2").post("/api/cases/", {
        "title": "交通项目审批延误问责", "subject": party.pk, "accountability_org": world.orgs["zz_dc"].pk,
        "conduct_date": conduct_date(), "matter_category": "approval", "summary": "单位审批延误。"}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["subject"] == {"id": party.pk, "kind": "unit", "name": "郑州市交通运输局",
                                          "unit": "郑州市交通运输局", "position": ""}


def test_after_a_refusal_the_applying_unit_sees_neither_the_cadres_appeal_nor_recusals_nor_clause_reasoning(
        api, world, client, django_capture_on_commit_callbacks):
    officer = user_upsert(username="env_officer", password=DEMO_PASSWORD, full_name="环保局经办人")
    membership_grant(user=officer, organisation=world.orgs["zjk_env"], role=Role.UNIT)
    second = user_upsert(username="env_officer2", password=DEMO_PASSWORD, full_name="环保局另一经办人")
    membership_grant(user=second, organisation=world.orgs["zjk_env"], role=Role.UNIT)
    former = user_upsert(username="env_former", password=DEMO_PASSWORD, full_name="已调离经办人")
    membership_grant(user=former, organisation=world.orgs["zjk_env"], role=Role.UNIT)
    world.users.update(env_officer=officer, env_officer2=second, env_former=former)
    case = _apply(api, world, subject="cadre", user="env_officer").json()
    former.memberships.all().delete()  # transferred out before the outcome
    assert act(api("inspector"), case["id"], "investigate").status_code == 200
    record_findings(api, case, findings_for(case, tolerable=False))
    act(api("inspector"), case["id"], "propose", {"recommended_outcome": "refused", "opinion": "不符合。"})
    answer_consultations(Case.objects.get(pk=case["id"]))
    assert act(api("committee_b"), case["id"], "recuse", {"reason": "回避理由：与当事人系同学。"}).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        act(api("committee"), case["id"], "decide", {"outcome": "refused", "resolution": "不予容错。", **meeting()})
    act(api("inspector"), case["id"], "execute", {"delivered_on": timezone.localdate().isoformat()})
    assert act(api("cadre"), case["id"], "appeal", {"reasons": "干部本人申诉：秘密理由。"}).status_code == 200

    # Outcome notices reach the unit's current officers, not one who has left.
    notices = set(Notification.objects.filter(case_id=case["id"], text__startswith="容错认定结论已送达")
                  .values_list("user__username", flat=True))
    assert {"env_officer", "env_officer2", "cadre"} <= notices and "env_former" not in notices

    assert api("env_officer").get(f"/api/cases/{case['id']}/evaluation/").status_code == 403
    assert api("cadre").get(f"/api/cases/{case['id']}/evaluation/").status_code == 200
    client.force_login(officer)
    page = client.get(f"/cases/{case['id']}/?tab=decision").content.decode()
    assert "不予容错" in page
    for secret in ("干部本人申诉：秘密理由。", "回避理由：与当事人系同学。", "回避人员", "孙常委"):
        assert secret not in page, secret
    assert client.get(f"/cases/{case['id']}/evaluation/").status_code == 404
    client.force_login(world.users["cadre"])
    cadre_page = client.get(f"/cases/{case['id']}/?tab=decision").content.decode()
    assert "干部本人申诉：秘密理由。" in cadre_page and "回避人员" in cadre_page
