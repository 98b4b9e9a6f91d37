"""Official documents of a case (with numbers, versions and hashes), and bulk filing exports."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from accounts.models import Organisation
from cases.labels import ChoiceLabels
from cases.models import Case


class DocumentKind(models.TextChoices):
    FEEDBACK = "feedback", "容错认定结论书面反馈"
    FILING = "filing", "容错纠错备案表"
    APPEAL_REVIEW = "appeal_review", "申诉复核决定"
    APPLICATION = "application", "容错申请书"
    # A clarification (澄清正名) belongs to a cadre, and to a case only when it started from one.
    CLARIFICATION = "clarification", "澄清正名通知"


class DocumentStatus(models.TextChoices):
    PENDING = "pending", "生成中"
    READY = "ready", "已生成"
    FAILED = "failed", "生成失败"


# The cadre (the subject) receives these; the filing report goes to the upper level only.
SUBJECT_KINDS = (DocumentKind.FEEDBACK, DocumentKind.APPEAL_REVIEW, DocumentKind.APPLICATION)


def document_path(instance: Document, filename: str) -> str:
    if instance.case_id is None:
        return f"documents/clarifications/{instance.clarification_id}/{filename}"
    return f"documents/{instance.case_id}/{filename}"


class Document(ChoiceLabels, models.Model):
    """One version of one official document of a case (or of a clarification made without a case);
    a correction adds a version, never overwrites."""

    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.PROTECT, related_name="documents")
    clarification = models.ForeignKey(
        "workflow.Clarification", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField("文书类别", max_length=20, choices=DocumentKind.choices)
    version = models.PositiveIntegerField("版本", default=1)
    number = models.CharField("发文字号", max_length=60, blank=True)
    issuing_org = models.ForeignKey(
        Organisation, verbose_name="发文机关", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision = models.ForeignKey(
        "workflow.Decision", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    event = models.ForeignKey(
        "workflow.OutboxEvent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField("状态", max_length=10, choices=DocumentStatus.choices, default=DocumentStatus.PENDING)
    error = models.TextField("错误信息", blank=True)
    attempts = models.PositiveIntegerField("生成尝试次数", default=0)
    reason = models.CharField("生成原因", max_length=200, blank=True)
    file = models.FileField("文件", upload_to=document_path, blank=True)
    sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    # 国密 SM3 (GB/T 32905) of the same PDF bytes, beside the SHA-256; blank for documents stored before.
    sm3 = models.CharField("SM3", max_length=64, blank=True, db_index=True)
    size = models.PositiveBigIntegerField(default=0)
    pages = models.PositiveIntegerField(default=0)
    token = models.CharField("核验码", max_length=32, unique=True)
    superseded = models.BooleanField("已被新版本取代", default=False)
    # The version that replaced this one (the newest ready version when it was generated).
    superseded_by = models.ForeignKey(
        "self", verbose_name="替代版本", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    queued_at = models.DateTimeField("最近排队时间", null=True, blank=True)
    # The Celery queue that renders it when not the documents queue: the filings a bulk export asks for
    # render on the exports queue, so that thousands of them never hold up a decision's documents.
    # A database default too: rows written by bulk SQL (synthetic data) need not name it.
    queue = models.CharField("生成队列", max_length=20, blank=True, default="", db_default="")
    # The task generating it now; a redelivered message (same task id) may take over, another may not.
    claim_task = models.CharField(max_length=64, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    generated_at = models.DateTimeField("生成时间", null=True, blank=True)

    class Meta:
        verbose_name = "文书"
        verbose_name_plural = "文书"
        ordering = ["case_id", "kind", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["case", "kind", "version"], name="document_unique_version"),
            models.CheckConstraint(condition=models.Q(version__gte=1), name="document_version_positive"),
            models.UniqueConstraint(fields=["clarification", "kind", "version"],
                                    condition=models.Q(clarification__isnull=False),
                                    name="document_unique_clarification_version"),
            models.CheckConstraint(condition=models.Q(case__isnull=False) | models.Q(clarification__isnull=False),
                                   name="document_has_case_or_clarification"),
        ]
        indexes = [
            models.Index(fields=["status", "queued_at"], name="document_pending_idx"),
            models.Index(fields=["kind", "status", "generated_at"], name="document_kind_ready_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number or ''} v{self.version}"

    @property
    def current(self) -> bool:
        return not self.superseded

    @property
    def filename(self) -> str:
        name = self.number or (self.case.reference if self.case_id else f"澄清{self.clarification_id}")
        return f"{self.get_kind_display()}-{name}-v{self.version}.pdf"


class DocumentNumber(models.Model):
    """The last document number issued by an organisation in a year; locked while the next is taken."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "发文字号计数"
        verbose_name_plural = "发文字号计数"
        constraints = [
            models.UniqueConstraint(fields=["organisation", "year"], name="document_number_per_org_year"),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} {self.year}: {self.last}"


class ExportStatus(models.TextChoices):
    PENDING = "pending", "排队中"
    RUNNING = "running", "正在生成"
    READY = "ready", "可以下载"
    FAILED = "failed", "失败"


class ExportKind(models.TextChoices):
    FILINGS = "filings", "备案材料"
    CASES = "cases", "案件清单"


def export_path(instance: ExportJob, filename: str) -> str:
    return f"exports/{instance.requested_by_id}/{filename}"


class ExportJob(models.Model):
    """A bulk export: a period's filing reports (ZIP of PDFs, an XLSX register and a manifest), or the
    case list as its user filtered it (``kind`` cases: one XLSX)."""

    kind = models.CharField("导出内容", max_length=10, choices=ExportKind.choices, default=ExportKind.FILINGS)
    # The list's filters and search as given (CaseFilter parameters; for filings: outcome, ruleset, q).
    filters = models.JSONField("筛选条件", default=dict, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(
        Organisation, verbose_name="组织范围", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    date_from = models.DateField("起始日期", null=True, blank=True)
    date_to = models.DateField("截止日期", null=True, blank=True)
    status = models.CharField(max_length=10, choices=ExportStatus.choices, default=ExportStatus.PENDING)
    progress = models.PositiveSmallIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    # The cases taken into the export at its first step, so progress can be read at any time.
    case_ids = models.JSONField(default=list, blank=True)
    file = models.FileField(upload_to=export_path, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "导出任务"
        verbose_name_plural = "导出任务"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(progress__lte=100), name="export_progress_le_100"),
            models.CheckConstraint(condition=models.Q(date_from__lte=models.F("date_to")), name="export_period_order"),
        ]

    def __str__(self) -> str:
        if self.kind == ExportKind.CASES:
            return f"案件清单导出 #{self.pk}（{self.get_status_display()}）"
        return f"备案导出 {self.date_from}—{self.date_to}（{self.get_status_display()}）"


# --- the annual report (年度容错纠错工作情况) ---------------------------------------------------------

class AnnualReportStatus(models.TextChoices):
    PENDING = "pending", "生成中"
    READY = "ready", "已生成"
    FAILED = "failed", "生成失败"


def annual_report_path(instance: AnnualReport, filename: str) -> str:
    return f"annual/{instance.organisation_id}/{instance.year}/{filename}"


class AnnualReport(models.Model):
    """One version of an organisation's annual report on tolerance work: a numbered PDF and its XLSX tables.

    Hohhot's measures end: 具體落實情況由各旗縣區紀委監委和市紀委監委派駐(出)機構每年綜合報送市紀委監委.
    The figures are those the requesting user may see, frozen in ``figures`` when the report is made.
    """

    organisation = models.ForeignKey(Organisation, verbose_name="报送单位", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField("年度")
    version = models.PositiveIntegerField("版本", default=1)
    number = models.CharField("发文字号", max_length=60)
    token = models.CharField("核验码", max_length=32, unique=True)
    status = models.CharField("状态", max_length=10, choices=AnnualReportStatus.choices,
                              default=AnnualReportStatus.PENDING)
    error = models.TextField("错误信息", blank=True)
    figures = models.JSONField("统计数据", default=dict, blank=True)
    file = models.FileField("PDF", upload_to=annual_report_path, blank=True)
    xlsx = models.FileField("XLSX 表格", upload_to=annual_report_path, blank=True)
    sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    sm3 = models.CharField("SM3", max_length=64, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    pages = models.PositiveIntegerField(default=0)
    superseded = models.BooleanField("已被新版本取代", default=False)
    superseded_by = models.ForeignKey(
        "self", verbose_name="替代版本", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    generated_at = models.DateTimeField("生成时间", null=True, blank=True)

    class Meta:
        verbose_name = "年度容错纠错工作情况报告"
        verbose_name_plural = "年度容错纠错工作情况报告"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "year", "version"], name="annual_report_unique_version"),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} {self.year} 年度报告 {self.number} v{self.version}"


class InsightTally(models.Model):
    """The statistics' maintained summary: how many cases (or their findings, decisions, appeals, visits,
    stage durations) fall in each combination of the columns that scope and filter the dashboard.

    Each row belongs to one cell, the month a case was started and its accountability department; a
    change to any case of a cell marks the cell in ``InsightDirty`` in the same transaction, and the next
    read (or the statistics task) recomputes the cell from the case table (``reports.tally``). The
    dashboard sums these rows instead of scanning the cases, so its cost follows the number of months,
    departments and categories, not the number of cases.
    """

    month = models.DateField("启动月份")
    org_id = models.IntegerField("问责部门")
    # Where the case's subject is managed: the subject's managing committee, else the subject's unit.
    managed_id = models.IntegerField("管理单位", null=True)
    ruleset = models.CharField("适用规则", max_length=60)
    state = models.CharField("状态", max_length=20)
    metric = models.CharField("指标", max_length=12)
    key = models.CharField("分类", max_length=120, blank=True)
    n = models.IntegerField("数量")

    class Meta:
        verbose_name = verbose_name_plural = "统计汇总"
        # Read by where the subject is managed (committees, organisation departments) or by department
        # (discipline commissions): each index holds every column a read needs (index-only scans).
        indexes = [
            models.Index(fields=["managed_id", "metric", "month"], include=["key", "state", "ruleset", "org_id", "n"],
                         name="insight_tally_managed_idx"),
            models.Index(fields=["org_id", "metric", "month"], include=["key", "state", "ruleset", "managed_id", "n"],
                         name="insight_tally_org_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.month.year}年{self.month.month}月 {self.org_id} {self.metric} {self.key}: {self.n}"


class InsightDirty(models.Model):
    """A tally cell (start month, accountability department) whose cases changed since it was computed."""

    month = models.DateField()
    org_id = models.IntegerField()

    class Meta:
        verbose_name = verbose_name_plural = "待重算的统计单元"
        constraints = [models.UniqueConstraint(fields=["month", "org_id"], name="insight_dirty_cell_once")]

    def __str__(self) -> str:
        return f"{self.month.year}年{self.month.month}月 {self.org_id}"
