"""The procedure's records: proposals, consultations, decisions, appeals, history, outbox."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from accounts.models import Organisation, Person
from cases.labels import ChoiceLabels
from cases.models import Case, Outcome
from rules.dates import cn_date


class Proposal(models.Model):
    """The accountability department's preliminary opinion (建议), one per round."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="proposals")
    round = models.PositiveSmallIntegerField(default=1)
    recommended_outcome = models.CharField("建议结论", max_length=20, choices=Outcome.choices)
    opinion = models.TextField("初步意见")
    evaluation = models.JSONField("提出建议时的规则评估")
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "初步建议"
        verbose_name_plural = "初步建议"
        ordering = ["round"]
        constraints = [models.UniqueConstraint(fields=["case", "round"], name="proposal_one_per_round")]

    def __str__(self) -> str:
        return f"第{self.round}轮建议：{self.get_recommended_outcome_display()}"


class ConsultationOpinion(models.TextChoices):
    AGREE = "agree", "同意"
    DISAGREE = "disagree", "不同意"


class Consultation(models.Model):
    """A consultation (会商) request to a department on a proposal, and its reply."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="consultations")
    # The proposal's case, copied (a proposal never changes case): who was consulted on which case is one
    # index read (``consultation_org_case_idx``) when visibility asks it, not a lookup per consultation.
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+", editable=False)
    # The case's creation time, copied by database triggers (on insert, and when a case's time changes): a
    # department's consulted cases are read newest first from ``consultation_org_created_idx`` alone.
    case_created_at = models.DateTimeField("案件创建时间", null=True, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="consultations")
    opinion = models.CharField("意见", max_length=10, choices=ConsultationOpinion.choices, blank=True)
    comment = models.TextField("说明", blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    replied_at = models.DateTimeField(null=True, blank=True)
    # A request no longer awaiting a reply without one: withdrawn by the handler, or ended with its round
    # (sent back, case withdrawn or closed). The reason is kept; the department's to-do list drops it.
    closed_at = models.DateTimeField("撤回或终止时间", null=True, blank=True)
    closed_reason = models.CharField("撤回或终止理由", max_length=2000, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = "会商"
        verbose_name_plural = "会商"
        constraints = [
            models.UniqueConstraint(fields=["proposal", "organisation"], name="consultation_one_per_org"),
        ]
        indexes = [
            models.Index(fields=["organisation", "case"], name="consultation_org_case_idx"),
            models.Index(fields=["organisation", "-case_created_at", "-case"], name="consultation_org_created_idx"),
            # A department's requests still awaiting its reply (its to-do list), however many it answered.
            models.Index(fields=["organisation"], condition=models.Q(replied_at__isnull=True, closed_at__isnull=True),
                         name="consultation_waiting_idx"),
        ]

    def __str__(self) -> str:
        return f"会商：{self.organisation}"

    @property
    def outstanding(self) -> bool:
        """Still awaiting the department's reply: neither answered nor withdrawn/ended."""
        return self.replied_at is None and self.closed_at is None


class DecisionKind(models.TextChoices):
    DECISION = "decision", "容错认定决定"
    APPEAL_REVIEW = "appeal_review", "申诉复核决定"


class MeetingKind(models.TextChoices):
    STANDING = "standing", "党委常委会会议"
    PLENARY = "plenary", "党委全体会议"
    LEADING_GROUP = "leading_group", "党组会议"
    SPECIAL = "special", "专题会议"


class Decision(models.Model):
    """The party committee's collective decision, with the evaluation it was made on."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="decisions")
    kind = models.CharField(max_length=20, choices=DecisionKind.choices, default=DecisionKind.DECISION)
    sequence = models.PositiveSmallIntegerField(default=1)
    outcome = models.CharField("结论", max_length=20, choices=Outcome.choices)
    meeting_kind = models.CharField("会议形式", max_length=20, choices=MeetingKind.choices)
    meeting_date = models.DateField("会议日期")
    members_present = models.PositiveSmallIntegerField("到会人数")
    members_total = models.PositiveSmallIntegerField("应到人数")
    resolution = models.TextField("决定内容")
    override_reason = models.TextField("与规则评估不一致的理由", blank=True)
    appeal_result = models.CharField("复核结果", max_length=20, blank=True)
    recused = models.JSONField("回避人员", default=list, blank=True)
    evaluation = models.JSONField("决定所依据的规则评估")
    inputs = models.JSONField("评估输入（认定与事实）", default=dict)
    ruleset_version = models.CharField(max_length=40)
    ruleset_hash = models.CharField(max_length=80)
    engine_version = models.CharField(max_length=20)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "决定"
        verbose_name_plural = "决定"
        ordering = ["sequence"]
        constraints = [
            models.UniqueConstraint(fields=["case", "sequence"], name="decision_unique_sequence"),
            models.CheckConstraint(
                condition=models.Q(members_present__lte=models.F("members_total")), name="decision_attendance_le_total"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}：{self.get_outcome_display()}"


class PinnedRuleSet(models.Model):
    """The exact rule-set content a stored evaluation used, so it can be re-run after the file changes."""

    content_hash = models.CharField(max_length=80, unique=True)
    ruleset = models.CharField(max_length=60)
    version = models.CharField(max_length=40)
    snapshot = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "规则版本快照"
        verbose_name_plural = "规则版本快照"

    def __str__(self) -> str:
        return f"{self.ruleset}@{self.version}"


class Recusal(models.Model):
    """A committee member's declared conflict (回避); they are excluded from the decision."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="recusals")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField("回避事由")
    declared_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "回避"
        verbose_name_plural = "回避"
        constraints = [models.UniqueConstraint(fields=["case", "member"], name="recusal_once")]

    def __str__(self) -> str:
        return f"{self.member} 回避"


class AppealResult(models.TextChoices):
    UPHELD = "upheld", "维持原决定"
    OVERTURNED = "overturned", "撤销原决定"


class Appeal(models.Model):
    """An appeal (申诉) against a refusal, and its review."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="appeals")
    reasons = models.TextField("申诉理由")
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    filed_at = models.DateTimeField(auto_now_add=True)
    result = models.CharField("复核结果", max_length=20, choices=AppealResult.choices, blank=True)
    review_decision = models.OneToOneField(
        Decision, null=True, blank=True, on_delete=models.PROTECT, related_name="appeal"
    )

    class Meta:
        verbose_name = "申诉"
        verbose_name_plural = "申诉"
        ordering = ["filed_at", "id"]

    def __str__(self) -> str:
        return f"申诉 #{self.pk}"


class HistoryAction(models.TextChoices):
    """Every kind of entry in the case history (and the register's own entries, without a case)."""

    START = "start", "启动容错程序"
    APPLY = "apply", "提交书面申请"
    INVESTIGATE = "investigate", "开始调查"
    RECORD_FINDING = "record_finding", "记录认定"
    ADD_PARTICIPANT = "add_participant", "邀请参与调查"
    ADD_EVIDENCE = "add_evidence", "上传证据材料"
    ADD_STATEMENT = "add_statement", "提交陈述"
    PROPOSE = "propose", "提出初步建议"
    CONSULT_REPLY = "consult_reply", "回复会商意见"
    CONSULT_WITHDRAW = "consult_withdraw", "撤回会商请求"
    SEND_BACK = "send_back", "退回补充调查"
    RECUSE = "recuse", "申请回避"
    DECIDE = "decide", "集体研究决定"
    EXECUTE = "execute", "执行并送达"
    CORRECT_DELIVERY = "correct_delivery", "更正送达日期"
    APPEAL = "appeal", "提出申诉"
    REVIEW_APPEAL = "review_appeal", "申诉复核"
    REASSIGN = "reassign", "转交承办人"
    RECORD_ACCOUNTABILITY = "record_accountability", "记录问责或组织提醒情况"
    WITHDRAW = "withdraw", "撤回"
    CLOSE = "close", "办结"
    ADMIN_EDIT = "admin_edit", "管理员更正"
    DOCUMENT_FAILED = "document_failed", "文书生成失败"
    DOCUMENT_REGENERATE = "document_regenerate", "重新生成文书"
    DOCUMENT_DOWNLOAD = "document_download", "下载文书"
    FILING_EXPORT = "filing_export", "导出备案材料"
    FILING_EXPORT_DOWNLOAD = "filing_export_download", "下载备案材料"
    CASE_LIST_EXPORT = "case_list_export", "导出案件清单"
    CASE_LIST_EXPORT_DOWNLOAD = "case_list_export_download", "下载案件清单"
    RULESET_MIGRATE = "ruleset_migrate", "更正适用规则版本"
    # --- follow-through (回访, 澄清正名, 应容未容) ---
    SCHEDULE_VISIT = "schedule_visit", "安排回访"
    COMPLETE_VISIT = "complete_visit", "完成回访"
    CLARIFY = "clarify", "澄清正名"
    FAILURE_RECORD = "failure_record", "记录可能的应容未容问题"
    FAILURE_DISMISS = "failure_dismiss", "排除应容未容问题"
    FAILURE_OPEN_CASE = "failure_open_case", "就应容未容问题立案"


    REQUEST_MATERIAL = "request_material", "要求补充材料"
    CLOCK_PAUSE = "clock_pause", "办理期限暂停"
    CLOCK_RESUME = "clock_resume", "办理期限恢复计算"
    DEADLINE_REMINDER = "deadline_reminder", "催办"
    DEADLINE_OVERDUE = "deadline_overdue", "超期提醒"
    DEADLINE_ESCALATION = "deadline_escalation", "超期督办"


class OutboxKind(models.TextChoices):
    """What the procedure announces to the rest of the system after commit."""

    APPLICATION_SUBMITTED = "application_submitted", "提交书面申请"
    CASE_DECIDED = "case_decided", "作出决定"
    APPEAL_REVIEWED = "appeal_reviewed", "申诉复核"
    CASE_CORRECTED = "case_corrected", "更正案件事实"


class HistoryEntry(models.Model):
    """Append-only, hash-chained record of every action. The database refuses UPDATE and DELETE."""

    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.PROTECT, related_name="history")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_name = models.CharField(max_length=150)
    role = models.CharField(max_length=100, blank=True)
    organisation = models.CharField(max_length=100, blank=True)
    at = models.DateTimeField()
    action = models.CharField(max_length=40, choices=HistoryAction.choices)
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20, blank=True)
    reason = models.TextField(blank=True)
    changes = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    via = models.CharField(max_length=20, default="web")
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)
    # How ``hash`` was made: "sha256" (unkeyed, entries written before the chain was keyed) or
    # "hmac-sm3" (keyed with HISTORY_HMAC_KEY, which is never stored in the database).
    algorithm = models.CharField(max_length=20, default="sha256")

    class Meta:
        verbose_name = "操作记录"
        verbose_name_plural = "操作记录"
        ordering = ["id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} {self.actor_name}"


class ChainHead(models.Model):
    """A single row locked while appending, so the chain stays linear under concurrency."""

    last_hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = "操作记录链头"
        verbose_name_plural = "操作记录链头"

    def __str__(self) -> str:
        return self.last_hash[:12]


class Notification(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    text = models.CharField(max_length=300)
    # The action this notice asks the user to take ("" for information only). It is done, or ended
    # with a reason, when the task is taken or the case can no longer need it.
    task = models.CharField(max_length=40, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    # Stored first, delivered by e-mail after: "pending" until a send succeeds (retried by beat),
    # "digest" until the daily digest takes it, "" when no mail is due (no SMTP or no address).
    email_state = models.CharField(max_length=10, blank=True, default="")
    email_attempts = models.PositiveSmallIntegerField(default=0)
    email_error = models.CharField(max_length=300, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "通知"
        verbose_name_plural = "通知"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "read_at"], name="notification_unread_idx"),
            models.Index(fields=["email_state", "id"], name="notification_email_idx"),
            # The notices page: one user's notices, newest first, in keyset pages.
            models.Index(fields=["user", "-created_at", "-id"], name="notification_user_created_idx"),
        ]

    def __str__(self) -> str:
        return self.text


class OutboxEvent(models.Model):
    """What happened, written in the same transaction; reports react to it after commit."""

    kind = models.CharField(max_length=40, choices=OutboxKind.choices)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="outbox_events")
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name = "事件发件箱"
        verbose_name_plural = "事件发件箱"
        indexes = [models.Index(fields=["dispatched_at", "id"], name="outbox_pending_idx")]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"


class Draft(models.Model):
    """A form saved without moving the case; a written application's draft has no case yet."""

    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.CASCADE, related_name="drafts")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    form = models.CharField(max_length=40)
    data = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "草稿"
        verbose_name_plural = "草稿"
        constraints = [
            models.UniqueConstraint(fields=["case", "user", "form"], name="draft_unique"),
            models.UniqueConstraint(fields=["user", "form"], condition=models.Q(case__isnull=True),
                                    name="draft_unique_without_case"),
        ]

    def __str__(self) -> str:
        return f"{self.form} 草稿"


class PendingUpload(models.Model):
    """A file chosen on a form that has not been submitted successfully yet (the written application):
    checked like any upload, kept for its user until the form is sent or the file expires."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    form = models.CharField(max_length=40)
    file = models.FileField(upload_to="pending/%Y/%m/")
    original_name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "待提交附件"
        verbose_name_plural = "待提交附件"
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["user", "form"], name="pending_upload_user_idx")]

    def __str__(self) -> str:
        return self.original_name


class HistoryAnchor(models.Model):
    """The chain's head (entry count and last digest) copied now and then, keyed; append-only.

    ``verify_history`` compares the chain with every anchor, so a truncated chain or a rolled-back
    tail no longer verifies as a shorter, intact chain.
    """

    at = models.DateTimeField()
    count = models.PositiveBigIntegerField()
    last_id = models.BigIntegerField(null=True, blank=True)  # None: the chain was empty
    last_hash = models.CharField(max_length=64)
    algorithm = models.CharField(max_length=20)
    mac = models.CharField(max_length=64)

    class Meta:
        verbose_name = "操作记录锚点"
        verbose_name_plural = "操作记录锚点"
        ordering = ["id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.count} 条 {self.last_hash[:12]}"


# --- follow-through: return visits, clarification, failure to tolerate ---------------------------
# Zhangjiakou 第十一条(三)(四)(五); Hohhot arts. 17-19. Services in ``workflow.services.followup``.


class VisitForm(models.TextChoices):
    TALK = "talk", "谈话"
    SITE = "site", "实地走访"
    OTHER = "other", "其他"


class ReturnVisit(ChoiceLabels, models.Model):
    """A return visit (回访) to the cadre after a decision was delivered: planned, then done."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="return_visits")
    due_on = models.DateField("计划回访日期")
    form = models.CharField("回访形式", max_length=10, choices=VisitForm.choices, default=VisitForm.TALK)
    # Months after delivery for a visit the system scheduled (configuration, 配置); None: added by hand.
    months_after = models.PositiveSmallIntegerField("送达后月数", null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="回访承办人", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    visited_on = models.DateField("回访日期", null=True, blank=True)
    notes = models.TextField("回访记录", blank=True)
    cadre_state = models.TextField("干部现实表现", blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    notice = models.ForeignKey(Notification, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "回访"
        verbose_name_plural = "回访"
        ordering = ["due_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "months_after"], condition=models.Q(months_after__isnull=False),
                                    name="return_visit_scheduled_once"),
        ]
        indexes = [models.Index(fields=["completed_at", "due_on"], name="return_visit_open_idx")]

    def __str__(self) -> str:
        return f"回访 {self.due_on}"

    @property
    def done(self) -> bool:
        return self.completed_at is not None


class ClarificationScope(models.TextChoices):
    SELF = "self", "本人"
    UNIT = "unit", "所在单位"
    CIRCULATED = "circulated", "一定范围内通报"


class Clarification(models.Model):
    """A clarification (澄清正名) for a cadre found to have been falsely or wrongly accused."""

    person = models.ForeignKey(Person, verbose_name="被澄清干部", on_delete=models.PROTECT,
                               related_name="clarifications")
    case = models.ForeignKey(Case, verbose_name="来源案件", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="clarifications")
    # 谁办理、谁澄清: the body that handled the matter decides and announces it.
    organisation = models.ForeignKey(Organisation, verbose_name="澄清机关", on_delete=models.PROTECT,
                                     related_name="clarifications")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="决定人", on_delete=models.PROTECT,
                                   related_name="+")
    decided_on = models.DateField("决定日期")
    scope = models.CharField("通报范围", max_length=20, choices=ClarificationScope.choices)
    basis = models.TextField("澄清依据（调查核实情况）")
    accuser_referred_to = models.CharField("诬告陷害人移送或处理机关", max_length=100, blank=True)
    accuser_referred_on = models.DateField("移送日期", null=True, blank=True)
    accuser_outcome = models.TextField("处理结果", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "澄清正名"
        verbose_name_plural = "澄清正名"
        ordering = ["-decided_on", "-id"]

    def __str__(self) -> str:
        return f"澄清正名：{self.person.name}"


class FailureTrigger(models.TextChoices):
    APPEAL_OVERTURNED = "appeal_overturned", "申诉复核撤销不予容错决定"
    DEPARTURE = "departure", "决定未采纳“予以容错”的规则评估"


class FailureStatus(models.TextChoices):
    OPEN = "open", "待处理"
    DISMISSED = "dismissed", "已排除"
    CASE_OPENED = "case_opened", "已立案"


class FailureToTolerate(models.Model):
    """A possible 应容未容 matter (Zhangjiakou 第十一条(四)) for the upper-level commission to examine.

    One per triggering decision (the appeal review that overturned a refusal, or the refusal that
    departed from a verdict of ``tolerable``): the constraint makes recording it idempotent.
    """

    case = models.ForeignKey(Case, verbose_name="原案件", on_delete=models.PROTECT, related_name="failures")
    decision = models.OneToOneField(Decision, verbose_name="引发的决定", on_delete=models.PROTECT,
                                    related_name="failure")
    trigger = models.CharField("情形", max_length=20, choices=FailureTrigger.choices)
    reviewer = models.ForeignKey(Organisation, verbose_name="审查机关", null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="failures_to_review")
    summary = models.TextField("情况摘要")
    status = models.CharField("状态", max_length=20, choices=FailureStatus.choices, default=FailureStatus.OPEN)
    resolution = models.TextField("处理说明", blank=True)
    opened_case = models.ForeignKey(Case, verbose_name="立案案件", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "应容未容问题"
        verbose_name_plural = "应容未容问题"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"应容未容：{self.case}"


# --- deadlines that act: limits per jurisdiction, the calendar, reminders, pauses ------------------

class DaysKind(models.TextChoices):
    CALENDAR = "calendar", "自然日"
    WORKING = "working", "工作日"


class DeadlinePolicy(models.Model):
    """An organisation's stage limits, reminder lead and escalation period (办理期限、催办、督办).

    A blank field is inherited from the parent organisation, up the tree, and in the end from the
    environment's settings. The documents name no stage limits (except Hohhot art. 8's one month for
    a reply to an inquiry): every other figure here is the jurisdiction's own configuration.
    """

    organisation = models.OneToOneField(
        Organisation, verbose_name="组织", on_delete=models.CASCADE, related_name="deadline_policy"
    )
    days_kind = models.CharField("计算方式", max_length=10, choices=DaysKind.choices, blank=True,
                                 help_text="自然日或工作日（扣除法定节假日，计入调休上班日）；留空则沿用上级设置")
    started_days = models.PositiveSmallIntegerField("启动环节期限（天）", null=True, blank=True,
                                                    help_text="配置项：文件未规定；留空则沿用上级设置")
    investigating_days = models.PositiveSmallIntegerField("调查环节期限（天）", null=True, blank=True,
                                                          help_text="配置项：文件未规定；留空则沿用上级设置")
    proposed_days = models.PositiveSmallIntegerField("建议（待决定）环节期限（天）", null=True, blank=True,
                                                     help_text="配置项：文件未规定；留空则沿用上级设置")
    decided_days = models.PositiveSmallIntegerField("执行环节期限（天）", null=True, blank=True,
                                                    help_text="配置项：文件未规定；留空则沿用上级设置")
    appealed_days = models.PositiveSmallIntegerField("申诉复核期限（天）", null=True, blank=True,
                                                     help_text="配置项：文件未规定；留空则沿用上级设置")
    reminder_lead_days = models.PositiveSmallIntegerField(
        "催办提前天数", null=True, blank=True, help_text="配置项：期限届满前多少天提醒承办人；留空则沿用上级设置")
    escalation_days = models.PositiveSmallIntegerField(
        "超期后再次督办间隔（天）", null=True, blank=True,
        help_text="配置项：超期后再过多少天报上一级纪委监委督办；留空则沿用上级设置")
    inquiry_reply_months = models.PositiveSmallIntegerField(
        "函询回复期限（月）", null=True, blank=True,
        help_text="呼和浩特市纪委监委《关于激励干部担当作为的实施办法》第8条：对函询中干部所作说明合情合理且提供佐证材料的，"
                  "予以采信并于一个月内函复干部本人及其单位党组织主要负责人。留空则沿用上级设置（默认一个月）")
    return_visit_months = models.CharField(
        "回访时间（送达后月数）", max_length=40, blank=True,
        help_text="配置项：文件要求建立回访机制但未规定时间；用逗号分隔，如 3,6；留空则沿用上级设置")

    class Meta:
        verbose_name = "办理期限设置"
        verbose_name_plural = "办理期限设置"

    def __str__(self) -> str:
        return f"{self.organisation} 的办理期限设置"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        zero = [f for f in ("started_days", "investigating_days", "proposed_days", "decided_days", "appealed_days",
                            "inquiry_reply_months") if getattr(self, f) == 0]
        errors = {f: "期限须至少为 1；留空表示沿用上级设置。" for f in zero}
        if self.return_visit_months:
            try:
                parse_visit_months(self.return_visit_months)
            except ValueError as exc:
                errors["return_visit_months"] = str(exc)
        if errors:
            raise ValidationError(errors)


def parse_visit_months(text: str) -> list[int]:
    """"3,6" → [3, 6]: months after delivery, each 1 to 120; a clear Chinese ValueError otherwise."""
    parts = [p.strip() for p in text.replace("，", ",").split(",") if p.strip()]
    if not parts or not all(p.isdigit() for p in parts):
        raise ValueError(f"回访时间应为逗号分隔的月数，如 3,6；收到“{text}”。")
    months = sorted({int(p) for p in parts})
    if months[0] < 1 or months[-1] > 120:
        raise ValueError("回访时间的月数须在 1 至 120 之间。")
    return months


class CalendarDayKind(models.TextChoices):
    HOLIDAY = "holiday", "放假"
    WORKDAY = "workday", "调休上班"


class HolidayCalendarDay(models.Model):
    """One day of the State Council's holiday arrangement entered by an administrator.

    It overrides the bundled calendar for that date and extends it to years it does not cover yet.
    """

    date = models.DateField("日期", unique=True)
    kind = models.CharField("类别", max_length=10, choices=CalendarDayKind.choices)
    name = models.CharField("名称", max_length=50, help_text="如：元旦、春节、国庆节调休")

    class Meta:
        verbose_name = "节假日安排"
        verbose_name_plural = "节假日安排"
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{cn_date(self.date)} {self.name}（{self.get_kind_display()}）"


class DeadlineStepKind(models.TextChoices):
    REMINDER = "reminder", "催办"
    OVERDUE = "overdue", "超期"
    ESCALATION = "escalation", "超期督办"


class DeadlineStep(models.Model):
    """A reminder or escalation taken for one stage of one case; the unique key makes the check idempotent.

    ``round`` counts the case's entries into the stage (a case sent back is investigated again).
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="deadline_steps")
    stage = models.CharField("环节", max_length=20)
    round = models.PositiveSmallIntegerField("第几次进入该环节", default=1)
    step = models.CharField("步骤", max_length=20, choices=DeadlineStepKind.choices)
    deadline = models.DateField("当时的办理期限")
    taken_at = models.DateTimeField("执行时间")

    class Meta:
        verbose_name = "催办督办记录"
        verbose_name_plural = "催办督办记录"
        ordering = ["taken_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "stage", "round", "step"], name="deadline_step_once"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.stage} {self.get_step_display()}"


class PauseReason(models.TextChoices):
    CONSULTATION = "consultation", "等待会商意见"
    MATERIAL = "material", "等待当事人补充材料"


class CasePause(models.Model):
    """A time during which a stage's clock stood still, waiting on someone outside the handler's control."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="pauses")
    stage = models.CharField("环节", max_length=20)
    reason = models.CharField("原因", max_length=20, choices=PauseReason.choices)
    note = models.CharField("说明", max_length=2000, blank=True)
    started_at = models.DateTimeField("暂停时间")
    ended_at = models.DateTimeField("恢复时间", null=True, blank=True)
    extended_days = models.PositiveSmallIntegerField("顺延天数", null=True, blank=True)

    class Meta:
        verbose_name = "期限暂停"
        verbose_name_plural = "期限暂停"
        ordering = ["started_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "reason"], condition=models.Q(ended_at__isnull=True),
                                    name="case_pause_one_open_per_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()}（{cn_date(self.started_at)}）"


class EmailState(models.TextChoices):
    NONE = "", "不发送邮件"
    PENDING = "pending", "待发送"
    DIGEST = "digest", "待每日汇总"
    SENT = "sent", "已发送"
