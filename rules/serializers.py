"""Input validation and documented output shapes for the rules API."""

from __future__ import annotations

from rest_framework import serializers

from rules.definitions import DISPOSITIONS, MEASURES


class PriorCaseSerializer(serializers.Serializer):
    case = serializers.CharField(help_text="前案编号")
    date = serializers.DateField(help_text="前案的行为日期")
    measure = serializers.ChoiceField(
        choices=list(MEASURES), required=False, allow_null=True,
        help_text="前案对当事人问责（accountability）、组织提醒（reminder）或两者皆无（none）；不填表示未记录",
    )
    measure_date = serializers.DateField(required=False, allow_null=True, help_text="问责或组织提醒的日期")


class EvaluateInputSerializer(serializers.Serializer):
    findings = serializers.DictField(
        required=False,
        default=dict,
        help_text="条款编号 → met / not_met / unknown，或 {status, reasoning, by}",
    )
    answers = serializers.DictField(
        child=serializers.ChoiceField(choices=["yes", "no", "unknown"]),
        required=False,
        help_text="共同问题编号 → yes / no / unknown（见 rules/rulesets/questions.yaml）",
    )
    loss_amount = serializers.FloatField(
        required=False, allow_null=True, min_value=0, help_text="损失金额（元）"
    )
    disposition = serializers.ChoiceField(
        choices=list(DISPOSITIONS), required=False, allow_null=True, help_text="“四种形态”处理方式"
    )
    prior_same_matter = PriorCaseSerializer(many=True, required=False, allow_null=True)
    conduct_date = serializers.DateField(required=False, help_text="行为发生日期（默认今天）")
    decision_date = serializers.DateField(
        required=False, allow_null=True, help_text="决定日期；给出时按从旧兼从轻比较"
    )


class CompareInputSerializer(EvaluateInputSerializer):
    rulesets = serializers.ListField(
        child=serializers.SlugField(),
        min_length=1,
        help_text="并列评估的规则集 id，如 [zhangjiakou, henan, hohhot]",
    )


class TraceItemSerializer(serializers.Serializer):
    clause = serializers.CharField()
    kind = serializers.CharField()
    kind_label = serializers.CharField()
    parent = serializers.CharField(allow_null=True)
    title = serializers.CharField()
    status = serializers.ChoiceField(choices=["met", "not_met", "unknown"])
    source = serializers.DictField()
    citation = serializers.CharField(help_text="出处：所引文件及条目")
    text = serializers.CharField()
    note = serializers.CharField()
    example = serializers.BooleanField(help_text="示例条款（非任何文件的原有条目）")
    default_rule = serializers.CharField(allow_null=True, help_text="文件表述为原则性规定时的原话")


class MissingSerializer(serializers.Serializer):
    clause = serializers.CharField()
    title = serializers.CharField()
    if_met = serializers.CharField()
    if_not_met = serializers.CharField()
    effect = serializers.CharField()


class EvaluationOutputSerializer(serializers.Serializer):
    ruleset = serializers.CharField()
    version = serializers.CharField()
    content_hash = serializers.CharField()
    engine_version = serializers.CharField()
    conduct_date = serializers.DateField(allow_null=True)
    verdict = serializers.ChoiceField(choices=["tolerable", "not_tolerable", "undetermined"])
    outcomes = serializers.ListField(child=serializers.CharField())
    decisive = serializers.ListField(child=serializers.CharField())
    missing = MissingSerializer(many=True)
    mitigation = serializers.ListField(child=serializers.CharField())
    rests_on_default = serializers.BooleanField(
        help_text="不予容错仅依据文件表述为“一般”“原则上”的条款：决定机关可说明理由后作出不同决定"
    )
    default_rule = serializers.DictField(
        allow_null=True, help_text="{clauses: 所依据的原则性条款, basis: 文件原话, only: 是否仅依据这些条款}"
    )
    summary = serializers.CharField()
    trace = TraceItemSerializer(many=True)
    version_choice = serializers.DictField(allow_null=True)
    alternative = serializers.DictField(allow_null=True)


class CompareOutputSerializer(serializers.Serializer):
    results = EvaluationOutputSerializer(many=True)


class VersionSummarySerializer(serializers.Serializer):
    version = serializers.CharField()
    effective_from = serializers.DateField()
    effective_from_approximate = serializers.BooleanField()
    effective_to = serializers.DateField(allow_null=True)
    content_hash = serializers.CharField()


class RuleSetSummarySerializer(serializers.Serializer):
    id = serializers.CharField()
    title = serializers.CharField()
    issuer = serializers.CharField()
    doc_number = serializers.CharField(allow_null=True)
    jurisdiction = serializers.CharField()
    example = serializers.BooleanField()
    versions = VersionSummarySerializer(many=True)


class RuleSetDetailSerializer(RuleSetSummarySerializer):
    versions = serializers.ListField(child=serializers.DictField(), help_text="每个版本的完整内容（含条款）")
