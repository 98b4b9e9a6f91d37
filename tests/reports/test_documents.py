"""Documents produced from a decision: their text, fonts, numbers, versions and failure modes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from urllib.parse import urlsplit

import pytest
from django.db import IntegrityError, transaction
from django.test import override_settings

from reports import services
from reports.contexts import site_url
from reports.fonts import chinese_families, font_plan_reset
from reports.models import Document, DocumentKind, DocumentNumber, DocumentStatus
from tests.conftest import ROOT
from tests.reports.conftest import (
    actor,
    copy_artifact,
    decide,
    drive_to_proposed,
    page_png,
    pdf_fonts,
    pdf_text,
)
from workflow.models import HistoryEntry, OutboxEvent

pytestmark = pytest.mark.django_db


def _doc(case, kind):
    return Document.objects.get(case=case, kind=kind, superseded=False)


def test_decision_produces_ready_feedback_letter_with_name_conclusion_number_and_clauses(decided):
    feedback = _doc(decided, DocumentKind.FEEDBACK)

    assert feedback.status == DocumentStatus.READY
    assert feedback.number.startswith("张纪容〔") and feedback.number.endswith("〕1号")
    text = pdf_text(feedback.file.path)
    assert "王某同志" in text
    assert "免责" in text
    assert feedback.number in text
    assert "推动决策部署贯彻落实中开拓进取" in text and "附件2一、容错情形第1项" in text
    assert "没有明令禁止" in text and "S1" not in text  # clauses by title and article, never by id
    assert "—1—" in pdf_text(feedback.file.path, footers=True)
    copy_artifact(feedback.file.path, "feedback.pdf")
    png = page_png(feedback.file.path, "feedback-page1")
    assert png.stat().st_size > 10_000


def test_feedback_embeds_a_subset_cjk_font_and_stays_small(decided):
    feedback = _doc(decided, DocumentKind.FEEDBACK)

    fonts = pdf_fonts(feedback.file.path)
    cjk = [line for line in fonts.splitlines() if "CJK" in line or "Report" in line]
    assert cjk, fonts
    assert all(" yes yes " in line for line in cjk), fonts
    assert feedback.size <= 150 * 1024
    assert feedback.sha256 and len(feedback.sha256) == 64


def test_filing_report_carries_evaluation_consultation_meeting_and_recipients(decided):
    filing = _doc(decided, DocumentKind.FILING)

    text = pdf_text(filing.file.path)
    copy_artifact(filing.file.path, "filing.pdf")
    page_png(filing.file.path, "filing-page1")
    assert "容错纠错备案表" in text
    assert "河北省纪委监委" in text and "中共河北省委组织部" in text
    assert "2019年版" in text and "2023" not in text
    # People read titles and articles; ids, hashes and the engine stay in the API.
    assert "zhangjiakou" not in text and "sha256" not in text and "引擎" not in text
    assert "中共张家口市委组织部：同意" in text
    assert "应到11人，实到9人" in text
    for title in ("没有明令禁止", "推动决策部署贯彻落实中开拓进取", "其他不符合前置条件的情形"):
        assert title in text
    assert not re.search(r"(?<![A-Za-z0-9])[PSX]\d{1,2}(?![0-9])", text)
    assert filing.number != _doc(decided, DocumentKind.FEEDBACK).number


def test_the_printed_qr_code_scans_to_the_verification_page_that_says_genuine(decided, client, tmp_path):
    import zxingcpp
    from PIL import Image

    filing = _doc(decided, DocumentKind.FILING)
    # The QR code sits above the colophon on the last page; scan it from a 150 dpi rendering, as a phone would.
    prefix = tmp_path / "last"
    subprocess.run(["pdftoppm", "-png", "-r", "150", "-f", str(filing.pages), "-l", str(filing.pages), "-singlefile",
                    filing.file.path, str(prefix)], check=True)
    codes = zxingcpp.read_barcodes(Image.open(prefix.with_suffix(".png")).convert("L"))

    assert [c.text for c in codes] == [f"{site_url()}/verify/{filing.token}/"]
    page = client.get(urlsplit(codes[0].text).path).content.decode()
    assert "真实" in page and "现行有效" in page


def test_refusal_letter_states_the_right_to_appeal_with_a_deadline(world, django_capture_on_commit_callbacks):
    case = drive_to_proposed(world, tolerable=False, outcome="refused")
    with django_capture_on_commit_callbacks(execute=True):
        decide(world, case, outcome="refused")

    text = pdf_text(_doc(case, DocumentKind.FEEDBACK).file.path)
    assert "不予容错" in text
    assert "申诉权利" in text and "三十日内" in text and "中共张家口市委提出书面申诉"  in text
    assert "不属于" in text


def test_henan_letter_states_henan_consequences(world):
    from reports.contexts import consequences_template

    assert consequences_template("henan") == "reports/consequences/henan.html"
    assert consequences_template("zhangjiakou") == "reports/consequences/default.html"


def test_dispatch_is_idempotent_and_a_second_run_of_the_task_changes_nothing(decided):
    before = list(Document.objects.filter(case=decided).values_list("pk", "sha256"))
    event = OutboxEvent.objects.get(case=decided, kind="case_decided")
    assert event.dispatched_at is not None

    OutboxEvent.objects.filter(pk=event.pk).update(dispatched_at=None)  # as if redelivered
    services.outbox_dispatch()
    for doc_id, _ in before:
        services.document_generate(document_id=doc_id, task_id="again")

    assert list(Document.objects.filter(case=decided).values_list("pk", "sha256")) == before


def test_the_same_version_cannot_be_stored_twice(decided):
    existing = _doc(decided, DocumentKind.FEEDBACK)
    with pytest.raises(IntegrityError), transaction.atomic():
        Document.objects.create(case=decided, kind=existing.kind, version=existing.version, token="dup")


def test_redelivered_task_takes_over_but_another_task_does_not(decided):
    with transaction.atomic():
        doc = services.document_request(case=decided, kind=DocumentKind.FEEDBACK, reason="test")
    assert services._claim(doc.pk, "task-a")
    assert not services._claim(doc.pk, "task-b")
    generated = services.document_generate(document_id=doc.pk, task_id="task-a")
    assert generated.status == DocumentStatus.READY
    assert Document.objects.filter(case=decided, kind=DocumentKind.FEEDBACK, status="ready").count() == 2


def test_regenerating_keeps_the_number_adds_a_version_and_supersedes_the_old(decided, api,
                                                                            django_capture_on_commit_callbacks):
    old = _doc(decided, DocumentKind.FEEDBACK)

    with django_capture_on_commit_callbacks(execute=True):
        response = api("inspector").post(f"/api/cases/{decided.pk}/documents/",
                                         {"kind": "feedback", "reason": "更正当事人职务"}, format="json")

    assert response.status_code == 201, response.json()
    new = Document.objects.get(pk=response.json()["id"])
    old.refresh_from_db()
    assert (new.version, new.number, new.status) == (2, old.number, DocumentStatus.READY)
    assert old.superseded and old.file and old.status == DocumentStatus.READY
    assert HistoryEntry.objects.filter(case=decided, action="document_regenerate").exists()


def test_cadre_cannot_regenerate_documents(decided, api):
    response = api("cadre").post(f"/api/cases/{decided.pk}/documents/", {"kind": "feedback", "reason": "x"},
                                 format="json")
    assert response.status_code == 403
    assert Document.objects.filter(case=decided, kind="feedback").count() == 1


def test_numbers_are_sequential_per_organisation_and_year(world, decided):
    counter = DocumentNumber.objects.get(organisation=world.orgs["zjk_dc"])
    numbers = sorted(Document.objects.filter(issuing_org=world.orgs["zjk_dc"]).values_list("number", flat=True))
    assert counter.last == 2
    assert [n.split("〕")[1] for n in numbers] == ["1号", "2号"]


def test_harfbuzz_subset_is_available_so_subsetting_is_fast():
    import weasyprint.text.ffi

    assert weasyprint.text.ffi.harfbuzz_subset is not None


def test_url_fetcher_refuses_any_url_but_our_static_files():
    from reports.pdf import STATIC_ORIGIN, _fetcher

    fetcher = _fetcher()
    assert fetcher.fetch(STATIC_ORIGIN + "reports/document.css").read().startswith(b"/*")
    for url in ("http://example.com/x.css", "file:///etc/passwd", STATIC_ORIGIN + "../config/settings.py"):
        with pytest.raises(ValueError):
            fetcher.fetch(url)


def _empty_fontconfig(tmp_path) -> str:
    conf = tmp_path / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd">'
        f"<fontconfig><cachedir>{tmp_path}</cachedir></fontconfig>"
    )
    return str(conf)


def test_without_any_cjk_font_the_document_fails_with_a_clear_message(decided, tmp_path, monkeypatch):
    """Real fontconfig with no font directories, and a configured family that does not exist."""
    monkeypatch.setenv("FONTCONFIG_FILE", _empty_fontconfig(tmp_path))
    font_plan_reset()
    try:
        assert chinese_families() == frozenset()
        with override_settings(REPORT_FONT_BODY="方正仿宋_不存在", REPORT_FONT_TITLE="不存在的小标宋"):
            with transaction.atomic():
                doc = services.document_request(case=decided, kind=DocumentKind.FEEDBACK, reason="字体测试")
            services.document_generate(document_id=doc.pk, task_id="t")
    finally:
        monkeypatch.delenv("FONTCONFIG_FILE")
        font_plan_reset()

    doc.refresh_from_db()
    assert doc.status == DocumentStatus.FAILED
    assert "缺少中文字体" in doc.error and "fonts-noto-cjk" in doc.error
    assert not doc.file and not doc.sha256
    assert HistoryEntry.objects.filter(case=decided, action="document_failed").exists()


def test_a_fresh_process_without_cjk_fonts_refuses_to_render(tmp_path):
    script = textwrap.dedent("""
        import django, os
        os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
        django.setup()
        from reports.fonts import FontMissing
        from reports.pdf import render_pdf
        try:
            render_pdf("<p>中文</p>")
        except FontMissing as exc:
            print("REFUSED", exc)
        else:
            print("RENDERED")
    """)
    env = {**os.environ, "FONTCONFIG_FILE": _empty_fontconfig(tmp_path), "REPORT_FONT_BODY": "不存在的字体"}
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert "REFUSED 缺少中文字体" in out.stdout, out.stdout + out.stderr


def test_application_is_printed_as_submitted(world, django_capture_on_commit_callbacks):
    from workflow import services as wf

    with django_capture_on_commit_callbacks(execute=True):
        case = wf.case_create(
            actor=actor(world, "cadre"), title="招商项目容缺受理引发投诉", subject=None,
            accountability_org=world.orgs["zjk_dc"], conduct_date="2025-03-02", matter_category="approval",
            summary="为加快项目落地，对材料不全的企业先行容缺受理。\n事后补齐材料。",
            claimed_situations=["zhangjiakou.S6"],
        )
    doc = _doc(case, DocumentKind.APPLICATION)
    assert doc.status == DocumentStatus.READY and doc.number == ""
    text = pdf_text(doc.file.path)
    assert "容错申请书" in text and "王某" in text and "容缺受理" in text and "服务创新、容缺受理" in text and "S6" not in text


def test_overturned_appeal_issues_review_decision_new_feedback_and_corrected_filing(
        world, django_capture_on_commit_callbacks):
    from workflow import services as wf

    case = drive_to_proposed(world, tolerable=False, outcome="refused")
    with django_capture_on_commit_callbacks(execute=True):
        decide(world, case, outcome="refused")
    old_filing = _doc(case, DocumentKind.FILING)
    wf.case_execute(case_id=case.pk, actor=actor(world, "inspector"), delivered_on=timezone_today())
    wf.case_appeal(case_id=case.pk, actor=actor(world, "cadre"), reasons="本人系按市委部署推进整改，请求复核。")
    with django_capture_on_commit_callbacks(execute=True):
        wf.appeal_review(
            case_id=case.pk, actor=actor(world, "committee_b"), result="overturned", outcome="lighter",
            resolution="撤销原决定，从轻处理。", override_reason="复核认为其行为属于推动决策部署中的偏差。",
            meeting_kind="standing", meeting_date=timezone_today(), members_present=8, members_total=11,
        )

    review = _doc(case, DocumentKind.APPEAL_REVIEW)
    text = pdf_text(review.file.path)
    assert review.status == DocumentStatus.READY and review.number
    assert "复核决定" in text and "撤销原不予容错的决定" in text and "从轻" in text and "请求复核" in text
    feedback = _doc(case, DocumentKind.FEEDBACK)
    assert feedback.version == 2 and "从轻" in pdf_text(feedback.file.path)
    filing = _doc(case, DocumentKind.FILING)
    assert (filing.version, filing.number) == (2, old_filing.number)
    assert "复核结果：撤销原决定" in pdf_text(filing.file.path)


def timezone_today():
    from django.utils import timezone

    return timezone.localdate()
