"""Pages of the workbench: the draft list (upload, import), one draft (document, clauses, provision map,
version, tests, submit) and its review. Every POST calls one service; a refusal is shown as a message."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.models import Organisation
from rules.definitions import COMBINE_LABELS, DERIVATION_SOURCES, KIND_LABELS, OUTCOME_LABELS, VERDICT_LABELS
from workbench import services
from workbench.models import Disposition, Draft, DraftState
from workbench.permissions import can_edit, can_review, editor_org_ids
from workbench.selectors import draft_for, drafts_for
from workbench.services import WorkbenchError


def _draft(request: HttpRequest, pk: int) -> Draft:
    draft = draft_for(request.user, pk)
    if draft is None:
        raise Http404("没有该草稿，或您不是其所属组织的规则集编辑人员")
    return draft


@login_required
def draft_list(request: HttpRequest) -> HttpResponse:
    orgs = Organisation.objects.filter(pk__in=editor_org_ids(request.user))
    if not orgs:
        raise Http404("您不是任何组织的规则集编辑人员")
    if request.method == "POST":
        upload = request.FILES.get("document")
        try:
            org = orgs.filter(pk=request.POST.get("organisation") or 0).first()
            if org is None:
                raise WorkbenchError("请选择组织", "organisation")
            if request.POST.get("mode") == "import":
                text = upload.read().decode("utf-8") if upload else ""
                if not text:
                    raise WorkbenchError("请选择要导入的规则文件（.yaml）", "document")
                draft = services.draft_import(actor=request.user, organisation=org, yaml_text=text,
                                              version_label=request.POST.get("version_label", "").strip())
            else:
                if upload is None:
                    raise WorkbenchError("请选择政策文件（.txt 或 .docx）", "document")
                draft = services.draft_create(
                    actor=request.user, organisation=org, ruleset_id=request.POST.get("ruleset_id", "").strip(),
                    version_label=request.POST.get("version_label", "").strip(),
                    document_name=upload.name, document=upload.read())
        except UnicodeDecodeError:
            messages.error(request, "规则文件应为 UTF-8 编码的文本")
        except WorkbenchError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"已建立草稿 {draft.ruleset_id}@{draft.version_label}")
            return redirect("workbench:draft", draft.pk)
    drafts = drafts_for(request.user)
    return render(request, "workbench/list.html", {"drafts": drafts, "orgs": orgs})


def _segments(draft: Draft) -> list[dict[str, Any]]:
    """The document cut at every clause and article boundary, each piece with what covers it."""
    text = draft.document_text
    clauses = [c for c in draft.clauses.all() if c.start is not None and text[c.start:c.end] == c.text]
    soft = draft.soft_spans
    articles = {a.start: a for a in draft.articles.all()}
    cuts = {0, len(text), *articles}
    for c in clauses:
        cuts.update((c.start, c.end))
    for s in soft:
        cuts.update((s["start"], s["end"]))
    cuts_sorted = sorted(cuts)
    out = []
    for a, b in zip(cuts_sorted, cuts_sorted[1:], strict=False):
        cover = [c for c in clauses if c.start <= a and b <= c.end]
        inner = min(cover, key=lambda c: c.end - c.start) if cover else None
        is_soft = any(s["start"] <= a and b <= s["end"] for s in soft)
        out.append({"text": text[a:b], "clause": inner, "article": articles.get(a), "soft": is_soft})
    return out


def _post_int(request: HttpRequest, name: str) -> int | None:
    raw = request.POST.get(name, "").strip()
    try:
        return int(raw) if raw else None
    except ValueError:
        raise WorkbenchError(f"字段 {name} 应为整数", name) from None


def _date(raw: str, label: str) -> dt.date | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise WorkbenchError(f"{label}应为日期（年-月-日）", label) from None


@login_required
def draft_detail(request: HttpRequest, pk: int) -> HttpResponse:
    draft = _draft(request, pk)
    header, _clauses, ids = services.draft_rule_data(draft)
    clauses = list(draft.clauses.select_related("applies_to", "parent"))
    with_parts = {c.parent_id for c in clauses if c.parent_id is not None}
    mismatched = {c.pk for c in services.clause_mismatches(draft)}
    run = services.tests_run(draft)
    context = {
        "draft": draft,
        "header": header,
        "segments": _segments(draft),
        "clauses": [{"c": c, "id": ids.get(c.pk, ""), "mismatch": c.pk in mismatched,
                     "derive": DERIVATION_SOURCES.get((c.extra.get("derive") or {}).get("from", ""), ""),
                     "compound": c.pk in with_parts, "combine": c.extra.get("combine", "all"),
                     "combine_label": services.combine_label(c)}
                    for c in clauses],
        "situations": [c for c in clauses if c.kind == "S" and c.parent_id is None],
        "compounds": [{"c": c, "combine_label": services.combine_label(c)} for c in clauses if c.parent_id is None],
        "combines": list(COMBINE_LABELS.items()),
        "kinds": list(KIND_LABELS.items()),
        "derivations": list(DERIVATION_SOURCES.items()),
        "articles": services.article_rows(draft),
        "dispositions": [d for d in Disposition.choices if d[0] != Disposition.CLAUSE],
        "outcomes": [(k, v) for k, v in OUTCOME_LABELS.items() if k != "refused"],
        "verdicts": list(VERDICT_LABELS.items()),
        "run": run,
        "ids": ids,
        "problems": services.submission_problems(draft, run) if draft.state == DraftState.EDITING else [],
        "can_edit": can_edit(request.user, draft),
        "can_review": can_review(request.user, draft),
        "diff": services.review_diff(draft) if draft.state == DraftState.SUBMITTED else None,
        "yaml": services.draft_yaml(draft) if draft.state != DraftState.EDITING else "",
    }
    return render(request, "workbench/draft.html", context)


def _act(request: HttpRequest, pk: int, do: Callable[[Draft], str]) -> HttpResponse:
    draft = _draft(request, pk)
    try:
        done = do(draft)
    except WorkbenchError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    anchor = request.POST.get("anchor", "")
    target = reverse("workbench:draft", args=[draft.pk])
    return redirect(target + (f"#{anchor}" if anchor.isidentifier() else ""))


@login_required
@require_POST
def clause_add(request: HttpRequest, pk: int) -> HttpResponse:
    def do(draft: Draft) -> str:
        p = request.POST
        if p.get("kind", "").startswith("soft:"):
            services.soft_span_add(draft=draft, actor=request.user, kind=p["kind"][5:],
                                   start=p.get("start"), end=p.get("end"))
            return "已标出一般性规定的措辞"
        clause = services.clause_add(draft=draft, actor=request.user, data=services.ClauseInput(
            kind=p.get("kind", ""), title=p.get("title", ""), start=p.get("start"), end=p.get("end"),
            parent_id=_post_int(request, "parent"), applies_to_id=_post_int(request, "applies_to"),
            citation=p.get("citation", ""), derive_from=p.get("derive_from", ""),
            derive_if_true=p.get("derive_if_true", ""), derive_if_false=p.get("derive_if_false", ""),
            note=p.get("note", ""), combine=p.get("combine", "all")))
        return f"已标出条款「{clause.title}」（{clause.citation}）"
    return _act(request, pk, do)


@login_required
@require_POST
def clause_combine(request: HttpRequest, pk: int, clause_id: int) -> HttpResponse:
    def do(draft: Draft) -> str:
        clause = services.clause_set_combine(draft=draft, actor=request.user, clause_id=clause_id,
                                             combine=request.POST.get("combine", ""))
        return f"复合条款「{clause.title}」的分项：{services.combine_label(clause)}"
    return _act(request, pk, do)


@login_required
@require_POST
def clause_delete(request: HttpRequest, pk: int, clause_id: int) -> HttpResponse:
    def do(draft: Draft) -> str:
        services.clause_delete(draft=draft, actor=request.user, clause_id=clause_id)
        return "已删除条款"
    return _act(request, pk, do)


@login_required
@require_POST
def article_add(request: HttpRequest, pk: int) -> HttpResponse:
    def do(draft: Draft) -> str:
        start = _post_int(request, "start")
        if start is None:
            raise WorkbenchError("请先在文件中选中条目开头的文字", "start")
        services.article_add(draft=draft, actor=request.user, start=start, label=request.POST.get("label", ""),
                             level=_post_int(request, "level") or 1)
        return "已添加条目"
    return _act(request, pk, do)


@login_required
@require_POST
def article_delete(request: HttpRequest, pk: int, article_id: int) -> HttpResponse:
    def do(draft: Draft) -> str:
        services.article_delete(draft=draft, actor=request.user, article_id=article_id)
        return "已删除条目"
    return _act(request, pk, do)


@login_required
@require_POST
def replace_document(request: HttpRequest, pk: int) -> HttpResponse:
    def do(draft: Draft) -> str:
        upload = request.FILES.get("document")
        if upload is None:
            raise WorkbenchError("请选择更正后的文件（.txt 或 .docx）", "document")
        draft = services.draft_replace_document(draft=draft, actor=request.user, document_name=upload.name,
                                                document=upload.read())
        stale = services.clause_mismatches(draft)
        if stale:
            return f"已替换文件；{len(stale)} 个条款的原文与新文件不再一致，须重新选取"
        return "已替换文件，全部条款的原文仍与文件一致"
    return _act(request, pk, do)


@login_required
@require_POST
def articles_dispose(request: HttpRequest, pk: int) -> HttpResponse:
    def do(draft: Draft) -> str:
        ids = [int(x) for x in request.POST.getlist("articles") if x.isdigit()]
        if request.POST.get("rest"):
            ids = [r["article"].pk for r in services.article_rows(draft)
                   if not r["disposition"] and not r["covered_by_items"]]
        n = services.article_dispose(draft=draft, actor=request.user, article_ids=ids,
                                     disposition=request.POST.get("disposition", ""), note=request.POST.get("note", ""))
        return f"已为 {n} 个条目写明处理方式"
    return _act(request, pk, do)


@login_required
@require_POST
def describe(request: HttpRequest, pk: int) -> HttpResponse:
    def do(draft: Draft) -> str:
        p = request.POST
        threshold = _post_int(request, "major_loss_threshold")
        services.draft_describe(draft=draft, actor=request.user, data=services.VersionInput(
            title=p.get("title", ""), issuer=p.get("issuer", ""), doc_number=p.get("doc_number", ""),
            jurisdiction=p.get("jurisdiction", ""), effective_from=_date(p.get("effective_from", ""), "施行日期"),
            effective_from_approximate=bool(p.get("effective_from_approximate")),
            governs_earlier_conduct=bool(p.get("governs_earlier_conduct")),
            governs_earlier_conduct_basis=p.get("governs_earlier_conduct_basis", ""),
            replaces=p.get("replaces", ""), outcomes=p.getlist("outcomes"),
            outcomes_citation=p.get("outcomes_citation", ""), major_loss_threshold=threshold,
            notes=p.get("notes", "")))
        return "已保存版本说明"
    return _act(request, pk, do)


@login_required
@require_POST
def test_add(request: HttpRequest, pk: int) -> HttpResponse:
    def do(draft: Draft) -> str:
        p = request.POST
        findings = {}
        for c in draft.clauses.all():
            value = p.get(f"finding_{c.pk}", "")
            if value:
                findings[c.pk] = value
        facts = None
        if p.get("with_facts"):
            prior_date = _date(p.get("prior_date", ""), "前案行为日期")
            loss = _post_int(request, "loss_amount")
            facts = {"loss_amount": loss if loss is not None else 0,
                     "prior_same_matter": [{"case": p.get("prior_case", "").strip() or "前案", "date": prior_date.isoformat(),
                                            "measure": None, "measure_date": None}] if prior_date else []}
        test = services.test_add(
            draft=draft, actor=request.user, name=p.get("name", ""),
            conduct_date=_date(p.get("conduct_date", ""), "行为发生日期"), findings=findings, facts=facts,
            expected_verdict=p.get("expected_verdict", ""),
            expected_decisive=[int(x) for x in p.getlist("expected_decisive") if x.isdigit()])
        return f"已添加测试用例「{test.name}」"
    return _act(request, pk, do)


@login_required
@require_POST
def test_delete(request: HttpRequest, pk: int, test_id: int) -> HttpResponse:
    def do(draft: Draft) -> str:
        services.test_delete(draft=draft, actor=request.user, test_id=test_id)
        return "已删除测试用例"
    return _act(request, pk, do)


@login_required
@require_POST
def submit(request: HttpRequest, pk: int) -> HttpResponse:
    def do(draft: Draft) -> str:
        services.draft_submit(draft=draft, actor=request.user)
        return "已提交审核：请由另一位规则集编辑人员审核发布"
    return _act(request, pk, do)


@login_required
@require_POST
def publish(request: HttpRequest, pk: int) -> HttpResponse:
    def do(draft: Draft) -> str:
        result = services.draft_publish(draft=draft, actor=request.user)
        p = result.published
        told = f"；已通知 {len(result.notified_cases)} 件在办案件的承办人" if result.notified_cases else ""
        return f"已发布 {p.ruleset_id}@{p.version_label}，内容摘要 {p.content_hash}{told}"
    return _act(request, pk, do)


@login_required
@require_POST
def send_back(request: HttpRequest, pk: int) -> HttpResponse:
    def do(draft: Draft) -> str:
        services.draft_return(draft=draft, actor=request.user, note=request.POST.get("note", ""))
        return "已退回修改"
    return _act(request, pk, do)


@login_required
def export(request: HttpRequest, pk: int) -> HttpResponse:
    draft = _draft(request, pk)
    text = draft.published.yaml_text if draft.published else services.draft_yaml(draft)
    response = HttpResponse(text, content_type="application/yaml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{draft.ruleset_id}-{draft.version_label}.yaml"'
    return response


@login_required
def original(request: HttpRequest, pk: int) -> HttpResponse:
    draft = _draft(request, pk)
    response = HttpResponse(bytes(draft.document_original), content_type="application/octet-stream")
    response["Content-Disposition"] = 'attachment; filename="document' + (
        ".docx" if draft.document_name.lower().endswith(".docx") else ".txt") + '"'
    return response
