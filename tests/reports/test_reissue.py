"""Reissue on changed facts: a new version with its reason, and the old one says it is replaced, by which."""

from __future__ import annotations

import pytest
from django.utils import timezone

from reports import services
from reports.models import Document, DocumentKind, DocumentStatus
from tests.reports.conftest import actor, decide, drive_to_proposed, pdf_text
from workflow.models import OutboxEvent

pytestmark = pytest.mark.django_db


def _versions(case, kind):
    return list(Document.objects.filter(case=case, kind=kind).order_by("version"))


def test_overturned_appeal_replaces_feedback_and_filing_with_the_reason(world, django_capture_on_commit_callbacks):
    from workflow import services as wf

    case = drive_to_proposed(world, tolerable=False, outcome="refused")
    with django_capture_on_commit_callbacks(execute=True):
        decide(world, case, outcome="refused")
    wf.case_execute(case_id=case.pk, actor=actor(world, "inspector"), delivered_on=timezone.localdate())
    wf.case_appeal(case_id=case.pk, actor=actor(world, "cadre"), reasons="请求复核。")
    with django_capture_on_commit_callbacks(execute=True):
        wf.appeal_review(
            case_id=case.pk, actor=actor(world, "committee_b"), result="overturned", outcome="lighter",
            resolution="撤销原决定，从轻处理。", override_reason="复核认为属于推动决策部署中的偏差。",
            meeting_kind="standing", meeting_date=timezone.localdate(), members_present=8, members_total=11,
        )

    for kind in (DocumentKind.FEEDBACK, DocumentKind.FILING):
        old, new = _versions(case, kind)
        assert old.superseded and old.superseded_by_id == new.pk and not new.superseded, kind
        assert new.status == DocumentStatus.READY and "申诉复核撤销原决定" in new.reason


def test_corrected_facts_reissue_the_documents_printing_them_under_their_numbers(
        decided, world, django_capture_on_commit_callbacks):
    # Given issued documents, and then a correction of the matter's title (announced by workflow)
    from cases.models import Case

    Case.objects.filter(pk=decided.pk).update(title="环保督察整改中先行关停违规企业（更正）")
    with django_capture_on_commit_callbacks(execute=True):
        OutboxEvent.objects.create(case=decided, kind="case_corrected",
                                   payload={"fields": ["title"], "reason": "事项名称有误"})
        services.outbox_dispatch()

    # Then feedback and filing are reissued as version 2 under the same numbers, with the reason
    for kind in (DocumentKind.FEEDBACK, DocumentKind.FILING):
        old, new = _versions(decided, kind)
        assert (new.version, new.number, new.status) == (2, old.number, DocumentStatus.READY)
        assert new.reason == "更正已出具文书所载事实（事项名称）：事项名称有误"
        assert new.decision_id == old.decision_id and old.superseded_by_id == new.pk
        assert "（更正）" in pdf_text(new.file.path)
    # and a second dispatch of the same event changes nothing
    services.outbox_dispatch()
    assert Document.objects.filter(case=decided).count() == 4


def test_a_correction_of_facts_no_document_prints_reissues_nothing(decided, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        OutboxEvent.objects.create(case=decided, kind="case_corrected", payload={"fields": ["handler"]})
        services.outbox_dispatch()

    assert Document.objects.filter(case=decided).count() == 2


def test_verification_page_of_a_replaced_version_says_so_and_links_to_the_new_one(
        decided, world, client, api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.document_regenerate(case=decided, kind=DocumentKind.FEEDBACK, reason="更正当事人职务",
                                     actor=actor(world, "inspector"))
    old, new = _versions(decided, DocumentKind.FEEDBACK)

    public = client.get(f"/verify/{old.token}/").content.decode()
    assert "已被新版本替代" in public and f"/verify/{new.token}/" in public and "第 2 版" in public
    assert "王某" not in public and "更正当事人职务" not in public  # details need rights
    current = client.get(f"/verify/{new.token}/").content.decode()
    assert "现行有效" in current and "已被新版本替代" not in current

    client.force_login(world.users["inspector"])
    assert "更正当事人职务" in client.get(f"/verify/{old.token}/").content.decode()

    rows = {r["version"]: r for r in api("inspector").get(f"/api/cases/{decided.pk}/documents/").json()
            if r["kind"] == "feedback"}
    assert rows[1]["superseded_by"] == new.pk and rows[1]["current"] is False
    assert rows[2]["superseded_by"] is None and rows[2]["reason"] == "更正当事人职务"
