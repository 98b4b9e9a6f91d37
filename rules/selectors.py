"""Read-only views of the registry shaped for the API and pages."""

from __future__ import annotations

from typing import Any

from rules.definitions import KIND_LABELS, KIND_RULES, KINDS, RuleSetFamily, RuleSetVersion


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
