"""Driving cases through the API the way integrators do."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from rules.loader import registry

TODAY = timezone.localdate


def conduct_date() -> str:
    return (timezone.localdate() - dt.timedelta(days=40)).isoformat()


def create_case(api, world, *, subject: str = "cadre", title: str = "环境执法先行查封被问责") -> dict[str, Any]:
    response = api("inspector").post("/api/cases/", {
        "title": title,
        "subject": world.people[subject].pk,
        "accountability_org": world.orgs["zjk_dc"].pk,
        "ruleset": "zhangjiakou",
        "conduct_date": conduct_date(),
        "matter_category": "environment",
        "summary": "督察期间对偷排企业先行查封，审批手续后补。",
    }, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def act(client, case_id: int, action: str, payload: dict[str, Any] | None = None):
    return client.post(f"/api/cases/{case_id}/actions/{action}/", payload or {}, format="json")


def findings_for(case: dict[str, Any], *, tolerable: bool) -> dict[str, str]:
    version = registry().version_for(case["ruleset"], dt.date.fromisoformat(case["conduct_date"]))
    findings = {c.id: "met" for c in version.prerequisites()}
    findings.update({c.id: "not_met" for c in version.exclusions()})
    situations = version.situations()
    if tolerable:
        findings[situations[0].id] = "met"
        findings.update({r.id: "met" for r in version.requirements_for(situations[0].id)})
    else:
        findings.update({s.id: "not_met" for s in situations})
    return findings


def record_findings(api, case: dict[str, Any], findings: dict[str, str]) -> None:
    client = api("inspector")
    for clause_id, status in findings.items():
        r = client.put(f"/api/cases/{case['id']}/findings/{clause_id}/",
                       {"status": status, "reasoning": "调取会议纪要与现场记录核实。"}, format="json")
        assert r.status_code == 200, r.json()


MEETING = {"meeting_kind": "standing", "members_present": 9, "members_total": 11}


def meeting() -> dict[str, Any]:
    return {**MEETING, "meeting_date": timezone.localdate().isoformat()}


def drive_to_proposed(api, world, *, tolerable: bool = True, subject: str = "cadre",
                      answered: bool = True) -> dict[str, Any]:
    """A proposed case; ``answered``: the organisation department has replied, so the committee may decide."""
    case = create_case(api, world, subject=subject)
    assert act(api("inspector"), case["id"], "investigate").status_code == 200
    record_findings(api, case, findings_for(case, tolerable=tolerable))
    r = act(api("inspector"), case["id"], "propose", {
        "recommended_outcome": "exempt" if tolerable else "refused", "opinion": "建议意见。"})
    assert r.status_code == 200, r.json()
    if answered:
        reply = act(api("orgdept"), r.json()["id"], "consult_reply", {"opinion": "agree", "comment": "同意。"})
        assert reply.status_code == 200, reply.json()
        return reply.json()
    return r.json()
