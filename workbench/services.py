"""Every change in the workbench: upload, articles, clauses, version description, tests, submit, review
and publish, import. Each refuses bad input with ``WorkbenchError`` (a Chinese message) and changes
nothing then; a draft row is locked while it changes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from accounts.models import Organisation, User
from rules.definitions import COMBINE_LABELS, COMBINES, DERIVATION_SOURCES, OUTCOMES
from rules.diff import VersionDiff, diff_versions
from rules.errors import RuleError, RuleSetLoadError
from rules.registry import RULESETS_DIR, PublishedText, Registry, registry, reset_registry
from rules.temporal import evaluate
from workbench import detection
from workbench.models import Article, Disposition, Draft, DraftClause, DraftState, DraftTest, PublishedVersion
from workbench.permissions import can_edit, can_review, editor_org_ids, has_edited
from workbench.selectors import published_texts
from workbench.yamlio import from_yaml, jsonable, registry_with, to_yaml

MAX_UPLOAD_BYTES = 2 * 1024 * 1024
SOFT_KINDS = ("P", "X", "S")
VERDICTS = ("tolerable", "not_tolerable", "undetermined")


class WorkbenchError(Exception):
    """Bad input or a refused step; the message is shown to the editor as it is."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


# --- the document ----------------------------------------------------------------------------------

def document_text_of(name: str, data: bytes) -> str:
    """The text of a plain-text (UTF-8, or GB18030 as Chinese offices often save) or .docx upload."""
    if not data:
        raise WorkbenchError("上传的文件为空", "document")
    if len(data) > MAX_UPLOAD_BYTES:
        raise WorkbenchError("文件超过 2 MB，请只上传政策文件正文", "document")
    lower = name.lower()
    if lower.endswith(".docx"):
        import docx

        try:
            document = docx.Document(io.BytesIO(data))
        except Exception as exc:  # noqa: BLE001 - python-docx raises many kinds for a damaged file
            raise WorkbenchError("无法读取该 .docx 文件（文件可能已损坏）", "document") from exc
        text = "\n".join(p.text for p in document.paragraphs)
    elif lower.endswith(".txt"):
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise WorkbenchError("无法识别文件编码，请另存为 UTF-8 文本", "document")
    else:
        raise WorkbenchError("只接受纯文本（.txt）或 Word（.docx）文件", "document")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise WorkbenchError("文件中没有文字", "document")
    return text


def _check_slug(ruleset_id: str, version_label: str) -> None:
    if not re.fullmatch(r"[a-z][a-z0-9-]{1,59}", ruleset_id or ""):
        raise WorkbenchError("规则集 id 应由小写字母、数字和连字符组成，以字母开头（如 zhangjiagang）", "ruleset_id")
    if not version_label or len(version_label) > 40 or not re.fullmatch(r"[0-9A-Za-z.\-]+", version_label):
        raise WorkbenchError("版本应由数字、字母、点或连字符组成（如 2017）", "version_label")


def _check_label_free(ruleset_id: str, version_label: str) -> None:
    if PublishedVersion.objects.filter(ruleset_id=ruleset_id, version_label=version_label).exists() or (
        ruleset_id in registry().ids() and registry().family(ruleset_id).version(version_label) is not None
    ):
        raise WorkbenchError(f"版本 {ruleset_id}@{version_label} 已经存在", "version_label")


def draft_create(*, actor: User, organisation: Organisation, ruleset_id: str, version_label: str,
                 document_name: str, document: bytes) -> Draft:
    """A new draft from an uploaded document, with its articles and items detected."""
    if organisation.pk not in editor_org_ids(actor):
        raise WorkbenchError("您不是该组织的规则集编辑人员", "organisation")
    _check_slug(ruleset_id, version_label)
    _check_label_free(ruleset_id, version_label)
    text = document_text_of(document_name, document)
    with transaction.atomic():
        draft = Draft.objects.create(
            organisation=organisation, ruleset_id=ruleset_id, version_label=version_label,
            header={"outcomes": ["exempt", "lighter", "mitigated"]},
            document_name=document_name[:200], document_original=document,
            document_sha256=hashlib.sha256(document).hexdigest(), document_text=text,
            created_by=actor, editor_ids=[actor.pk],
        )
        Article.objects.bulk_create(
            [Article(draft=draft, start=u.start, label=u.label, level=u.level) for u in detection.detect_units(text)]
        )
    return draft


def _locked(draft: Draft, actor: User) -> Draft:
    """The draft locked for a change by ``actor``; refused unless they may edit it."""
    locked = Draft.objects.select_for_update().get(pk=draft.pk)
    if not can_edit(actor, locked):
        if locked.state != DraftState.EDITING:
            raise WorkbenchError(f"草稿{locked.get_state_display()}，不能再修改")
        raise WorkbenchError("您不是该组织的规则集编辑人员")
    if actor.pk not in locked.editor_ids:
        locked.editor_ids = [*locked.editor_ids, actor.pk]
        locked.save(update_fields=["editor_ids", "updated_at"])
    return locked


def draft_replace_document(*, draft: Draft, actor: User, document_name: str, document: bytes) -> Draft:
    """Replace the document (e.g. a corrected copy). Clauses keep their offsets: one whose span no longer
    reads as selected is listed as not matching and blocks submission until it is marked again."""
    text = document_text_of(document_name, document)
    with transaction.atomic():
        draft = _locked(draft, actor)
        draft.document_name = document_name[:200]
        draft.document_original = document
        draft.document_sha256 = hashlib.sha256(document).hexdigest()
        draft.document_text = text
        draft.save(update_fields=["document_name", "document_original", "document_sha256", "document_text",
                                  "updated_at"])
        draft.articles.all().delete()
        Article.objects.bulk_create(
            [Article(draft=draft, start=u.start, label=u.label, level=u.level) for u in detection.detect_units(text)]
        )
    return draft


# --- articles (the provision map) ------------------------------------------------------------------

def units_of(draft: Draft) -> list[detection.Unit]:
    return [detection.Unit(a.start, a.label, a.level) for a in draft.articles.all()]


def article_add(*, draft: Draft, actor: User, start: int, label: str, level: int) -> Article:
    """An article or item detection missed, starting at ``start``."""
    label = (label or "").strip()
    if not label:
        raise WorkbenchError("请填写条目标号（如 第三条、(二)、1）", "label")
    if level not in (1, 2, 3):
        raise WorkbenchError("层级应为 1（条）、2（项）或 3（目）", "level")
    with transaction.atomic():
        draft = _locked(draft, actor)
        if not 0 <= start < len(draft.document_text):
            raise WorkbenchError("条目位置不在文件范围内", "start")
        if draft.articles.filter(start=start, level=level).exists():
            raise WorkbenchError("该位置已有同一层级的条目", "start")
        return Article.objects.create(draft=draft, start=start, label=label[:40], level=level)


def article_delete(*, draft: Draft, actor: User, article_id: int) -> None:
    with transaction.atomic():
        draft = _locked(draft, actor)
        deleted, _ = draft.articles.filter(pk=article_id).delete()
        if not deleted:
            raise WorkbenchError("没有该条目")


def article_dispose(*, draft: Draft, actor: User, article_ids: Iterable[int], disposition: str, note: str) -> int:
    """Set what the system does with these articles; every disposition but 已建为条款 needs a note."""
    if disposition not in Disposition.values or disposition == Disposition.CLAUSE:
        raise WorkbenchError("请选择处理方式：由办案流程实现、资料性内容或不建为条款", "disposition")
    note = (note or "").strip()
    if not note:
        raise WorkbenchError("请写明处理说明（如：报道背景、由办案流程的哪一步实现、不建为条款的理由）", "note")
    ids = list(article_ids)
    if not ids:
        raise WorkbenchError("请至少选择一个条目", "articles")
    with transaction.atomic():
        draft = _locked(draft, actor)
        return draft.articles.filter(pk__in=ids).update(disposition=disposition, note=note[:300])


def article_rows(draft: Draft) -> list[dict[str, Any]]:
    """Each article with its end, its text excerpt, the clauses in it and its effective disposition."""
    text = draft.document_text
    clauses = [c for c in draft.clauses.all() if c.start is not None]
    rows = []
    for unit_article, end in _ranges(draft):
        article = unit_article
        inside = [c for c in clauses if article.start <= c.start < end]
        children_start = [a.start for a in draft.articles.all() if a.level > article.level and article.start < a.start < end]
        own_end = min(children_start, default=end)
        own_inside = [c for c in clauses if article.start <= c.start < own_end]
        disposition = Disposition.CLAUSE if own_inside else article.disposition
        rows.append({
            "article": article, "end": end, "excerpt": text[article.start:min(own_end, article.start + 60)].strip(),
            "clauses": inside, "disposition": disposition,
            "disposition_label": Disposition(disposition).label if disposition else "",
            "covered_by_items": own_end < end and not own_inside,
        })
    return rows


def _ranges(draft: Draft) -> list[tuple[Article, int]]:
    articles = list(draft.articles.all())
    ordered = sorted(articles, key=lambda a: (a.start, a.level))
    out = []
    for i, article in enumerate(ordered):
        end = len(draft.document_text)
        for later in ordered[i + 1:]:
            if later.level <= article.level:
                end = later.start
                break
        out.append((article, end))
    return out


# --- clauses ---------------------------------------------------------------------------------------

def _span(draft: Draft, start: Any, end: Any) -> tuple[int, int, str]:
    """The selection trimmed of surrounding whitespace; refused when empty or outside the document."""
    try:
        start, end = int(start), int(end)
    except (TypeError, ValueError):
        raise WorkbenchError("请先在文件中选中一段文字", "span") from None
    text = draft.document_text
    if not (0 <= start <= end <= len(text)):
        raise WorkbenchError("所选范围不在文件之内", "span")
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start >= end:
        raise WorkbenchError("所选文字为空：请在文件中选中条款原文", "span")
    if "\n" in text[start:end]:
        raise WorkbenchError("所选文字跨越了段落：一个条款只能取自一个段落", "span")
    return start, end, text[start:end]


def _overlaps(draft: Draft, start: int, end: int, *, parent: DraftClause | None, exclude: int | None = None) -> str:
    """The title of an existing clause the span overlaps, or ''. Parts lie inside their compound clause."""
    for other in draft.clauses.exclude(start__isnull=True):
        if other.pk == exclude or (parent is not None and other.pk == parent.pk):
            continue
        if parent is not None and other.parent_id != parent.pk:
            if other.parent_id is None and other.pk != parent.pk and other.start < end and start < other.end:
                return other.title
            continue
        if parent is None and other.parent_id is not None:
            continue
        if other.start < end and start < other.end:
            return other.title
    return ""


def _derive(kind: str, source: str, if_true: str, if_false: str) -> dict[str, Any] | None:
    if not source:
        return None
    if source not in DERIVATION_SOURCES:
        raise WorkbenchError("派生依据应从引擎的目录中选择", "derive_from")
    values = {"": None, "met": "met", "not_met": "not_met"}
    if if_true not in values or if_false not in values:
        raise WorkbenchError("派生结果应为 符合、不符合 或 不作认定", "derive")
    if values[if_true] is None and values[if_false] is None:
        raise WorkbenchError("派生条款至少要有一种事实能认定它", "derive")
    return {"from": source, "if_true": values[if_true], "if_false": values[if_false]}


@dataclass
class ClauseInput:
    kind: str
    title: str
    start: Any
    end: Any
    parent_id: int | None = None
    applies_to_id: int | None = None
    citation: str = ""
    derive_from: str = ""
    derive_if_true: str = ""
    derive_if_false: str = ""
    note: str = ""
    # For a clause that will have parts: "all" (every part met) or "any" (one part met suffices).
    combine: str = "all"
    extra: dict[str, Any] = field(default_factory=dict)


def _combine(value: str) -> str:
    if value not in COMBINES:
        raise WorkbenchError("分项的组合方式应为「须全部符合」或「符合任一项即可」", "combine")
    return value


def clause_add(*, draft: Draft, actor: User, data: ClauseInput) -> DraftClause:
    """A clause from a selected span: its text is the span, its citation where the span sits."""
    title = (data.title or "").strip()
    if not title:
        raise WorkbenchError("请为条款写一个简短标题", "title")
    if len(title) > 60:
        raise WorkbenchError("标题不超过 60 字", "title")
    combine = _combine(data.combine or "all")
    with transaction.atomic():
        draft = _locked(draft, actor)
        start, end, text = _span(draft, data.start, data.end)
        parent = None
        if data.parent_id:
            parent = draft.clauses.filter(pk=data.parent_id, parent__isnull=True).first()
            if parent is None:
                raise WorkbenchError("所属复合条款不存在", "parent")
            kind = parent.kind
            if combine != "all":
                raise WorkbenchError("分项本身没有组合方式：请在所属复合条款上选择「符合任一项即可」", "combine")
        else:
            kind = data.kind
            if kind not in ("P", "S", "X", "R", "M"):
                raise WorkbenchError("请选择条款类别", "kind")
        if parent is not None and parent.start is not None and not (parent.start <= start and end <= parent.end):
            raise WorkbenchError(f"分项须选自复合条款「{parent.title}」的原文之内", "span")
        clash = _overlaps(draft, start, end, parent=parent)
        if clash:
            raise WorkbenchError(f"所选文字与已有条款「{clash}」重叠", "span")
        applies_to = None
        if kind == "R" and parent is None:
            applies_to = draft.clauses.filter(pk=data.applies_to_id or 0, kind="S", parent__isnull=True).first()
            if applies_to is None:
                raise WorkbenchError("程序要求须附于一个容错情形：请选择它所附的情形", "applies_to")
        elif data.applies_to_id:
            raise WorkbenchError("只有程序要求附于容错情形", "applies_to")
        extra = dict(data.extra)
        derive = _derive(kind, data.derive_from, data.derive_if_true, data.derive_if_false)
        if derive is not None:
            extra.update(establish="derived", derive=derive)
        if data.note.strip():
            extra["note"] = data.note.strip()
        if combine == "any":  # "all" is the default and is never written
            extra["combine"] = combine
        citation = (data.citation or "").strip() or detection.citation_for(units_of(draft), start)
        if not citation:
            raise WorkbenchError("无法从位置确定出处：请先标出该段所在的条目", "citation")
        if draft.imported:
            position = (max((c.position for c in draft.clauses.all()), default=0) + 1) * 1_000_000 + start
        else:
            position = start
        return DraftClause.objects.create(
            draft=draft, position=position, kind=kind, title=title, citation=citation[:200], start=start, end=end,
            text=text, parent=parent, applies_to=applies_to, extra=extra,
        )


def clause_set_combine(*, draft: Draft, actor: User, clause_id: int, combine: str) -> DraftClause:
    """How a compound clause's parts combine: all of them must be met, or any one suffices."""
    combine = _combine(combine)
    with transaction.atomic():
        draft = _locked(draft, actor)
        clause = draft.clauses.filter(pk=clause_id, parent__isnull=True).first()
        if clause is None:
            raise WorkbenchError("没有该条款（分项本身没有组合方式）")
        if clause.extra.get("combine", "all") == combine:
            return clause
        extra = {k: v for k, v in clause.extra.items() if k != "combine"}
        if combine == "any":
            extra["combine"] = combine
        clause.extra = extra
        clause.save(update_fields=["extra"])
        return clause


def combine_label(clause: DraftClause) -> str:
    return COMBINE_LABELS[clause.extra.get("combine", "all")]


def clause_delete(*, draft: Draft, actor: User, clause_id: int) -> None:
    with transaction.atomic():
        draft = _locked(draft, actor)
        clause = draft.clauses.filter(pk=clause_id).first()
        if clause is None:
            raise WorkbenchError("没有该条款")
        if clause.requirements.exists():
            raise WorkbenchError(f"情形「{clause.title}」附有程序要求，请先删除这些要求")
        clause.delete()


def clause_mismatches(draft: Draft) -> list[DraftClause]:
    """Clauses whose span no longer reads, in the stored document, as the text selected."""
    text = draft.document_text
    return [c for c in draft.clauses.all() if c.start is not None and text[c.start:c.end] != c.text]


def soft_span_add(*, draft: Draft, actor: User, kind: str, start: Any, end: Any) -> None:
    """The words stating that a kind of clause is a default rule (一般 / 原则上), as a span of the document."""
    if kind not in SOFT_KINDS:
        raise WorkbenchError("一般性规定须指明所适用的条款类别", "kind")
    with transaction.atomic():
        draft = _locked(draft, actor)
        start, end, text = _span(draft, start, end)
        if "一般" not in text and "原则上" not in text:
            raise WorkbenchError("所选文字中没有“一般”或“原则上”等措辞", "span")
        draft.soft_spans = [*draft.soft_spans, {"kind": kind, "start": start, "end": end, "text": text}]
        draft.save(update_fields=["soft_spans", "updated_at"])


# --- the version description -----------------------------------------------------------------------

@dataclass
class VersionInput:
    title: str
    issuer: str
    doc_number: str
    jurisdiction: str
    effective_from: dt.date | None
    effective_from_approximate: bool = False
    governs_earlier_conduct: bool = False
    governs_earlier_conduct_basis: str = ""
    replaces: str = ""
    outcomes: list[str] = field(default_factory=list)
    outcomes_citation: str = ""
    major_loss_threshold: int | None = None
    notes: str = ""


def draft_describe(*, draft: Draft, actor: User, data: VersionInput) -> Draft:
    """Issuing body, document number, effective date, earlier conduct, replaced version, outcomes."""
    for name, label in (("title", "标题"), ("issuer", "制定机关"), ("jurisdiction", "适用地区")):
        if not str(getattr(data, name) or "").strip():
            raise WorkbenchError(f"请填写{label}", name)
    if data.effective_from is None:
        raise WorkbenchError("请填写施行日期", "effective_from")
    if not data.outcomes or any(o not in OUTCOMES or o == "refused" for o in data.outcomes):
        raise WorkbenchError("请至少选择一种文件允许的处理方式（免责、从轻、减轻）", "outcomes")
    if data.governs_earlier_conduct and not data.governs_earlier_conduct_basis.strip():
        raise WorkbenchError("适用于施行前的行为时，须写明文件依据", "governs_earlier_conduct_basis")
    replaces = (data.replaces or "").strip()
    if replaces:
        family = registry().family(draft.ruleset_id) if draft.ruleset_id in registry().ids() else None
        old = family.version(replaces) if family else None
        if old is None:
            raise WorkbenchError(f"规则集 {draft.ruleset_id} 没有版本 {replaces}", "replaces")
        if data.effective_from <= old.effective_from:
            raise WorkbenchError(
                f"施行日期 {data.effective_from} 不能早于或等于所替代版本 {replaces} 的施行日期 {old.effective_from}",
                "effective_from")
    header: dict[str, Any] = {
        "title": data.title.strip(), "issuer": data.issuer.strip(), "doc_number": data.doc_number.strip() or None,
        "jurisdiction": data.jurisdiction.strip(), "effective_from": data.effective_from.isoformat(),
        "outcomes": list(data.outcomes),
    }
    if data.effective_from_approximate:
        header["effective_from_approximate"] = True
    if data.outcomes_citation.strip():
        header["outcomes_citation"] = data.outcomes_citation.strip()
    if data.governs_earlier_conduct:
        header["governs_earlier_conduct"] = True
        header["governs_earlier_conduct_basis"] = data.governs_earlier_conduct_basis.strip()
    if data.major_loss_threshold is not None:
        if data.major_loss_threshold <= 0:
            raise WorkbenchError("重大损失数额应为正数", "major_loss_threshold")
        header["parameters"] = {"major_loss_threshold": {
            "value": data.major_loss_threshold, "unit": "元",
            "note": f"配置（非文件规定；本系统自 {data.effective_from.isoformat()} 起设为 {data.major_loss_threshold:,} 元）。"
                    "文件未规定“重大损失”的具体数额。"}}
    if data.notes.strip():
        header["notes"] = data.notes.strip()
    with transaction.atomic():
        draft = _locked(draft, actor)
        keep = {k: v for k, v in draft.header.items() if k in ("source", "extends", "supersedes", "example",
                                                               "effective_to", "default_rules")}
        draft.header = {**keep, **header}
        draft.replaces = replaces
        draft.save(update_fields=["header", "replaces", "updated_at"])
    return draft


# --- the rule file --------------------------------------------------------------------------------

def draft_rule_data(draft: Draft) -> tuple[dict[str, Any], list[dict[str, Any]], dict[int, str]]:
    """The header and clauses ``to_yaml`` takes, and each clause's id by pk."""
    header = {"id": draft.ruleset_id, "version": draft.version_label, **draft.header}
    header.setdefault("title", "")
    header.setdefault("issuer", "")
    header.setdefault("jurisdiction", "")
    header.setdefault("effective_from", None)
    header.setdefault("doc_number", None)
    soft: dict[str, list[str]] = {}
    for span in draft.soft_spans:
        soft.setdefault(span["kind"], []).append(draft.document_text[span["start"]:span["end"]])
    if soft:
        header["default_rules"] = {k: "“" + "”“".join(v) + "”" for k, v in soft.items()}
    tops = [c for c in draft.clauses.all() if c.parent_id is None]
    tops.sort(key=lambda c: (c.position, c.pk))
    index = {c.pk: i for i, c in enumerate(tops)}
    parts_of: dict[int, list[DraftClause]] = {}
    for c in draft.clauses.all():
        if c.parent_id is not None:
            parts_of.setdefault(c.parent_id, []).append(c)
    clauses = []
    for c in tops:
        item: dict[str, Any] = {"kind": c.kind, "title": c.title, "citation": c.citation, "text": c.text}
        if c.applies_to_id is not None:
            item["applies_to"] = index[c.applies_to_id]
        item.update(c.extra)
        combine = item.pop("combine", "all")
        parts = sorted(parts_of.get(c.pk, []), key=lambda p: (p.position, p.start or 0, p.pk))
        if parts:
            item["parts"] = [{"title": p.title, "text": p.text, **p.extra} for p in parts]
            # Chosen when the clause was marked; written (only as "any") once the clause has its parts.
            if combine == "any":
                item["combine"] = combine
        clauses.append(item)
    from workbench.yamlio import clause_ids

    ids = clause_ids(draft.ruleset_id, clauses) if all(c["kind"] in "PSXRM" for c in clauses) else []
    by_pk: dict[int, str] = {}
    for c, cid in zip(tops, ids, strict=False):
        by_pk[c.pk] = cid
        for n, p in enumerate(sorted(parts_of.get(c.pk, []), key=lambda p: (p.position, p.start or 0, p.pk)), 1):
            by_pk[p.pk] = f"{cid}.{n}"
    return header, clauses, by_pk


def draft_yaml(draft: Draft) -> str:
    header, clauses, _ = draft_rule_data(draft)
    comment = f"{header.get('title') or draft.ruleset_id}。由规则集工作台生成；原文件 {draft.document_name}（SHA-256 {draft.document_sha256}）。"
    return to_yaml(header, clauses, comment=comment)


def _draft_text(draft: Draft) -> PublishedText:
    return PublishedText(name=f"draft/{draft.ruleset_id}-{draft.version_label}", text=draft_yaml(draft),
                         replaces=draft.replaces)


def draft_registry(draft: Draft) -> Registry:
    """The registry with this draft in it; RuleSetLoadError lists every problem of the draft."""
    return registry_with(_draft_text(draft), published_texts() if _db_on() else [])


def _db_on() -> bool:
    from django.conf import settings

    return bool(settings.RULES_FROM_DATABASE)


# --- tests -----------------------------------------------------------------------------------------

@dataclass
class TestResult:
    test: DraftTest
    passed: bool
    verdict: str = ""
    decisive: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    trace: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class TestRun:
    results: list[TestResult]
    problems: list[str]  # why the draft cannot be evaluated at all (rule-file problems)
    unexercised: list[str]  # clause ids never both met and not met

    @property
    def all_passed(self) -> bool:
        return not self.problems and all(r.passed for r in self.results)


def test_add(*, draft: Draft, actor: User, name: str, conduct_date: dt.date | None, findings: dict[int, str],
             facts: dict[str, Any] | None, expected_verdict: str, expected_decisive: list[int]) -> DraftTest:
    name = (name or "").strip()
    if not name:
        raise WorkbenchError("请为测试用例写一个名称", "name")
    if conduct_date is None:
        raise WorkbenchError("请填写行为发生日期", "conduct_date")
    if expected_verdict not in VERDICTS:
        raise WorkbenchError("请选择预期结论", "expected_verdict")
    with transaction.atomic():
        draft = _locked(draft, actor)
        known = set(draft.clauses.values_list("pk", flat=True))
        if any(int(pk) not in known for pk in findings) or any(int(pk) not in known for pk in expected_decisive):
            raise WorkbenchError("认定或决定性条款中有不属于本草稿的条款", "findings")
        if any(v not in ("met", "not_met") for v in findings.values()):
            raise WorkbenchError("认定应为 符合 或 不符合", "findings")
        return DraftTest.objects.create(
            draft=draft, name=name[:200], conduct_date=conduct_date,
            findings={str(k): v for k, v in findings.items()}, facts=facts,
            expected_verdict=expected_verdict, expected_decisive=[int(x) for x in expected_decisive],
        )


def test_delete(*, draft: Draft, actor: User, test_id: int) -> None:
    with transaction.atomic():
        draft = _locked(draft, actor)
        if not draft.tests.filter(pk=test_id).delete()[0]:
            raise WorkbenchError("没有该测试用例")


def tests_run(draft: Draft) -> TestRun:
    """Run every test row against the draft as it stands; list clauses not yet exercised both ways."""
    try:
        reg = draft_registry(draft)
    except RuleSetLoadError as exc:
        return TestRun([], [p.problem for p in exc.problems], [])
    _, _, ids = draft_rule_data(draft)
    seen: dict[str, set[str]] = {}
    results = []
    for test in draft.tests.all():
        findings = {ids[int(pk)]: status for pk, status in test.findings.items() if int(pk) in ids}
        try:
            ev = evaluate(draft.ruleset_id, findings, test.conduct_date, facts=test.facts, reg=reg)
        except RuleError as exc:
            results.append(TestResult(test, False, problems=[str(exc)]))
            continue
        trace = ev.trace()
        for item in trace:
            seen.setdefault(item["clause"], set()).add(item["status"])
        want = [ids[pk] for pk in test.expected_decisive if pk in ids]
        problems = []
        if ev.verdict != test.expected_verdict:
            problems.append(f"结论应为「{_verdict_label(test.expected_verdict)}」，实为「{_verdict_label(ev.verdict)}」")
        if sorted(ev.decisive) != sorted(want):  # which clauses decide, not the order they are listed in
            problems.append(f"决定性条款应为 {_short(want) or '无'}，实为 {_short(ev.decisive) or '无'}")
        results.append(TestResult(test, not problems, ev.verdict, list(ev.decisive), problems, trace))
    version = reg.version(draft.ruleset_id, draft.version_label)
    unexercised = [c.id for c in version.clauses if c.ruleset == draft.ruleset_id
                   and not {"met", "not_met"} <= seen.get(c.id, set())]
    return TestRun(results, [], unexercised)


def _short(ids: Iterable[str]) -> str:
    return "、".join(i.split(".", 1)[1] for i in ids)


def _verdict_label(verdict: str) -> str:
    from rules.definitions import VERDICT_LABELS

    return VERDICT_LABELS.get(verdict, verdict)


# --- submit, review, publish ----------------------------------------------------------------------

def submission_problems(draft: Draft, run: TestRun | None = None) -> list[str]:
    """Everything that stops the draft being submitted (or published); empty when it may go."""
    problems: list[str] = []
    for c in clause_mismatches(draft):
        problems.append(f"条款「{c.title}」的原文与文件中该位置的文字不再一致，请重新选取")
    if not draft.clauses.exists():
        problems.append("还没有标出任何条款")
    if not draft.header.get("effective_from"):
        problems.append("还没有填写版本说明（制定机关、施行日期、处理方式等）")
    undisposed = [r["article"].label for r in article_rows(draft) if not r["disposition"] and not r["covered_by_items"]]
    if undisposed:
        problems.append(f"文件逐条对照表中有 {len(undisposed)} 个条目尚无处理方式（如 {'、'.join(undisposed[:5])}）")
    run = run or tests_run(draft)
    problems.extend(f"规则文件：{p}" for p in run.problems)
    if not run.problems:
        if not run.results:
            problems.append("还没有测试用例")
        failed = [r.test.name for r in run.results if not r.passed]
        if failed:
            problems.append(f"有 {len(failed)} 个测试用例未通过：{'；'.join(failed)}")
        if run.unexercised:
            problems.append(f"以下条款尚未在测试中既被认定符合又被认定不符合：{_short(run.unexercised)}")
    return problems


def draft_submit(*, draft: Draft, actor: User) -> Draft:
    with transaction.atomic():
        draft = _locked(draft, actor)
        problems = submission_problems(draft)
        if problems:
            raise WorkbenchError("不能提交审核：" + "；".join(problems))
        draft.state = DraftState.SUBMITTED
        draft.review_note = ""
        draft.save(update_fields=["state", "review_note", "updated_at"])
    return draft


def review_diff(draft: Draft) -> VersionDiff | None:
    """The clause-by-clause difference from the version the draft replaces (None: it replaces none)."""
    if not draft.replaces:
        return None
    try:
        reg = draft_registry(draft)
    except RuleSetLoadError:
        return None
    return diff_versions(reg.version(draft.ruleset_id, draft.replaces), reg.version(draft.ruleset_id, draft.version_label))


def _reviewable(draft: Draft, actor: User) -> Draft:
    locked = Draft.objects.select_for_update().get(pk=draft.pk)
    if locked.state != DraftState.SUBMITTED:
        raise WorkbenchError(f"草稿{locked.get_state_display()}，不在待审核状态")
    if has_edited(actor, locked):
        raise WorkbenchError("审核人不能是编辑过该草稿的人：请由另一位规则集编辑人员审核")
    if not can_review(actor, locked):
        raise WorkbenchError("您不是该组织的规则集编辑人员，不能审核")
    return locked


def draft_return(*, draft: Draft, actor: User, note: str) -> Draft:
    note = (note or "").strip()
    if not note:
        raise WorkbenchError("退回修改须写明意见", "note")
    with transaction.atomic():
        draft = _reviewable(draft, actor)
        draft.state = DraftState.EDITING
        draft.review_note = note
        draft.save(update_fields=["state", "review_note", "updated_at"])
    return draft


@dataclass
class PublishResult:
    published: PublishedVersion
    notified_cases: list[int]


def draft_publish(*, draft: Draft, actor: User) -> PublishResult:
    """Approve: write the immutable version with its content hash, serve it, re-evaluate open cases of the
    rule set and tell their handlers what changed. All or nothing."""
    try:
        with transaction.atomic():
            draft = _reviewable(draft, actor)
            problems = submission_problems(draft)
            if problems:
                raise WorkbenchError("不能发布：" + "；".join(problems))
            _check_label_free(draft.ruleset_id, draft.version_label)
            text = draft_yaml(draft)
            version = draft_registry(draft).version(draft.ruleset_id, draft.version_label)
            before = _open_case_verdicts(draft.ruleset_id)
            published = PublishedVersion.objects.create(
                ruleset_id=draft.ruleset_id, version_label=draft.version_label, organisation=draft.organisation,
                yaml_text=text, content_hash=version.content_hash, replaces=draft.replaces,
                document_sha256=draft.document_sha256, published_by=actor,
            )
            draft.state = DraftState.PUBLISHED
            draft.published = published
            draft.save(update_fields=["state", "published", "updated_at"])
            reset_registry()  # the open cases below are re-evaluated with the new version in force
            notified = _tell_handlers(draft, version.label, before)
            transaction.on_commit(reset_registry)
    except BaseException:
        reset_registry()  # never keep serving a version whose publication was rolled back
        raise
    return PublishResult(published, notified)


def _open_case_verdicts(ruleset_id: str) -> dict[int, tuple[str, str]]:
    from cases.models import Case, CaseState
    from cases.selectors import case_evaluation

    out = {}
    for case in Case.objects.filter(ruleset=ruleset_id, state__in=[CaseState.STARTED, CaseState.INVESTIGATING,
                                                                   CaseState.PROPOSED]):
        try:
            ev = case_evaluation(case)
        except RuleError:
            continue
        out[case.pk] = (ev.verdict, ev.version.label)
    return out


def _tell_handlers(draft: Draft, label: str, before: dict[int, tuple[str, str]]) -> list[int]:
    """Re-evaluate the open cases under the registry with the new version; a notice to each handler."""
    from cases.models import Case
    from cases.selectors import case_evaluation
    from workflow.services.kernel import notify

    told = []
    for case in Case.objects.filter(pk__in=before).select_related("handler"):
        try:
            ev = case_evaluation(case)
        except RuleError:
            continue
        old_verdict, old_label = before[case.pk]
        if ev.verdict == old_verdict and ev.version.label == old_label and ev.alternative is None:
            continue
        text = (f"规则集 {label} 已发布。本案重新评估：适用 {ev.version.label}，"
                f"结论由「{_verdict_label(old_verdict)}」变为「{_verdict_label(ev.verdict)}」")
        if ev.version_choice and ev.version_choice.get("explanation"):
            text += f"。{ev.version_choice['explanation']}"
        if case.handler_id:
            notify([case.handler], case, text)
            told.append(case.pk)
    return told


# --- import ---------------------------------------------------------------------------------------

def draft_import(*, actor: User, organisation: Organisation, yaml_text: str, version_label: str = "") -> Draft:
    """A draft from a rule file (shipped or shared by another jurisdiction). Its document is the source
    file it names when that is bundled; each clause whose text is found there is anchored to it."""
    if organisation.pk not in editor_org_ids(actor):
        raise WorkbenchError("您不是该组织的规则集编辑人员", "organisation")
    try:
        header, clauses = from_yaml(yaml_text, "导入文件")
    except RuleSetLoadError as exc:
        raise WorkbenchError("规则文件有误：" + "；".join(str(p) for p in exc.problems[:5]), "yaml") from None
    if version_label:
        _check_slug(header["id"], version_label)
        header["version"] = version_label
    _check_label_free(header["id"], str(header["version"]))
    source = header.get("source") or ""
    path = RULESETS_DIR / "sources" / source
    document = path.read_bytes() if source and path.is_file() and "/" not in source else yaml_text.encode()
    name = source if source and path.is_file() else "规则文件.yaml"
    text = document.decode("utf-8")
    rid, label = header.pop("id"), str(header.pop("version"))
    with transaction.atomic():
        draft = Draft.objects.create(
            organisation=organisation, ruleset_id=rid, version_label=label, header=jsonable(header),
            document_name=name, document_original=document, document_sha256=hashlib.sha256(document).hexdigest(),
            document_text=text, imported=True, created_by=actor, editor_ids=[actor.pk],
        )
        Article.objects.bulk_create(
            [Article(draft=draft, start=u.start, label=u.label, level=u.level) for u in detection.detect_units(text)]
        )
        rows: list[DraftClause] = []
        for n, c in enumerate(clauses):
            rows.append(_import_clause(draft, c, (n + 1) * 1_000_000, text, None, rows))
        for n, c in enumerate(clauses):
            for k, part in enumerate(c.get("parts") or []):
                _import_clause(draft, {**part, "kind": c["kind"]}, k, text, rows[n], rows)
    return draft


def _import_clause(draft: Draft, c: dict[str, Any], position: int, text: str, parent: DraftClause | None,
                   rows: list[DraftClause]) -> DraftClause:
    found = text.find(c["text"]) if c.get("text") else -1
    start, end = (found, found + len(c["text"])) if found >= 0 and text.count(c["text"]) == 1 else (None, None)
    extra = {k: v for k, v in c.items() if k not in ("kind", "title", "citation", "text", "applies_to", "parts")}
    if extra.get("combine") == "all":  # the default: kept only as "any", as the mark form stores it
        del extra["combine"]
    clause = DraftClause.objects.create(
        draft=draft, position=position, kind=c["kind"], title=c["title"], citation=c.get("citation", ""),
        start=start, end=end, text=c["text"], parent=parent,
        applies_to=rows[c["applies_to"]] if "applies_to" in c else None, extra=jsonable(extra),
    )
    return clause
