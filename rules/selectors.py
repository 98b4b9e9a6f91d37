"""Read-only views of the registry and the provision map, shaped for the API and pages."""

from __future__ import annotations

from typing import Any

from rules.definitions import KIND_LABELS, KIND_RULES, KINDS, Clause, RuleSetFamily, RuleSetVersion
from rules.provision_map import ProvisionMap, provision_maps, squeeze
from rules.registry import Registry


def version_summary(v: RuleSetVersion) -> dict[str, Any]:
    return {
        "version": v.version,
        "effective_from": v.effective_from.isoformat(),
        "effective_from_approximate": v.effective_from_approximate,
        "effective_to": v.effective_to.isoformat() if v.effective_to else None,
        "content_hash": v.content_hash,
    }


def family_summary(family: RuleSetFamily) -> dict[str, Any]:
    latest = family.latest
    return {
        "id": family.id,
        "title": latest.title,
        "issuer": latest.issuer,
        "doc_number": latest.doc_number,
        "jurisdiction": latest.jurisdiction,
        "example": latest.example,
        "versions": [version_summary(v) for v in family.versions],
    }


def family_detail(family: RuleSetFamily) -> dict[str, Any]:
    data = family_summary(family)
    data["versions"] = [{**v.snapshot(), "content_hash": v.content_hash} for v in family.versions]
    return data


def clauses_by_kind(version: RuleSetVersion) -> list[dict[str, Any]]:
    """Clauses grouped P, S, X, R, M, each top-level clause with its parts and requirements."""
    groups = []
    for kind in KINDS:
        items = []
        for clause in version.of_kind(kind):
            items.append(
                {
                    "clause": clause,
                    "parts": version.parts_of(clause.id),
                    "requirements": version.requirements_for(clause.id) if kind == "S" else [],
                }
            )
        if items:
            groups.append(
                {"kind": kind, "label": KIND_LABELS[kind], "rule": KIND_RULES[kind], "items": items}
            )
    return groups


def clause_locations(reg: Registry) -> dict[str, tuple[str, Clause]]:
    """Each clause id → the rule set whose page shows it as its own, and the clause (current version)."""
    out: dict[str, tuple[str, Clause]] = {}
    for family in reg.families():
        for clause in family.latest.clauses:
            if clause.ruleset == family.id:
                out.setdefault(clause.id, (family.id, clause))
    return out


def provision_map_for(key: str) -> ProvisionMap | None:
    return next((m for m in provision_maps() if m.key == key), None)


def provision_maps_of(ruleset_id: str) -> list[ProvisionMap]:
    """The maps of the documents a rule set encodes (Zhejiang's report serves both its rule sets)."""
    return [m for m in provision_maps() if ruleset_id in m.ruleset]


def provision_rows(pmap: ProvisionMap, reg: Registry) -> list[dict[str, Any]]:
    """The map of one document, article by article, with each clause located in the rule browser."""
    where = clause_locations(reg)
    rows = []
    for p in pmap.provisions:
        clauses = []
        for cid in p.clauses:
            ruleset_id, clause = where.get(cid, (None, None))
            clauses.append({"id": cid, "ruleset": ruleset_id, "title": clause.title if clause else ""})
        # The excerpt is what the map's check finds in the text; shown when it is not the whole text.
        whole = squeeze(p.excerpt) == squeeze(p.text)
        rows.append({"provision": p, "clauses": clauses, "excerpt_is_text": whole})
    return rows
