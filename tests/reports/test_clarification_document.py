"""The clarification notice (澄清正名通知): issued through the document pipeline, numbered, verifiable."""

from __future__ import annotations

import pytest
from django.utils import timezone

from reports.models import Document, DocumentKind, DocumentStatus
from tests.reports.conftest import actor, pdf_text

pytestmark = pytest.mark.django_db


def _clarify(world, django_capture_on_commit_callbacks, **extra):
    from workflow import services

    with django_capture_on_commit_callbacks(execute=True):
        clarification = services.clarification_record(
            actor=actor(world, "inspector"), person=world.people["housing2"], decided_on=timezone.localdate(),
            scope="circulated", basis="经调查核实，反映刘某在保障房分配中优亲厚友的问题不属实，系诬告。",
            accuser_referred_to="公安机关", accuser_referred_on=timezone.localdate(),
            accuser_outcome="已移送司法机关依法处理。", **extra)
    return clarification


def test_a_clarification_gets_a_numbered_notice_whose_text_says_what_was_decided(world, django_capture_on_commit_callbacks):
    clarification = _clarify(world, django_capture_on_commit_callbacks)
    document = Document.objects.get(clarification=clarification)
    assert document.kind == DocumentKind.CLARIFICATION and document.status == DocumentStatus.READY, document.error
    assert document.case is None and document.issuing_org == world.orgs["zjk_dc"]
    assert document.number.startswith("张纪容〔") and document.sha256
    text = pdf_text(document.file.path)
    for expected in ("张家口市纪委监委", document.number, "关于为刘某同志", "澄清正名的通知", "通报范围：一定范围内通报",
                     "反映刘某在保障房分配中优亲厚友的问题不属实", "移送公安机关", "已移送司法机关依法处理。",
                     "《张家口市激励干部担当干事的规定》第十一条(三)", "誰辦理、誰澄清",
                     f"/verify/{document.token}/", "第1版"):
        assert expected in text, expected


def test_the_dispatcher_issues_each_notice_once(world, django_capture_on_commit_callbacks):
    from reports import services as report_services

    clarification = _clarify(world, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        assert report_services.clarification_documents_ensure() == 0
        report_services.outbox_dispatch()
    assert Document.objects.filter(clarification=clarification).count() == 1


def test_the_notice_downloads_for_the_clarifying_body_and_the_cadre_only(world, django_capture_on_commit_callbacks,
                                                                          client):
    clarification = _clarify(world, django_capture_on_commit_callbacks)
    url = f"/clarifications/{clarification.pk}/document/"
    client.force_login(world.users["inspector"])
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    client.force_login(world.users["inspector2"])  # another city's commission
    assert client.get(url).status_code == 404
    document = Document.objects.get(clarification=clarification)
    verify = client.get(f"/verify/{document.token}/").content.decode()
    assert "现行有效" in verify and "澄清正名通知" not in verify  # genuine, details need rights
    client.force_login(world.users["inspector"])
    assert "澄清正名通知" in client.get(f"/verify/{document.token}/").content.decode()
