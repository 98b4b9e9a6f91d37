"""The workbench's pages: only rule-set editors of the organisation see a draft; bad input is a Chinese
message and changes nothing; a .docx upload keeps its original file and SHA-256."""

from __future__ import annotations

import hashlib
import io

import docx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import Role
from rules.registry import RULESETS_DIR
from tests import factories
from workbench.models import Draft, DraftClause

pytestmark = pytest.mark.django_db
HENAN = RULESETS_DIR / "sources" / "henan-2017-yuban-28.txt"


@pytest.fixture
def org():
    return factories.DisciplineFactory()


@pytest.fixture
def editor(org):
    return factories.member(org, Role.RULESET_EDITOR)


def _upload(client, org, name="henan-test.txt", data=None, ruleset_id="henan-test"):
    return client.post(reverse("workbench:list"), {
        "organisation": org.pk, "ruleset_id": ruleset_id, "version_label": "2017",
        "document": SimpleUploadedFile(name, data if data is not None else HENAN.read_bytes()),
    }, follow=True)


def test_upload_detects_articles_and_items(client, editor, org):
    client.force_login(editor)
    response = _upload(client, org)
    draft = Draft.objects.get()
    assert response.status_code == 200
    labels = list(draft.articles.values_list("label", flat=True))
    assert "(一)" in labels and "二" in labels and "1" in labels
    assert draft.document_sha256 == hashlib.sha256(HENAN.read_bytes()).hexdigest()
    assert "data-label=\"(一)\"" in response.content.decode()


def test_docx_upload_keeps_the_original_and_its_hash(client, editor, org):
    document = docx.Document()
    document.add_paragraph("第一条 为鼓励干部担当作为，制定本办法。")
    document.add_paragraph("第二条 有下列情形之一的，不予容错：")
    document.add_paragraph("（一）谋取私利的；")
    buffer = io.BytesIO()
    document.save(buffer)
    data = buffer.getvalue()
    client.force_login(editor)
    _upload(client, org, name="办法.docx", data=data, ruleset_id="docx-test")
    draft = Draft.objects.get()
    assert bytes(draft.document_original) == data
    assert draft.document_sha256 == hashlib.sha256(data).hexdigest()
    assert [a.label for a in draft.articles.all()] == ["第一条", "第二条", "（一）"]
    start = draft.document_text.index("谋取私利的")
    client.post(reverse("workbench:clause-add", args=[draft.pk]),
                {"kind": "X", "title": "谋取私利", "start": start, "end": start + 5})
    clause = DraftClause.objects.get()
    assert (clause.citation, clause.text) == ("第二条（一）", "谋取私利的")
    assert client.get(reverse("workbench:original", args=[draft.pk])).content == data


@pytest.mark.parametrize("name, data, message", [
    ("a.pdf", b"%PDF-1.4", "只接受纯文本（.txt）或 Word（.docx）文件"),
    ("a.txt", b"", "上传的文件为空"),
    ("a.docx", b"not a zip", "无法读取该 .docx 文件"),
])
def test_bad_uploads_are_refused_with_a_message(client, editor, org, name, data, message):
    client.force_login(editor)
    response = _upload(client, org, name=name, data=data)
    assert message in response.content.decode()
    assert not Draft.objects.exists()


def test_bad_selections_are_refused_on_the_page(client, editor, org):
    client.force_login(editor)
    _upload(client, org)
    draft = Draft.objects.get()
    url = reverse("workbench:clause-add", args=[draft.pk])
    words = "谋取私利,客观上"
    start = draft.document_text.index(words)
    assert "请先在文件中选中一段文字" in client.post(url, {"kind": "P", "title": "t"}, follow=True).content.decode()
    assert "所选文字为空" in client.post(url, {"kind": "P", "title": "t", "start": start, "end": start},
                                        follow=True).content.decode()
    assert "所选范围不在文件之内" in client.post(url, {"kind": "P", "title": "t", "start": 0, "end": 10**7},
                                          follow=True).content.decode()
    client.post(url, {"kind": "P", "title": "没有谋取私利", "start": start, "end": start + len(words)})
    assert "重叠" in client.post(url, {"kind": "X", "title": "t", "start": start + 1, "end": start + 3},
                               follow=True).content.decode()
    assert "程序要求须附于一个容错情形" in client.post(url, {"kind": "R", "title": "t", "start": start + 10,
                                                          "end": start + 14}, follow=True).content.decode()
    assert DraftClause.objects.count() == 1


def test_other_users_do_not_find_the_draft(client, editor, org):
    client.force_login(editor)
    _upload(client, org)
    draft = Draft.objects.get()
    outsider = factories.member(factories.DisciplineFactory(), Role.RULESET_EDITOR)
    inspector = factories.inspector(org)
    for user in (outsider, inspector):
        client.force_login(user)
        assert client.get(reverse("workbench:draft", args=[draft.pk])).status_code == 404
        start = draft.document_text.index("谋取私利,客观上")
        response = client.post(reverse("workbench:clause-add", args=[draft.pk]),
                               {"kind": "P", "title": "x", "start": start, "end": start + 4})
        assert response.status_code == 404
    assert client.get(reverse("workbench:list")).status_code == 404
    assert not DraftClause.objects.exists()


def test_export_gives_the_rule_file(client, editor, org):
    client.force_login(editor)
    text = (RULESETS_DIR / "henan-2017.yaml").read_text(encoding="utf-8")
    client.post(reverse("workbench:list"), {"organisation": org.pk, "mode": "import", "version_label": "2030",
                                            "document": SimpleUploadedFile("henan.yaml", text.encode())})
    draft = Draft.objects.get()
    assert draft.clauses.filter(start__isnull=True).count() == 0  # every Henan clause found in its document
    response = client.get(reverse("workbench:export", args=[draft.pk]))
    body = response.content.decode()
    assert "id: henan.R1" in body and "applies_to: henan.S1" in body and "version: '2030'" in body


def test_a_published_rule_set_is_in_the_rule_browser(client, editor, org):
    from tests.workbench import onboarding as ob
    from tests.workbench.test_services import onboard_zhangjiagang
    from workbench import services

    reviewer = factories.member(org, Role.RULESET_EDITOR)
    draft = onboard_zhangjiagang(editor, org)
    services.draft_submit(draft=draft, actor=editor)
    client.force_login(reviewer)
    page = client.get(reverse("workbench:draft", args=[draft.pk])).content.decode()
    assert "审核通过并发布" in page and "本版本不替代任何版本" in page and "zjg-workbench.P4" in page
    response = client.post(reverse("workbench:publish", args=[draft.pk]), follow=True)
    assert "已发布" in response.content.decode()
    detail = client.get(reverse("rules:detail", args=[ob.RULESET])).content.decode()
    assert "张家港市容错免责机制" in detail and "未在同一问题上重复出现失误" in detail
    exported = client.get(reverse("workbench:export", args=[draft.pk])).content.decode()
    assert exported == draft.__class__.objects.get(pk=draft.pk).published.yaml_text


def test_a_corrected_document_marks_the_clauses_that_no_longer_match(client, editor, org):
    client.force_login(editor)
    _upload(client, org)
    draft = Draft.objects.get()
    words = "同类问题连续出现失误过错的"
    start = draft.document_text.index(words)
    client.post(reverse("workbench:clause-add", args=[draft.pk]),
                {"kind": "X", "title": "同类问题连续出现", "start": start, "end": start + len(words)})
    corrected = HENAN.read_bytes().replace("同类问题连续出现失误过错的".encode(), "同类问题多次出现失误过错的".encode())
    response = client.post(reverse("workbench:replace-document", args=[draft.pk]),
                           {"document": SimpleUploadedFile("henan.txt", corrected)}, follow=True)
    page = response.content.decode()
    assert "1 个条款的原文与新文件不再一致" in page
    assert "原文与文件中该位置的文字不再一致" in page
    response = client.post(reverse("workbench:submit", args=[draft.pk]), follow=True)
    assert "条款「同类问题连续出现」的原文与文件中该位置的文字不再一致" in response.content.decode()
    assert Draft.objects.get().state == "editing"
    article = draft.articles.first()
    client.post(reverse("workbench:article-delete", args=[draft.pk, article.pk]))
    assert not draft.articles.filter(pk=article.pk).exists()


def test_an_any_of_compound_clause_is_marked_and_changed_on_the_page(client, editor, org):
    client.force_login(editor)
    text = "第一条 因缺乏经验或者先行先试出现失误的,予以容错。\n"
    _upload(client, org, name="办法.txt", data=text.encode(), ruleset_id="anyof-page")
    draft = Draft.objects.get()
    url = reverse("workbench:clause-add", args=[draft.pk])

    def span(words):
        start = draft.document_text.index(words)
        return {"start": start, "end": start + len(words)}

    client.post(url, {"kind": "S", "title": "探索中出现失误", "combine": "any", **span("因缺乏经验或者先行先试出现失误")})
    s1 = DraftClause.objects.get()
    assert s1.extra == {"combine": "any"}
    page = client.get(reverse("workbench:draft", args=[draft.pk])).content.decode()
    assert "探索中出现失误（符合任一项即可）" in page  # as a compound to pick for a part
    for title in ("缺乏经验", "先行先试"):
        client.post(url, {"kind": "S", "title": title, "parent": s1.pk, **span(title)})
    page = client.get(reverse("workbench:draft", args=[draft.pk])).content.decode()
    assert "复合条款，分项符合任一项即可" in page
    export = client.get(reverse("workbench:export", args=[draft.pk])).content.decode()
    assert "combine: any" in export

    combine_url = reverse("workbench:clause-combine", args=[draft.pk, s1.pk])
    response = client.post(combine_url, {"combine": "either"}, follow=True)
    assert "分项的组合方式应为「须全部符合」或「符合任一项即可」" in response.content.decode()
    s1.refresh_from_db()
    assert s1.extra == {"combine": "any"}
    response = client.post(combine_url, {"combine": "all"}, follow=True)
    assert "复合条款「探索中出现失误」的分项：须全部符合" in response.content.decode()
    s1.refresh_from_db()
    assert s1.extra == {}
    assert "combine" not in client.get(reverse("workbench:export", args=[draft.pk])).content.decode()
