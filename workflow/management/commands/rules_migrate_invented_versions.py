"""Move stored evaluations made under a rule-set version no document establishes to the real one.

``zhangjiakou@2023`` was a configuration change (the loss threshold) dressed up as a version; it has
been removed from the rule files. Decisions and proposals that were evaluated under it (or that
compared against it under 从旧兼从轻) are re-evaluated from their stored findings and facts under the
version now in force, with one history entry per case. Running it again changes nothing.

The committee's outcome is never changed here: when the re-evaluation no longer supports the
recorded outcome, the case is listed (and the history entry says so) for the committee to review.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from cases.models import Case
from rules.engine import Evaluation, evaluate
from rules.errors import RuleError
from workflow.history import Actor, history_append
from workflow.models import HistoryAction, PinnedRuleSet

# label -> why it is not a version: no document in the policies folder establishes it.
INVENTED_VERSIONS: dict[str, str] = {
    "zhangjiakou@2023": "无文件依据：仅把系统配置的重大损失数额由 50 万元调为 100 万元，条文与 zhangjiakou@2019 相同",
}
ACTION = HistoryAction.RULESET_MIGRATE
SYSTEM = Actor(user=None, role="system", via="command")


def labels_in(evaluation: dict[str, Any] | None) -> set[str]:
    """Every ``ruleset@version`` a stored evaluation was made under or compared against."""
    if not evaluation:
        return set()
    ruleset = str(evaluation.get("ruleset", ""))
    found = {f"{ruleset}@{evaluation.get('version', '')}"}
    choice = evaluation.get("version_choice") or {}
    for key in ("conduct_version", "decision_version", "applied"):
        if choice.get(key):
            found.add(f"{ruleset}@{choice[key]}")
    found |= labels_in(evaluation.get("alternative"))
    return found


def findings_from_trace(evaluation: dict[str, Any]) -> dict[str, Any]:
    """The attested findings recorded in a stored trace (a proposal keeps no separate inputs)."""
    findings: dict[str, Any] = {}
    for item in evaluation.get("trace") or []:
        attested = (item.get("source") or {}).get("attested")
        if attested:
            findings[item["clause"]] = {
                "status": attested["status"],
                "reasoning": attested.get("reasoning") or "",
                "by": attested.get("by") or "",
            }
    return findings


def _re_evaluate(case: Case, evaluation: dict[str, Any], inputs: dict[str, Any] | None, on: dt.date) -> Evaluation:
    inputs = inputs or {}
    findings = inputs.get("findings") or findings_from_trace(evaluation)
    facts = inputs.get("facts") if inputs.get("facts") is not None else evaluation.get("facts")
    conduct = evaluation.get("conduct_date") or case.conduct_date
    return evaluate(case.ruleset, findings, conduct, facts=facts, decision_date=on)


def _affected(labels: set[str]) -> set[str]:
    return labels & set(INVENTED_VERSIONS)


def case_migrate(*, case_id: int, dry_run: bool = False) -> dict[str, Any] | None:
    """Re-evaluate one case's stored evaluations made under an invented version; ``None`` if none."""
    with transaction.atomic():
        case = Case.objects.select_for_update(of=("self",)).filter(pk=case_id).first()
        if case is None:
            return None
        decisions = [d for d in case.decisions.order_by("sequence") if _affected(labels_in(d.evaluation))]
        proposals = [p for p in case.proposals.order_by("round") if _affected(labels_in(p.evaluation))]
        if not decisions and not proposals:
            return None
        invented: set[str] = set()
        report: dict[str, Any] = {"case": case.reference, "decisions": [], "proposals": [], "review": []}
        for decision in decisions:
            invented |= _affected(labels_in(decision.evaluation))
            on = timezone.localtime(decision.decided_at).date()
            result = _re_evaluate(case, decision.evaluation, decision.inputs, on)
            new = result.to_dict()
            # The committee may have departed from the evaluation (with a recorded reason); only a
            # changed verdict that no longer allows the recorded outcome needs the committee again.
            supported = new["verdict"] == decision.evaluation.get("verdict") or decision.outcome in (
                new.get("outcomes") or []
            )
            report["decisions"].append({
                "decision": decision.pk,
                "from": f"{new['ruleset']}@{decision.evaluation.get('version')}",
                "to": f"{new['ruleset']}@{new['version']}",
                "verdict_before": decision.evaluation.get("verdict"),
                "verdict_after": new["verdict"],
                "outcome": decision.outcome,
                "outcome_supported": supported,
            })
            if not supported:
                report["review"].append(decision.pk)
            if dry_run:
                continue
            PinnedRuleSet.objects.get_or_create(
                content_hash=result.version.content_hash,
                defaults={"ruleset": result.version.id, "version": result.version.version,
                          "snapshot": result.version.snapshot()},
            )
            decision.evaluation = new
            decision.ruleset_version = str(new["version"])
            decision.ruleset_hash = str(new["content_hash"])
            decision.engine_version = str(new["engine_version"])
            decision.save(update_fields=["evaluation", "ruleset_version", "ruleset_hash", "engine_version"])
        for proposal in proposals:
            invented |= _affected(labels_in(proposal.evaluation))
            on = timezone.localtime(proposal.proposed_at).date()
            new = _re_evaluate(case, proposal.evaluation, None, on).to_dict()
            report["proposals"].append({
                "proposal": proposal.pk,
                "round": proposal.round,
                "verdict_before": proposal.evaluation.get("verdict"),
                "verdict_after": new["verdict"],
            })
            if dry_run:
                continue
            proposal.evaluation = new
            proposal.save(update_fields=["evaluation"])
        report["invented"] = sorted(invented)
        if dry_run:
            transaction.set_rollback(True)
            return report
        Case.objects.filter(pk=case.pk).update(revision=F("revision") + 1, updated_at=timezone.now())
        reason = "；".join(f"{label}：{INVENTED_VERSIONS[label]}" for label in sorted(invented))
        reason += "。已按现行有效的规则版本重新评估所存评估，党委的决定结论未改动"
        if report["review"]:
            reason += "；重新评估后的结论不再支持所记录的决定结论，须由党委复核"
        history_append(
            case_id=case.pk, actor=SYSTEM, action=ACTION, from_state=case.state, to_state=case.state,
            reason=reason + "。",
            changes={k: report[k] for k in ("invented", "decisions", "proposals", "review")},
        )
        return report


class Command(BaseCommand):
    help = "把按无文件依据的规则版本（如 zhangjiakou@2023）作出的评估迁移到现行有效的版本，逐案记入操作记录；可重复运行。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="只列出将被迁移的案件，不作改动")

    def handle(self, *args: Any, **options: Any) -> None:
        dry_run = bool(options.get("dry_run"))
        rulesets = {label.split("@", 1)[0] for label in INVENTED_VERSIONS}
        migrated = review = failed = 0
        for case_id in Case.objects.filter(ruleset__in=rulesets).order_by("id").values_list("id", flat=True):
            try:
                report = case_migrate(case_id=case_id, dry_run=dry_run)
            except RuleError as exc:
                failed += 1
                self.stderr.write(f"案件 #{case_id} 未迁移：{exc}")
                continue
            if report is None:
                continue
            migrated += 1
            moves = "、".join(f"决定#{d['decision']} {d['from']}→{d['to']}（{d['verdict_before']}→{d['verdict_after']}）"
                             for d in report["decisions"]) or "仅初步建议"
            self.stdout.write(f"{report['case']}：{moves}")
            if report["decisions"] and not dry_run:
                self.stdout.write(f"  {report['case']}：已生成的文书仍印有原版本号，请在案件的文书页重新生成")
            if report["review"]:
                review += 1
                self.stdout.write(self.style.WARNING(
                    f"  {report['case']}：重新评估不再支持决定结论，须由党委复核"))
        verb = "将迁移" if dry_run else "已迁移"
        self.stdout.write(self.style.SUCCESS(f"{verb} {migrated} 件案件，其中 {review} 件须复核，{failed} 件失败。"))
        if failed:
            raise SystemExit(1)
