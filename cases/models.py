"""The case record: who, which matter, under which rules, and what the investigation found."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models.functions import Cast, Coalesce, Concat, ExtractYear, LPad
from django.utils import timezone

from accounts.models import Organisation, Person

from .labels import ChoiceLabels


class CaseState(models.TextChoices):
    STARTED = "started", "已启动"
    INVESTIGATING = "investigating", "调查中"
    PROPOSED = "proposed", "已提出建议"
    DECIDED = "decided", "已决定"
    EXECUTED = "executed", "已执行"
    APPEALED = "appealed", "申诉中"
    CLOSED = "closed", "已办结"
    WITHDRAWN = "withdrawn", "已撤回"

    # Groups of states, defined once. Members compare equal to the stored strings.
    @classmethod
    def pre_decision(cls) -> frozenset[str]:
        """Before the committee decides: the case can still be withdrawn, and parties may make statements."""
        return frozenset({cls.STARTED, cls.INVESTIGATING, cls.PROPOSED})

    @classmethod
    def decided(cls) -> frozenset[str]:
        """A decision has been taken (and stands, or is under appeal): the cadre was accounted for."""
        return frozenset({cls.DECIDED, cls.EXECUTED, cls.APPEALED, cls.CLOSED})

    @classmethod
    def in_progress(cls) -> frozenset[str]:
        """Someone must act next, so a stage deadline runs (executed cases wait on the cadre, not on us)."""
        return frozenset({cls.STARTED, cls.INVESTIGATING, cls.PROPOSED, cls.DECIDED, cls.APPEALED})


class Outcome(models.TextChoices):
    EXEMPT = "exempt", "免责"
    LIGHTER = "lighter", "从轻"
    MITIGATED = "mitigated", "减轻"
    REFUSED = "refused", "不予容错"


class Origin(models.TextChoices):
    ACCOUNTABILITY = "accountability", "问责部门依职权启动"
    APPLICATION = "application", "干部（单位）书面申请"


class MatterCategory(models.TextChoices):
    ENVIRONMENT = "environment", "生态环境保护"
    SAFETY = "safety", "安全生产"
    INVESTMENT = "investment", "招商引资"
    CONSTRUCTION = "construction", "工程建设"
    REFORM = "reform", "改革创新"
    PETITION = "petition", "信访维稳"
    FUNDS = "funds", "财政资金使用"
    APPROVAL = "approval", "行政审批服务"
    EMERGENCY = "emergency", "应急处置"
    OTHER = "other", "其他"


class Disposition(models.TextChoices):
    FIRST = "first", "第一种形态"
    SECOND = "second", "第二种形态"
    THIRD = "third", "第三种形态"
    FOURTH = "fourth", "第四种形态"


class AccountabilityMeasure(models.TextChoices):
    """What the case ended in for the person; a later case of the same matter reads it (张家口 附件2 二、第9项)."""

    ACCOUNTABILITY = "accountability", "问责"
    REMINDER = "reminder", "组织提醒"
    NONE = "none", "未问责、未组织提醒"


class FindingStatus(models.TextChoices):
    MET = "met", "符合"
    NOT_MET = "not_met", "不符合"
    UNKNOWN = "unknown", "待查明"


class CaseQuerySet(models.QuerySet):
    """Case queries that mean one thing everywhere."""

    @staticmethod
    def overdue_condition(today: dt.date | None = None) -> models.Q:
        """Overdue: a stage deadline has passed while someone still has to act."""
        return models.Q(state__in=CaseState.in_progress(), deadline__lt=today or timezone.localdate())

    def overdue(self, today: dt.date | None = None) -> CaseQuerySet:
        return self.filter(self.overdue_condition(today))

    def not_overdue(self, today: dt.date | None = None) -> CaseQuerySet:
        return self.exclude(self.overdue_condition(today))

    def reference_fill(self) -> int:
        """Store the case number of every case here that has none yet; returns how many were numbered.

        The case creation service calls it for the row it has just inserted, in the same transaction;
        anything that inserts cases in bulk calls it once afterwards.
        """
        return self.filter(reference__isnull=True).update(reference=reference_expression())

    def managed_by_refresh(self) -> int:
        """Recompute ``managed_by`` for these cases from their subjects (the triggers do this on every
        write; a bulk load that disabled them calls this once afterwards). Returns how many rows."""
        managed = Person.objects.filter(pk=models.OuterRef("subject_id")).values(
            where=Coalesce("managing_committee_id", "unit_id"))[:1]
        return self.update(managed_by_id=models.Subquery(managed))


def reference_expression() -> models.Expression:
    """容案YYYY-NNNNN computed by the database: the year the case was created (UTC) and its id.

    The id comes from the table's sequence, so concurrent creations never share a number; ids past
    99999 keep all their digits (the database's LPAD would cut them).
    """
    digits = Cast("id", models.CharField())
    return Concat(
        models.Value("容案"), Cast(ExtractYear("created_at", tzinfo=dt.UTC), models.CharField()), models.Value("-"),
        models.Case(models.When(id__lt=100000, then=LPad(digits, 5, models.Value("0"))), default=digits),
        output_field=models.CharField(),
    )


class Case(ChoiceLabels, models.Model):
    """One accountability matter of one person, reviewed on its own (一事一议)."""

    title = models.CharField("事项名称", max_length=200)
    subject = models.ForeignKey(Person, verbose_name="当事干部", on_delete=models.PROTECT, related_name="cases")
    accountability_org = models.ForeignKey(
        Organisation, verbose_name="问责部门", on_delete=models.PROTECT, related_name="accountability_cases"
    )
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="承办人", null=True, blank=True, on_delete=models.PROTECT,
        related_name="handled_cases",
    )
    ruleset = models.SlugField("适用规则", max_length=60)
    conduct_date = models.DateField("行为发生日期")
    matter_category = models.CharField("事项类别", max_length=20, choices=MatterCategory.choices)
    summary = models.TextField("基本情况")
    remedial_measures = models.TextField("采取的补救措施", blank=True)
    claimed_situations = models.JSONField("申请人认为适用的容错情形", default=list, blank=True)
    loss_amount = models.DecimalField("损失金额（元）", max_digits=16, decimal_places=2, null=True, blank=True)
    disposition = models.CharField("处置形态", max_length=10, choices=Disposition.choices, blank=True)
    accountability_measure = models.CharField(
        "问责或组织提醒", max_length=20, choices=AccountabilityMeasure.choices, blank=True,
        help_text="本案最终对当事人问责、组织提醒，或两者皆无；空白表示未记录",
    )
    accountability_measure_date = models.DateField("问责或组织提醒日期", null=True, blank=True)
    origin = models.CharField("启动方式", max_length=20, choices=Origin.choices, default=Origin.ACCOUNTABILITY)
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="申请人", null=True, blank=True, on_delete=models.PROTECT,
        related_name="applications",
    )
    applicant_unit = models.ForeignKey(
        "accounts.Organisation", verbose_name="申请单位", null=True, blank=True, on_delete=models.PROTECT,
        related_name="applications", help_text="被问责干部所在单位代为书面申请时，记录申请单位",
    )
    state = models.CharField("状态", max_length=20, choices=CaseState.choices, default=CaseState.STARTED)
    outcome = models.CharField("容错结论", max_length=20, choices=Outcome.choices, blank=True)
    decided_at = models.DateTimeField(
        "决定录入时间", null=True, blank=True, help_text="首次集体研究决定录入系统的时间"
    )
    # The date a decision is known by everywhere (documents, the filing register, its exports and the
    # API): the meeting that took the first decision, not when it was recorded.
    decision_date = models.DateField(
        "决定日期", null=True, blank=True, help_text="首次集体研究决定的会议日期；备案登记按此排序和筛选"
    )
    deadline = models.DateField("本环节办理期限", null=True, blank=True)
    delivered_on = models.DateField("书面反馈送达日期", null=True, blank=True)
    appeal_deadline = models.DateField("申诉期限", null=True, blank=True)
    sent_back_reason = models.TextField("退回补充调查理由", blank=True)
    submission_key = models.CharField(
        "提交标识", max_length=64, null=True, blank=True, unique=True, help_text="防止重复提交同一表单"
    )
    revision = models.PositiveIntegerField("修订号", default=0, help_text="每次变更加一，用于识别过期表单")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="创建人", null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    # Stored when the case is created (``CaseQuerySet.reference_fill``), so it can be searched and joined.
    reference = models.CharField(
        "案件编号", max_length=24, unique=True, null=True, blank=True, editable=False,
        help_text="容案YYYY-NNNNN：创建年份与案件序号",
    )
    # Where the subject is managed (管理权限): the person's own managing committee, else their unit. A copy
    # of ``Person`` kept by database triggers (see the migration that adds it), so the committee's and the
    # organisation department's lists filter one indexed column of this table instead of joining persons.
    managed_by = models.ForeignKey(
        Organisation, verbose_name="干部管理单位", null=True, blank=True, editable=False,
        on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+",
        help_text="由当事人的管理党委或所在单位自动得出",
    )

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = "容错案件"
        verbose_name_plural = "容错案件"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["accountability_org", "state", "-created_at", "-id"], name="case_org_state_idx"),
            models.Index(fields=["subject", "matter_category"], name="case_subject_matter_idx"),
            models.Index(fields=["state", "deadline"], name="case_state_deadline_idx"),
            models.Index(fields=["-decided_at", "-id"], name="case_decided_idx"),
            # The filing register walks this index in its order and tests each row's visibility from the
            # index alone (who manages the subject, the state): no table read per row, whatever the size.
            models.Index(fields=["-decision_date", "-id"], include=["managed_by", "state"],
                         condition=models.Q(decision_date__isnull=False), name="case_decision_date_idx"),
            # Statistics (统计分析): decisions per month and outcome; cases per rule set and period.
            models.Index(fields=["decision_date", "outcome"], name="case_decision_outcome_idx"),
            models.Index(fields=["ruleset", "created_at"], name="case_ruleset_created_idx"),
            # Lists (keyset pages, newest first): every visible case; by accountability department
            # (inspectors); by where the subject is managed (committee, organisation department).
            models.Index(fields=["-created_at", "-id"], name="case_created_idx"),
            models.Index(fields=["accountability_org", "-created_at", "-id"], name="case_org_created_idx"),
            models.Index(fields=["managed_by", "-created_at", "-id"], name="case_managed_created_idx"),
            # An organisation department sees the decided cases of the cadres its committee manages; a
            # committee's queue is a few states. With the list's order columns, a page of such cases is read
            # from this index alone and sorted (``listing.keyset.Part.gather``).
            models.Index(fields=["managed_by", "state"], include=["created_at", "id"], name="case_managed_state_idx"),
            # The overdue cases a list shows first, found without walking its history (they are old, so
            # reading the newest first would pass over years of cases to reach them). With the list's order
            # columns: a department with thousands of overdue cases sorts them from the index alone (5,281 of
            # them read from the table took 7 ms at 1,000,000 cases).
            models.Index(fields=["accountability_org", "state", "deadline"], include=["created_at", "id"],
                         name="case_org_overdue_idx", condition=models.Q(state__in=sorted(CaseState.in_progress()))),
            models.Index(fields=["managed_by", "state", "deadline"], include=["created_at", "id"],
                         name="case_managed_overdue_idx",
                         condition=models.Q(state__in=sorted(CaseState.in_progress()))),
            models.Index(fields=["subject", "-created_at", "-id"], name="case_subject_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.reference or '容案（未编号）'} {self.title}"

    def is_overdue(self, today: dt.date | None = None) -> bool:
        """``CaseQuerySet.overdue_condition`` for one case already loaded."""
        return overdue_at(self.state, self.deadline, today or timezone.localdate())


def overdue_at(state: str, deadline: dt.date | None, today: dt.date) -> bool:
    """``Case.is_overdue`` for a case's state and deadline read as values (a list row)."""
    return bool(deadline and state in CaseState.in_progress() and deadline < today)


class Finding(models.Model):
    """An investigator's finding on one clause of the applicable rule set."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="findings")
    clause_id = models.CharField("条款", max_length=60)
    status = models.CharField("认定", max_length=10, choices=FindingStatus.choices)
    reasoning = models.TextField("理由", blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "调查认定"
        verbose_name_plural = "调查认定"
        constraints = [models.UniqueConstraint(fields=["case", "clause_id"], name="finding_one_per_clause")]
        # Statistics: which situations and exclusions were found met most often.
        indexes = [models.Index(fields=["status", "clause_id"], name="finding_status_clause_idx")]

    def __str__(self) -> str:
        return f"{self.clause_id}: {self.status}"


def evidence_path(instance: Evidence, filename: str) -> str:
    return f"evidence/{instance.case_id}/{filename}"


class Evidence(models.Model):
    """An attached file: evidence, an application attachment or an appeal attachment."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField("文件", upload_to=evidence_path)
    original_name = models.CharField("文件名", max_length=255)
    description = models.CharField("说明", max_length=500, blank=True)
    clause_id = models.CharField("关联条款", max_length=60, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "证据材料"
        verbose_name_plural = "证据材料"
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.original_name


class Statement(models.Model):
    """The cadre's own statement (陈述申辩), heard during the investigation."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="statements")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField("陈述内容")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "陈述"
        verbose_name_plural = "陈述"
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.author} 陈述 #{self.pk}"


class ParticipantKind(models.TextChoices):
    NPC_DEPUTY = "npc_deputy", "人大代表"
    CPPCC_MEMBER = "cppcc_member", "政协委员"
    EXPERT = "expert", "专家学者"
    THIRD_PARTY = "third_party", "第三方社会组织"
    SERVICE_OBJECT = "service_object", "服务对象"


class Participant(models.Model):
    """Someone invited to take part in the investigation (豫办〔2017〕28号 三(二))."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="participants")
    name = models.CharField("姓名", max_length=50)
    kind = models.CharField("身份", max_length=20, choices=ParticipantKind.choices)
    affiliation = models.CharField("单位", max_length=100, blank=True)
    opinion = models.TextField("意见", blank=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "参与调查人员"
        verbose_name_plural = "参与调查人员"
        ordering = ["added_at", "id"]

    def __str__(self) -> str:
        return f"{self.name}（{self.get_kind_display()}）"
