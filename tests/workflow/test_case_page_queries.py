"""The case page asks each question of the database once, and a bounded number of them for every role."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.models import Case
from reports.models import Document, DocumentKind, DocumentStatus
from tests.e2e.helpers import PDF_BYTES, actor, findings, seed_application
from workflow.models import HistoryEntry

pytestmark = pytest.mark.django_db

# Queries per request, from reading the session to writing the audit record (35, 34 and 24 before the
# page asked each question once and read only the parts of the record that have rows). A new question
# the page really needs may raise a bound; asking an old one twice may not.
BOUNDS = {"inspector": 22, "committee": 21, "cadre": 16}
# A case just started has little to read: no findings, evidence, proposal, decision or documents yet.
NEW_CASE_BOUND = 13


def _executed_case_with_everything(world, tmp_path, settings) -> Case:
    """An executed case with every clause found, evidence, a statement, consultations, a decision,
    documents and a long history: each part of the page has rows to show."""
    from workflow import services

    settings.MEDIA_ROOT = tmp_path
    case = seed_application(world)
    inspector = actor(world, "inspector")
    services.case_investigate(case_id=case.pk, actor=inspector)
    wanted = findings(case, tolerable=True)
    for clause_id, status in wanted.items():
        services.finding_record(case_id=case.pk, actor=inspector, clause_id=clause_id, status=status,
                                reasoning="经调取会议纪要和现场执法记录核实。")
    for i in range(3):
        services.evidence_add(case_id=case.pk, actor=inspector, clause_id=next(iter(wanted)),
                              upload=SimpleUploadedFile(f"材料{i}.pdf", PDF_BYTES + bytes([i]), "application/pdf"))
    services.statement_add(case_id=case.pk, actor=actor(world, "cadre"), text="本人对查封经过的说明。")
    services.participant_add(case_id=case.pk, actor=inspector, name="王专家", kind="expert")
    services.case_propose(case_id=case.pk, actor=inspector, recommended_outcome="exempt", opinion="建议依规认定。")
    services.consultation_reply(case_id=case.pk, actor=actor(world, "orgdept"), opinion="agree", comment="同意。")
    services.case_decide(case_id=case.pk, actor=actor(world, "committee"), outcome="exempt",
                         meeting_kind="standing", meeting_date=timezone.localdate(), members_present=9,
                         members_total=11, resolution="经市委常委会集体研究，同意问责部门的意见。")
    services.case_execute(case_id=case.pk, actor=inspector, delivered_on=timezone.localdate())
    for i, kind in enumerate((DocumentKind.FEEDBACK, DocumentKind.FILING)):
        Document.objects.get_or_create(case=case, kind=kind, version=1, defaults={
            "status": DocumentStatus.READY, "token": f"page-queries-{i}", "number": f"张容〔2026〕{i + 1}号"})
    case.refresh_from_db()
    return case


def _page_queries(client, url: str) -> tuple[str, list[str]]:
    """The page and its queries, the second time it is asked for (the first also saves the new session)."""
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    # Savepoints are the test's transaction showing through, not questions the page asks.
    return response.content.decode(), [q["sql"] for q in ctx.captured_queries
                                       if not re.match(r"\s*(SAVEPOINT|RELEASE SAVEPOINT)\b", q["sql"])]


@pytest.mark.parametrize("username", ["inspector", "committee", "cadre"])
def test_case_page_asks_each_question_once_and_a_bounded_number_of_them(
    client, world, tmp_path, settings, username
):
    case = _executed_case_with_everything(world, tmp_path, settings)
    assert case.findings.count() > 5 and case.evidence.count() == 3
    assert HistoryEntry.objects.filter(case=case).count() > 10
    assert Document.objects.filter(case=case).count() == 2
    client.force_login(world.users[username])

    html, queries = _page_queries(client, f"/cases/{case.pk}/")

    # The page shows what the queries were for: findings, evidence, the decision, documents, history.
    assert case.title in html and "材料0.pdf" in html and "经市委常委会集体研究" in html
    assert "张容〔2026〕1号" in html and "执行并送达" in html
    if username != "cadre":
        assert "经调取会议纪要和现场执法记录核实。" in html and "王专家" in html
    repeated = {sql: n for sql, n in Counter(queries).items() if n > 1}
    assert not repeated, "the same query ran more than once:\n" + "\n".join(
        f"{n} × {sql[:300]}" for sql, n in repeated.items())
    assert len(queries) <= BOUNDS[username], f"{len(queries)} queries:\n" + "\n".join(q[:160] for q in queries)


def test_a_new_case_page_reads_only_the_parts_that_have_rows(client, world):
    case = seed_application(world)
    client.force_login(world.users["inspector"])

    html, queries = _page_queries(client, f"/cases/{case.pk}/")

    assert case.title in html and "暂无材料。" in html and "尚未作出决定。" in html
    assert not [q for q in queries if re.match(r'SELECT "(cases_evidence|workflow_decision|workflow_proposal)"\.', q)]
    assert len(queries) <= NEW_CASE_BOUND, f"{len(queries)} queries:\n" + "\n".join(q[:160] for q in queries)


def test_documents_on_the_case_page_are_drawn_without_running_the_context_processors_again(
    client, world, tmp_path, settings
):
    case = _executed_case_with_everything(world, tmp_path, settings)
    client.force_login(world.users["inspector"])

    html, queries = _page_queries(client, f"/cases/{case.pk}/?tab=documents")

    unread = [q for q in queries if "workflow_notification" in q and "COUNT(" in q]
    auditor = [q for q in queries if "auth_group" in q]
    assert len(unread) == 1 and len(auditor) == 1
    # The regenerate form inside the documents fragment still carries the page's CSRF token.
    fragment = html[html.index('data-panel="documents"'):]
    assert 'name="csrfmiddlewaretoken"' in fragment[:fragment.index("</section>")]


def test_technical_details_on_the_case_page_are_for_the_administrator_only(client, world, tmp_path, settings):
    case = _executed_case_with_everything(world, tmp_path, settings)
    evidence = case.evidence.first()

    client.force_login(world.users["admin"])
    html = client.get(f"/cases/{case.pk}/").content.decode()
    client.force_login(world.users["inspector"])
    plain = client.get(f"/cases/{case.pk}/").content.decode()

    first_clause = case.findings.order_by("id").first().clause_id
    history = case.history.order_by("id").first()
    for detail in (f'<code class="tech-id muted">{first_clause}</code>', f"哈希 <code>{history.hash}</code>",
                   f"SHA-256 <code>{evidence.sha256}</code>"):
        assert detail in html
        assert detail not in plain
