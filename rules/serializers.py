"""Input validation and documented output shapes for the rules API."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from rules.definitions import (
    ANSWER_VALUES,
    DERIVATION_SOURCES,
    DISPOSITIONS,
    KINDS,
    MEASURES,
    OUTCOMES,
    STATUSES,
    VERDICTS,
)
from rules.temporal import EARLIER_CONDUCT

_ENUM_FIELDS: dict[str, type[serializers.ChoiceField]] = {}


def _enum(name: str, values: Any, **kwargs: Any) -> serializers.ChoiceField:
    """A choice field whose codes (met, tolerable, P…) are one named schema component, ``Rules<name>``.

    Left to drf-spectacular, each enum is named after its field, and the same field names (``status``,
    ``kind``) carry other choice sets elsewhere in the API. One class per name: the component's identity.
    """
    choices = list(values)
    if name not in _ENUM_FIELDS:
        _ENUM_FIELDS[name] = extend_schema_field(
            {"type": "string", "enum": choices}, component_name=f"Rules{name}"
        )(type(f"Rules{name}Field", (serializers.ChoiceField,), {}))
    return _ENUM_FIELDS[name](choices=choices, **kwargs)


class PriorCaseSerializer(serializers.Serializer):
    case = serializers.CharField(help_text="前案编号")
    date = serializers.DateField(help_text="前案的行为日期")
    measure = serializers.ChoiceField(
        choices=list(MEASURES),
        required=False,
        allow_null=True,
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


class SourceAttestedSerializer(serializers.Serializer):
    status = _enum("ClauseStatus", STATUSES)
    by = serializers.CharField(allow_null=True, help_text="认定人")
    reasoning = serializers.CharField(allow_null=True, help_text="认定理由")


class SourceDerivedSerializer(serializers.Serializer):
    status = _enum("ClauseStatus", STATUSES)
    # ``from`` is a Python keyword: declared under another name, renamed in ``__init__``.
    from_ = _enum(
        "DerivationSource",
        DERIVATION_SOURCES,
        allow_null=True,
        help_text="派生所据的数据（见 rules/definitions.py）",
    )
    basis = serializers.CharField(help_text="派生的依据，用文字说明")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["from"] = self.fields.pop("from_")


class SourceAnswerSerializer(serializers.Serializer):
    question = serializers.CharField(help_text="共同问题编号")
    answer = _enum("Answer", ANSWER_VALUES)


class SourceSerializer(serializers.Serializer):
    type = _enum(
        "StatusSource",
        ["none", "attested", "derived", "answers", "parts", "attested_and_derived", "attested_over_derived"],
        help_text="条款状态的来源",
    )
    label = serializers.CharField(help_text="来源的文字说明")
    attested = SourceAttestedSerializer(allow_null=True)
    derived = SourceDerivedSerializer(allow_null=True)
    answers = SourceAnswerSerializer(many=True, allow_null=True)


class CorrectionSerializer(serializers.Serializer):
    original = serializers.CharField(help_text="原文所印的字")
    corrected = serializers.CharField(help_text="更正后的字")
    note = serializers.CharField(allow_blank=True)


class TraceItemSerializer(serializers.Serializer):
    clause = serializers.CharField()
    kind = _enum("ClauseKind", KINDS)
    kind_label = serializers.CharField()
    parent = serializers.CharField(allow_null=True, help_text="复合条款的分项所属的条款")
    applies_to = serializers.CharField(allow_null=True, help_text="程序要求（R）所附的容错情形")
    title = serializers.CharField()
    status = _enum("ClauseStatus", STATUSES)
    status_label = serializers.CharField(help_text="符合 / 不符合 / 待查明")
    source = SourceSerializer()
    citation = serializers.CharField(allow_blank=True, help_text="出处：所引文件及条目")
    text = serializers.CharField()
    verbatim = serializers.BooleanField(help_text="text 是否逐字引自文件")
    example = serializers.BooleanField(help_text="示例条款（非任何文件的原有条目）")
    default_rule = serializers.CharField(allow_null=True, help_text="文件表述为原则性规定时的原话")
    corrections = CorrectionSerializer(many=True, help_text="原文错字的更正")
    note = serializers.CharField(allow_blank=True)


class MissingSerializer(serializers.Serializer):
    clause = serializers.CharField()
    kind = _enum("ClauseKind", KINDS)
    title = serializers.CharField()
    parent = serializers.CharField(allow_null=True)
    if_met = _enum("Verdict", VERDICTS, help_text="仅此条认定符合时的结论")
    if_not_met = _enum("Verdict", VERDICTS, help_text="仅此条认定不符合时的结论")
    effect = serializers.CharField()


class DefaultRuleSerializer(serializers.Serializer):
    clauses = serializers.ListField(child=serializers.CharField(), help_text="所依据的原则性条款")
    basis = serializers.ListField(child=serializers.CharField(), help_text="文件原话")
    only = serializers.BooleanField(help_text="不予容错是否仅依据这些条款")


class VersionChoiceSerializer(serializers.Serializer):
    principle = _enum("VersionPrinciple", ["从旧兼从轻", EARLIER_CONDUCT])
    conduct_version = serializers.CharField(
        allow_null=True, help_text="行为时施行的版本；行为早于第一个版本时为 null"
    )
    decision_version = serializers.CharField(help_text="决定时施行的版本")
    conduct_verdict = _enum("Verdict", VERDICTS, required=False, help_text="仅从旧兼从轻")
    decision_verdict = _enum("Verdict", VERDICTS, required=False, help_text="仅从旧兼从轻")
    applied = serializers.CharField(help_text="所适用的版本")
    basis = serializers.CharField(required=False, help_text="仅施行前的行为：该版本适用于施行前行为的依据")
    explanation = serializers.CharField(help_text="选择版本的理由，供页面显示")


class PriorCaseOutputSerializer(serializers.Serializer):
    case = serializers.CharField(allow_blank=True)
    date = serializers.DateField()
    measure = _enum("Measure", MEASURES, allow_null=True)
    measure_date = serializers.DateField(allow_null=True)


class FactsOutputSerializer(serializers.Serializer):
    loss_amount = serializers.FloatField(allow_null=True)
    disposition = _enum("Disposition", DISPOSITIONS, allow_null=True)
    prior_same_matter = PriorCaseOutputSerializer(many=True, allow_null=True)


class ParameterSerializer(serializers.Serializer):
    value = serializers.FloatField()
    unit = serializers.CharField(allow_blank=True)
    note = serializers.CharField(allow_blank=True, help_text="配置说明（文件未规定的数额）")


class _EvaluationFields(serializers.Serializer):
    """The keys of ``Evaluation.to_dict()`` but ``alternative``."""

    ruleset = serializers.CharField()
    version = serializers.CharField()
    title = serializers.CharField()
    doc_number = serializers.CharField(allow_null=True, help_text="发文字号；文中未载为 null")
    content_hash = serializers.CharField()
    engine_version = serializers.CharField()
    conduct_date = serializers.DateField(allow_null=True)
    verdict = _enum("Verdict", VERDICTS)
    verdict_label = serializers.CharField(help_text="予以容错 / 不予容错 / 尚不能认定")
    outcomes = serializers.ListField(child=_enum("Outcome", OUTCOMES))
    outcome_labels = serializers.ListField(child=serializers.CharField())
    decisive = serializers.ListField(child=serializers.CharField())
    missing = MissingSerializer(many=True)
    mitigation = serializers.ListField(child=serializers.CharField())
    rests_on_default = serializers.BooleanField(
        help_text="不予容错仅依据文件表述为“一般”“原则上”的条款：决定机关可说明理由后作出不同决定"
    )
    default_rule = DefaultRuleSerializer(allow_null=True)
    summary = serializers.CharField()
    trace = TraceItemSerializer(many=True)
    facts = FactsOutputSerializer(allow_null=True, help_text="评估所用的事实；只给认定时为 null")
    parameters = serializers.DictField(
        child=ParameterSerializer(), help_text="参数名 → 配置（如 major_loss_threshold）"
    )
    ignored_findings = serializers.ListField(
        child=serializers.CharField(), help_text="本版本没有的条款的认定，未采用"
    )
    version_choice = VersionChoiceSerializer(allow_null=True)


class AlternativeEvaluationSerializer(_EvaluationFields):
    """The other version's evaluation under 从旧兼从轻: it has no choice or alternative of its own."""

    alternative = serializers.DictField(allow_null=True, help_text="始终为 null")


class EvaluationOutputSerializer(_EvaluationFields):
    alternative = AlternativeEvaluationSerializer(
        allow_null=True, help_text="从旧兼从轻时未适用的另一版本的评估"
    )


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
