"""Never surprise, never lose work (server side): irreversible actions carry their confirmation, files chosen
on a written application survive a validation error and become its evidence, application drafts, error
summaries that link to their fields, counters' limits, and notices that name their case and end with their task."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from accounts.selectors import case_authority
from cases.models import Case, CaseState, Evidence
from tests.factories import PersonFactory, actor, case_in_state, committee_member, handler_of
from workflow import services
from workflow.actions import ACTIONS
from workflow.errors import InvalidInput
from workflow.models import Draft, Notification, PendingUpload

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64
IRREVERSIBLE = ("withdraw", "decide", "execute", "appeal", "review_appeal")


@pytest.fixture
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def files_in(root) -> list:
    return sorted(p for p in root.rglob("*") if p.is_file())


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def application(world, **overrides) -> dict:
    data = {
        "title": "汛期先行调用抢险物资被问责", "accountability_org": world.orgs["zjk_dc"].pk,
        "conduct_date": (timezone.localdate() - dt.timedelta(days=30)).isoformat(), "matter_category": "other",
        "summary": "汛情紧急，先调用物资后补手续。",
    }
    data.update(overrides)
    return data


def pdf(name: str = "会议纪要.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


# --- confirmations ---------------------------------------------------------------------------------

def test_every_irreversible_action_says_what_happens_and_that_it_is_final_and_no_other_asks():
    for name, spec in ACTIONS.items():
        if name in IRREVERSIBLE:
            assert spec.confirm.startswith("确认") and "不能" in spec.confirm, name
        else:
            assert spec.confirm == "", name
    assert ACTIONS["withdraw"].button != "btn-primary"


def test_the_case_page_renders_the_confirmation_on_the_button_and_withdraw_as_a_secondary_button():
    case = case_in_state(CaseState.STARTED)
    html = signed_in(handler_of(case)).get(f"/cases/{case.pk}/?tab=actions").content.decode()

    withdraw = re.search(r'<button class="btn ([\w-]+)" type="submit" name="_go" value="1" data-confirm="([^"]+)">撤回<',
                         html)
    assert withdraw is not None
    assert withdraw.group(1) == "btn-danger-secondary"
    assert withdraw.group(2) == ACTIONS["withdraw"].confirm
    investigate = re.search(r'<button class="btn btn-primary" type="submit" name="_go" value="1">开始调查<', html)
    assert investigate is not None  # an ordinary step asks nothing


def test_the_decision_page_asks_before_deciding_but_not_before_saving_a_draft():
    case = case_in_state(CaseState.PROPOSED)
    member = committee_member(case_authority(case.subject).committee)
    html = signed_in(member).get(f"/cases/{case.pk}/review/").content.decode()

    assert f'data-confirm="{ACTIONS["decide"].confirm}">作出决定<' in html
    assert re.search(r'name="_draft" value="1" formnovalidate>保存草稿', html)
    assert 'data-confirm="" name="_draft"' not in html


def test_without_the_script_a_confirmed_action_still_submits_as_before():
    case = case_in_state(CaseState.STARTED)
    client = signed_in(handler_of(case))

    response = client.post(f"/cases/{case.pk}/act/withdraw/", {"reason": "申请人书面撤回。", "revision": case.revision})

    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.WITHDRAWN


# --- attachments of the written application ---------------------------------------------------------

def test_files_chosen_on_an_application_with_an_error_are_kept_shown_and_become_its_evidence(world, media,
                                                                                         django_capture_on_commit_callbacks):
    cadre = world.users["cadre"]
    client = signed_in(cadre)

    response = client.post("/apply/", {**application(world, title=""), "attachments": [pdf()]})

    assert response.status_code == 400
    page = response.content.decode()
    assert "会议纪要.pdf" in page and 'name="_remove_upload"' in page
    assert not Case.objects.exists()
    kept = PendingUpload.objects.get(user=cadre)
    assert (kept.original_name, kept.size, kept.form) == ("会议纪要.pdf", len(PDF), "apply")
    assert files_in(media) == [media / kept.file.name]

    # The next try sends no file: the kept one goes with it.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/apply/", application(world))

    assert response.status_code == 302
    case = Case.objects.get()
    evidence = Evidence.objects.get(case=case)
    assert (evidence.original_name, evidence.description) == ("会议纪要.pdf", "申请附件")
    assert evidence.sha256 == hashlib.sha256(PDF).hexdigest()
    assert not PendingUpload.objects.exists()
    assert (media / evidence.file.name).is_file()
    assert files_in(media / "pending") == []  # the kept copy is gone once the case exists


def test_a_refused_file_is_named_and_not_kept_while_the_good_one_is(world, media):
    cadre = world.users["cadre"]

    response = signed_in(cadre).post("/apply/", {
        **application(world), "attachments": [pdf("现场照片说明.pdf"), SimpleUploadedFile("程序.pdf", EXE)]})

    assert response.status_code == 400
    assert "程序.pdf：文件内容不是 PDF" in response.content.decode()
    assert list(PendingUpload.objects.values_list("original_name", flat=True)) == ["现场照片说明.pdf"]
    assert not Case.objects.exists()


def test_a_kept_file_can_be_removed_and_what_was_typed_is_kept_as_a_draft(world, media,
                                                                         django_capture_on_commit_callbacks):
    cadre = world.users["cadre"]
    client = signed_in(cadre)
    client.post("/apply/", {**application(world, summary=""), "attachments": [pdf("一.pdf"), pdf("二.pdf")]})
    first = PendingUpload.objects.get(original_name="一.pdf")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/apply/", {**application(world, summary=""), "_remove_upload": str(first.pk)})

    assert response.status_code == 302
    assert list(PendingUpload.objects.values_list("original_name", flat=True)) == ["二.pdf"]
    assert len(files_in(media / "pending")) == 1
    draft = Draft.objects.get(user=cadre, case=None, form="apply")
    assert draft.data["title"] == "汛期先行调用抢险物资被问责"
    page = client.get("/apply/").content.decode()
    assert "已移除附件：一.pdf" in page
    assert re.findall(r'<span class="kept-name">([^<]+)</span>', page) == ["二.pdf"]
    assert 'value="汛期先行调用抢险物资被问责"' in page


def test_another_users_kept_file_is_neither_shown_removed_nor_attached(world, media):
    client = signed_in(world.users["cadre"])
    client.post("/apply/", {**application(world, title=""), "attachments": [pdf("王某的材料.pdf")]})
    theirs = PendingUpload.objects.get()
    other = signed_in(world.users["cadre2"])

    assert "王某的材料.pdf" not in other.get("/apply/").content.decode()
    other.post("/apply/", {**application(world), "_remove_upload": str(theirs.pk)})
    assert PendingUpload.objects.filter(pk=theirs.pk).exists()
    with pytest.raises(InvalidInput, match="附件不属于当前用户"):
        services.case_create(actor=actor(world.users["cadre2"]), title="x", subject=None,
                             accountability_org=world.orgs["zjk_dc"], conduct_date=timezone.localdate(),
                             matter_category="other", summary="y", pending=[theirs])
    assert not Case.objects.exists()


def test_kept_files_expire_and_are_purged(world, media, settings, django_capture_on_commit_callbacks):
    settings.UPLOAD_PENDING_HOURS = 2
    cadre = world.users["cadre"]
    signed_in(cadre).post("/apply/", {**application(world, title=""), "attachments": [pdf("旧材料.pdf")]})
    PendingUpload.objects.update(created_at=timezone.now() - dt.timedelta(hours=3))

    assert "旧材料.pdf" not in signed_in(cadre).get("/apply/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.pending_uploads_purge() == 1
    assert not PendingUpload.objects.exists() and files_in(media) == []


# --- drafts of the application ----------------------------------------------------------------------

def test_an_application_draft_is_saved_without_a_case_restored_and_discarded_on_submit(world, media):
    cadre = world.users["cadre"]
    client = signed_in(cadre)
    situation = re.search(r'name="claimed_situations" value="([^"]+)"', client.get("/apply/").content.decode()).group(1)

    response = client.post("/apply/", {**application(world, summary="先写一半"), "claimed_situations": [situation],
                                       "submission_key": "abc", "_draft": "1"})

    assert response.status_code == 302 and not Case.objects.exists()
    draft = Draft.objects.get(user=cadre, case=None, form="apply")
    assert draft.data["summary"] == "先写一半" and "submission_key" not in draft.data
    page = client.get("/apply/").content.decode()
    assert "已恢复您于" in page and "先写一半</textarea>" in page
    assert re.search(rf'value="{re.escape(situation)}"[^>]*checked', page)

    key = re.search(r'name="submission_key" value="(\w+)"', page).group(1)
    assert key != "abc"
    assert client.post("/apply/", {**application(world), "submission_key": key}).status_code == 302
    assert not Draft.objects.filter(user=cadre, case=None).exists()


def test_drafts_of_two_users_are_their_own(world):
    services.application_draft_save(user=world.users["cadre"], data={"title": "甲"})
    services.application_draft_save(user=world.users["cadre"], data={"title": "乙"})
    services.application_draft_save(user=world.users["cadre2"], data={"title": "丙"})

    assert services.application_draft(world.users["cadre"]).data == {"title": "乙"}
    assert services.application_draft(world.users["cadre2"]).data == {"title": "丙"}
    assert Draft.objects.filter(case=None).count() == 2


# --- error summary and counters ---------------------------------------------------------------------

def test_the_application_error_summary_links_to_each_field_in_error(world):
    response = signed_in(world.users["cadre"]).post("/apply/", application(world, title="", summary=""))

    page = response.content.decode()
    summary = page[page.index("data-error-summary"):page.index("</div>", page.index("data-error-summary"))]
    assert 'href="#id_title"' in summary and 'href="#id_summary"' in summary
    assert "被问责事项：该字段是必填项。" in summary
    assert 'id="id_title"' in page and 'id="id_summary"' in page


def test_an_action_form_error_summary_links_to_the_field_of_that_form():
    case = case_in_state(CaseState.PROPOSED)
    member = committee_member(case_authority(case.subject).committee)
    response = signed_in(member).post(f"/cases/{case.pk}/act/decide/", {
        "outcome": "exempt", "meeting_kind": "standing", "meeting_date": timezone.localdate().isoformat(),
        "members_present": 5, "members_total": 11, "resolution": "免责。", "revision": case.revision,
        "_from": "review"})

    assert response.status_code == 400
    page = response.content.decode()
    assert re.search(r'<a href="#id_decide_members_present" data-focus-field="id_decide_members_present">到会人数：', page)
    case.refresh_from_db()
    assert case.state == CaseState.PROPOSED


def test_limited_fields_carry_their_limit_for_the_live_counter(world):
    page = signed_in(world.users["cadre"]).get("/apply/").content.decode()

    assert re.search(r'<input type="text" name="title"[^>]*data-max-chars="200"', page)
    assert re.search(r'<textarea name="summary"[^>]*data-max-chars="\d+"', page)
    assert 'name="submission_key"' in page and not re.search(r'name="submission_key"[^>]*data-max-chars', page)


# --- notifications ----------------------------------------------------------------------------------

def proposed_with_members(count: int) -> tuple[Case, list]:
    """A proposed case whose committee had ``count`` members when the proposal went out (each asked to decide)."""
    subject = PersonFactory()
    committee = case_authority(subject).committee
    members = [committee_member(committee) for _ in range(count)]
    return case_in_state(CaseState.PROPOSED, subject=subject), members


def test_a_notice_shows_its_case_number_and_opening_it_marks_it_read_and_leads_to_the_case():
    case, (member,) = proposed_with_members(1)
    notice = Notification.objects.get(user=member, case=case, task="decide")
    client = signed_in(member)

    page = client.get("/notifications/").content.decode()
    assert case.reference in page and f"/notifications/{notice.pk}/open/" in page and "待办" in page

    response = client.get(f"/notifications/{notice.pk}/open/")

    assert response.status_code == 302 and response.url == f"/cases/{case.pk}/"
    notice.refresh_from_db()
    assert notice.read_at is not None and notice.done_at is None  # read, but the decision is still to take


def test_another_users_notice_is_not_found_and_stays_unread():
    case, (member, other) = proposed_with_members(2)
    notice = Notification.objects.get(user=member, case=case, task="decide")

    assert signed_in(other).get(f"/notifications/{notice.pk}/open/").status_code == 404
    notice.refresh_from_db()
    assert notice.read_at is None


def test_a_recused_members_decision_notice_ends_with_the_reason_and_the_others_stay_open():
    case, (conflicted, other) = proposed_with_members(2)

    services.case_recuse(case_id=case.pk, actor=actor(conflicted), reason="与当事人系近亲属。")

    mine = Notification.objects.get(user=conflicted, case=case, task="decide")
    assert mine.done_at is not None and mine.done_reason == "已申请回避，不参与本案决定" and mine.read_at is not None
    assert Notification.objects.get(user=other, case=case, task="decide").done_at is None


def test_the_notice_is_done_once_its_task_is_taken_and_the_page_shows_it_done():
    case = case_in_state(CaseState.DECIDED)
    handler = handler_of(case)
    notice = Notification.objects.get(user=handler, case=case, task="execute")
    assert notice.done_at is None

    services.case_execute(case_id=case.pk, actor=actor(handler), delivered_on=timezone.localdate())

    notice.refresh_from_db()
    assert notice.done_at is not None and notice.done_reason == "已办理"
    page = signed_in(handler).get("/notifications/").content.decode()
    item = page[page.index(f'data-notification="{notice.pk}"'):]
    assert item.index("已办结") < item.index("</li>")


def test_beat_purges_expired_kept_files(settings):
    from config.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["purge-expired-pending-uploads"]
    app.loader.import_default_modules()
    assert entry["task"] in app.tasks


def test_a_kept_file_lost_from_storage_is_a_clear_error_not_a_crash(world, media):
    cadre = world.users["cadre"]
    client = signed_in(cadre)
    client.post("/apply/", {**application(world, title=""), "attachments": [pdf("丢失的材料.pdf")]})
    kept = PendingUpload.objects.get()
    (media / kept.file.name).unlink()

    response = client.post("/apply/", application(world))

    assert response.status_code == 400
    assert "丢失的材料.pdf：保留的文件已失效，请移除后重新选择。" in response.content.decode()
    assert not Case.objects.exists() and not Evidence.objects.exists()


def test_a_member_who_recused_is_not_asked_to_review_the_appeal():
    from tests.factories import appellant_of

    subject = PersonFactory(with_login=True)
    committee = case_authority(subject).committee
    conflicted, other = committee_member(committee), committee_member(committee)
    case = case_in_state(CaseState.PROPOSED, subject=subject, outcome="refused")
    services.case_recuse(case_id=case.pk, actor=actor(conflicted), reason="与当事人系近亲属。")
    services.case_decide(case_id=case.pk, actor=actor(other), outcome="refused", resolution="不予容错。",
                         meeting_date=timezone.localdate(), meeting_kind="standing", members_present=9,
                         members_total=11)
    services.case_execute(case_id=case.pk, actor=actor(handler_of(case)), delivered_on=timezone.localdate())

    services.case_appeal(case_id=case.pk, actor=actor(appellant_of(case)), reasons="请求复核。")

    asked = set(Notification.objects.filter(case=case, task="review_appeal").values_list("user_id", flat=True))
    assert other.pk in asked and conflicted.pk not in asked
