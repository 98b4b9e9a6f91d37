"""Snapshots: rebuilding a rule-set version from the plain data ``RuleSetVersion.snapshot()`` stored.

Owns ``version_from_snapshot``. A decision stores the snapshot of the version it used once per
content hash, so the evaluation can be re-run exactly after the rule file has changed or gone.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from rules.definitions import Clause, Correction, Derivation, Parameter, RuleSetVersion, content_hash_of
from rules.errors import PinMismatchError


def _clause(c: dict[str, Any]) -> Clause:
    derive = c.get("derive")
    return Clause(
        id=c["id"],
        kind=c["kind"],
        title=c["title"],
        text=c["text"],
        citation=c["citation"],
        establish=c["establish"],
        ruleset=c["ruleset"],
        parent=c["parent"],
        applies_to=c["applies_to"],
        parts=tuple(c["parts"]),
        combine=c.get("combine", "all"),
        derive=Derivation(derive["from"], derive["if_true"], derive["if_false"]) if derive else None,
        answers=tuple(sorted((q, tuple(sorted(m.items()))) for q, m in c["answers"].items())),
        verbatim=c["verbatim"],
        corrections=tuple(Correction(x["original"], x["corrected"], x["note"]) for x in c["corrections"]),
        note=c["note"],
        example=c["example"],
        # Keys added after the first snapshots were stored: absent means the default.
        source=c.get("source", ""),
        default_rule=c.get("default_rule", ""),
    )


def version_from_snapshot(snapshot: dict[str, Any], *, expected_hash: str | None = None) -> RuleSetVersion:
    """Rebuild a version from a stored snapshot so an old evaluation can be re-run exactly."""
    actual = content_hash_of(snapshot)
    if expected_hash is not None and actual != expected_hash:
        raise PinMismatchError(snapshot.get("id", "?"), snapshot.get("version", "?"), expected_hash, actual)
    version = RuleSetVersion(
        id=snapshot["id"],
        version=snapshot["version"],
        title=snapshot["title"],
        issuer=snapshot["issuer"],
        doc_number=snapshot["doc_number"],
        jurisdiction=snapshot["jurisdiction"],
        effective_from=dt.date.fromisoformat(snapshot["effective_from"]),
        effective_to=dt.date.fromisoformat(snapshot["effective_to"]) if snapshot["effective_to"] else None,
        clauses=tuple(_clause(c) for c in snapshot["clauses"]),
        effective_from_approximate=snapshot["effective_from_approximate"],
        supersedes=snapshot["supersedes"],
        extends=tuple(snapshot["extends"]) if snapshot["extends"] else None,  # type: ignore[arg-type]
        source=snapshot["source"],
        outcomes=tuple(snapshot["outcomes"]),
        outcomes_citation=snapshot["outcomes_citation"],
        parameters={
            name: Parameter(name, p["value"], p["unit"], p["note"])
            for name, p in snapshot["parameters"].items()
        },
        notes=snapshot["notes"],
        example=snapshot["example"],
        governs_earlier_conduct=snapshot.get("governs_earlier_conduct", False),
        earlier_conduct_basis=snapshot.get("earlier_conduct_basis", ""),
        path="(snapshot)",
    )
    if version.content_hash != actual:  # the rebuilt object must hash as the stored data did
        raise PinMismatchError(version.id, version.version, actual, version.content_hash)
    return version
