"""Stored evaluations made under the removed, invented zhangjiakou@2023 move to zhangjiakou@2019."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from cases.models import Case
from rules.engine import evaluate_version
from rules.loader import registry, version_from_snapshot
from tests.factories import answer_consultations
from workflow.history import history_verify
from workflow.management.commands.rules_migrate_invented_versions import findings_from_trace
from workflow.models import Decision, HistoryEntry, PinnedRuleSet, Proposal
from workflow.selectors import decision_reproduce

from .helpers import act, create_case, findings_for, meeting, record_findings

pytestmark = pytest.mark.django_db


def _invented_version():
    """What the removed file zhangjiakou-2023.yaml held: the 2019 clauses with a raised loss threshold."""
    snapshot = registry().version("zhangjiakou", "2019").snapshot()
    snapshot.update(version="2023", effective_from="2023-01-01", effective_to=None)
    snapshot["parameters"]["major_loss_threshold"]["value"] = 1_000_000.0
    return version_from_snapshot(snapshot)


def _as_stored_under_the_invented_version(case_id: int) -> None:
    """Rewrite a case's stored evaluations the way the system wrote them while zhangjiakou@2023 shipped."""
    old = _invented_version()
    PinnedRuleSet.objects.get_or_create(
        content_hash=old.content_hash,
        defaults={"ruleset": "zhangjiakou", "version": "2023", "snapshot": old.snapshot()},
    )
    for d in Decision.objects.filter(case_id=case_id):
        ev = evaluate_version(old, d.inputs["findings"], d.inputs["facts"], conduct_date=d.evaluation["conduct_date"])
        Decision.objects.filter(pk=d.pk).update(
            evaluation=ev.to_dict(), ruleset_version="2023", ruleset_hash=old.content_hash
        )
    for p in Proposal.objects.filter(case_id=case_id):
        ev = evaluate_version(old, findings_from_trace(p.evaluation), p.evaluation["facts"],
                              conduct_date=p.evaluation["conduct_date"])
        Proposal.objects.filter(pk=p.pk).update(evaluation=ev.to_dict())


def _decided_case(api, world, *, loss: int | None = None, drop: tuple[str, ...] = (), outcome: str = "exempt",
                  override_reason: str = "") -> int:
    case = create_case(api, world)
    assert act(api("inspector"), case["id"], "investigate").status_code == 200
    if loss is not None:
        Case.objects.filter(pk=case["id"]).update(loss_amount=Decimal(loss))
    findings = {k: v for k, v in findings_for(case, tolerable=True).items() if k not in drop}
    record_findings(api, case, findings)
    r = act(api("inspector"), case["id"], "propose", {"recommended_outcome": outcome, "opinion": "建议意见。"})
    assert r.status_code == 200, r.json()
    answer_consultations(Case.objects.get(pk=case["id"]))
    r = act(api("committee"), case["id"], "decide",
            {"outcome": outcome, "resolution": "决定。", "override_reason": override_reason, **meeting()})
    assert r.status_code == 200, r.json()
    _as_stored_under_the_invented_version(case["id"])
    return case["id"]


def _run() -> str:
    out = StringIO()
    call_command("rules_migrate_invented_versions", stdout=out)
    return out.getvalue()


def test_decision_and_proposal_move_to_the_real_version_with_one_history_entry(api, world):
    case_id = _decided_case(api, world)
    before = HistoryEntry.objects.filter(case_id=case_id).count()
    revision = Case.objects.get(pk=case_id).revision

    output = _run()

    decision = Decision.objects.get(case_id=case_id)
    assert decision.ruleset_version == "2019"
    assert decision.evaluation["version"] == "2019"
    assert decision.evaluation["verdict"] == "tolerable"
    assert decision.outcome == "exempt"
    assert decision.ruleset_hash == registry().version("zhangjiakou", "2019").content_hash
    assert PinnedRuleSet.objects.filter(content_hash=decision.ruleset_hash).exists()
    ok, message = decision_reproduce(decision)
    assert ok, message
    assert Proposal.objects.get(case_id=case_id).evaluation["version"] == "2019"

    entries = list(HistoryEntry.objects.filter(case_id=case_id).order_by("id")[before:])
    assert len(entries) == 1
    entry = entries[0]
    assert (entry.action, entry.role, entry.via, entry.actor_id) == ("ruleset_migrate", "system", "command", None)
    assert "zhangjiakou@2023" in entry.reason and "无文件依据" in entry.reason
    assert entry.changes["decisions"][0]["from"] == "zhangjiakou@2023"
    assert entry.changes["decisions"][0]["to"] == "zhangjiakou@2019"
    assert entry.changes["review"] == []
    assert Case.objects.get(pk=case_id).revision == revision + 1
    assert history_verify().ok
    assert "已迁移 1 件案件" in output

    # Idempotent: nothing left under the invented version, so a second run changes nothing.
    again = _run()
    assert "已迁移 0 件案件" in again
    assert HistoryEntry.objects.filter(case_id=case_id).count() == before + 1
    assert Decision.objects.get(case_id=case_id).evaluation == decision.evaluation


def test_a_verdict_the_real_version_changes_is_flagged_for_review_and_the_outcome_is_kept(api, world):
    # 800,000 元 with P6 left to the data: under the invented threshold (1,000,000) P6 stays open
    # (undetermined); under the configured 500,000 it is derived not met (not tolerable).
    case_id = _decided_case(api, world, loss=800_000, drop=("zhangjiakou.P6",),
                            override_reason="党委综合研判，认为损失已基本挽回。")
    assert Decision.objects.get(case_id=case_id).evaluation["verdict"] == "undetermined"

    output = _run()

    decision = Decision.objects.get(case_id=case_id)
    assert decision.evaluation["verdict"] == "not_tolerable"
    assert decision.outcome == "exempt"
    entry = HistoryEntry.objects.filter(case_id=case_id, action="ruleset_migrate").get()
    assert entry.changes["review"] == [decision.pk]
    assert "须由党委复核" in entry.reason
    assert "须由党委复核" in output


def test_dry_run_changes_nothing(api, world):
    case_id = _decided_case(api, world)
    before = HistoryEntry.objects.count()
    out = StringIO()
    call_command("rules_migrate_invented_versions", "--dry-run", stdout=out)
    assert "将迁移 1 件案件" in out.getvalue()
    assert Decision.objects.get(case_id=case_id).ruleset_version == "2023"
    assert HistoryEntry.objects.count() == before
