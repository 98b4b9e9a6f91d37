"""The rule-set workbench: drafts made from an uploaded policy document, and the published versions.

A draft holds the document (original file, its SHA-256, the text), the detected articles with their
dispositions, the clauses marked as spans of that text, the version description and the test table.
A published version is immutable: the YAML the registry loads and the content hash it was approved with.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from accounts.models import Organisation


class DraftState(models.TextChoices):
    EDITING = "editing", "编辑中"
    SUBMITTED = "submitted", "待审核"
    PUBLISHED = "published", "已发布"


class Disposition(models.TextChoices):
    CLAUSE = "clause", "已建为条款"
    WORKFLOW = "workflow", "由办案流程实现"
    INFORMATIONAL = "informational", "资料性内容，无须处理"
    NOT_ENCODED = "not_encoded", "不建为条款（须写明理由）"


class ClauseKind(models.TextChoices):
    P = "P", "前置条件"
    S = "S", "容错情形"
    X = "X", "不予容错情形"
    R = "R", "程序要求"
    M = "M", "从轻减轻情形"


class PublishedVersion(models.Model):
    """One approved rule-set version. Never changed after it is written: the registry checks its hash."""

    ruleset_id = models.SlugField("规则集", max_length=60)
    version_label = models.CharField("版本", max_length=40)
    organisation = models.ForeignKey(Organisation, verbose_name="组织", on_delete=models.PROTECT, related_name="+")
    yaml_text = models.TextField("规则文件（YAML）")
    content_hash = models.CharField("内容摘要", max_length=80)
    replaces = models.CharField("所替代的版本", max_length=40, blank=True)
    document_sha256 = models.CharField("原文件 SHA-256", max_length=64)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="审核发布人", on_delete=models.PROTECT,
                                     related_name="+")
    published_at = models.DateTimeField("发布时间", auto_now_add=True)

    class Meta:
        verbose_name = "已发布的规则版本"
        verbose_name_plural = "已发布的规则版本"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["ruleset_id", "version_label"], name="published_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.ruleset_id}@{self.version_label}"


class Draft(models.Model):
    """A rule-set version being made from one document, by the rule-set editors of one organisation."""

    organisation = models.ForeignKey(Organisation, verbose_name="组织", on_delete=models.PROTECT, related_name="+")
    ruleset_id = models.SlugField("规则集 id", max_length=60)
    version_label = models.CharField("版本", max_length=40)
    header = models.JSONField("版本说明", default=dict, blank=True)
    replaces = models.CharField("所替代的版本", max_length=40, blank=True)
    document_name = models.CharField("文件名", max_length=200)
    document_original = models.BinaryField("原文件")
    document_sha256 = models.CharField("原文件 SHA-256", max_length=64)
    document_text = models.TextField("文件文字")
    imported = models.BooleanField("由规则文件导入", default=False)
    # Spans stating that a kind of clause is only a default rule (一般 / 原则上): [{kind, start, end}].
    soft_spans = models.JSONField("一般性规定", default=list, blank=True)
    state = models.CharField("状态", max_length=20, choices=DraftState.choices, default=DraftState.EDITING)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="创建人", on_delete=models.PROTECT,
                                   related_name="+")
    # Everyone who changed the draft: none of them may review it.
    editor_ids = models.JSONField("编辑人", default=list, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("修改时间", auto_now=True)
    review_note = models.TextField("审核意见", blank=True)
    published = models.OneToOneField(PublishedVersion, verbose_name="发布结果", null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="draft")

    class Meta:
        verbose_name = "规则集草稿"
        verbose_name_plural = "规则集草稿"
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.ruleset_id}@{self.version_label}（{self.get_state_display()}）"


class Article(models.Model):
    """An article or numbered item of the document (第X条, (一), 1., 一、, or a paragraph) and what is
    done with it: the provision map."""

    draft = models.ForeignKey(Draft, on_delete=models.CASCADE, related_name="articles")
    start = models.PositiveIntegerField("起始位置")
    label = models.CharField("标号", max_length=40)
    level = models.PositiveSmallIntegerField("层级", default=1)
    disposition = models.CharField("处理方式", max_length=20, choices=Disposition.choices, blank=True)
    note = models.CharField("说明", max_length=300, blank=True)

    class Meta:
        verbose_name = "条目"
        verbose_name_plural = "条目"
        ordering = ["start", "level"]
        constraints = [models.UniqueConstraint(fields=["draft", "start", "level"], name="article_unique_start")]

    def __str__(self) -> str:
        return self.label


class DraftClause(models.Model):
    """A clause: a span [start, end) of the draft's document, or a part of a compound clause."""

    draft = models.ForeignKey(Draft, on_delete=models.CASCADE, related_name="clauses")
    position = models.PositiveIntegerField("次序")
    kind = models.CharField("类别", max_length=1, choices=ClauseKind.choices)
    title = models.CharField("标题", max_length=60)
    citation = models.CharField("出处", max_length=200)
    start = models.PositiveIntegerField("起始位置", null=True, blank=True)
    end = models.PositiveIntegerField("结束位置", null=True, blank=True)
    # The span's text as it was selected: a clause whose span no longer reads so is refused.
    text = models.TextField("原文")
    parent = models.ForeignKey("self", verbose_name="所属复合条款", null=True, blank=True, on_delete=models.CASCADE,
                               related_name="parts")
    applies_to = models.ForeignKey("self", verbose_name="所附容错情形", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="requirements")
    # The rule file's other clause fields: establish, derive, answers, note, verbatim, corrections, ...
    extra = models.JSONField("其他字段", default=dict, blank=True)

    class Meta:
        verbose_name = "条款"
        verbose_name_plural = "条款"
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.title


class DraftTest(models.Model):
    """A row of the test table: findings in, the verdict and decisive clauses expected out."""

    draft = models.ForeignKey(Draft, on_delete=models.CASCADE, related_name="tests")
    name = models.CharField("名称", max_length=200)
    conduct_date = models.DateField("行为发生日期")
    # {clause pk: met | not_met}; clauses not listed are unknown.
    findings = models.JSONField("认定", default=dict)
    # None: no facts handed in (derived clauses stay as found); else loss_amount / prior_same_matter.
    facts = models.JSONField("事实", null=True, blank=True)
    expected_verdict = models.CharField("预期结论", max_length=20)
    expected_decisive = models.JSONField("预期决定性条款", default=list)

    class Meta:
        verbose_name = "测试用例"
        verbose_name_plural = "测试用例"
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name
