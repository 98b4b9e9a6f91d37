"""Properties that must hold for any findings: exclusions bite; fewer findings never flip a verdict."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from rules.engine import evaluate_version
from rules.loader import registry

VERSIONS = [v for f in registry().families() for v in f.versions]
STATUS = st.sampled_from(["met", "not_met", "unknown"])


def _attestable(version):
    # A compound clause is attested through its parts (attesting both is refused).
    return [c.id for c in version.clauses if not c.parts]


@st.composite
def version_and_findings(draw, versions=VERSIONS):
    version = draw(st.sampled_from(versions))
    ids = _attestable(version)
    findings = draw(st.dictionaries(st.sampled_from(ids), STATUS, max_size=len(ids)))
    return version, findings


WITH_EXCLUSIONS = [v for v in VERSIONS if v.exclusions()]


@settings(max_examples=300, deadline=None)
@given(version_and_findings(WITH_EXCLUSIONS), st.data())
def test_met_exclusion_always_gives_not_tolerable(vf, data):
    version, findings = vf
    exclusions = [c.id for c in version.clauses if c.kind == "X" and not c.parts]
    chosen = data.draw(st.sampled_from(exclusions))
    findings = {**findings, chosen: "met"}
    ev = evaluate_version(version, findings)
    assert ev.verdict == "not_tolerable"
    assert chosen in ev.decisive
    assert ev.missing == []


@settings(max_examples=300, deadline=None)
@given(version_and_findings(), st.data())
def test_removing_findings_never_flips_a_decided_verdict(vf, data):
    version, findings = vf
    before = evaluate_version(version, findings).verdict
    keep = data.draw(st.sets(st.sampled_from(sorted(findings)))) if findings else set()
    after = evaluate_version(version, {k: v for k, v in findings.items() if k in keep}).verdict
    if before != after:
        assert after == "undetermined", f"{before} 变为 {after}"


@settings(max_examples=200, deadline=None)
@given(version_and_findings())
def test_missing_clauses_are_unknown_and_could_change_the_verdict(vf):
    version, findings = vf
    ev = evaluate_version(version, findings)
    if ev.verdict != "undetermined":
        assert ev.missing == []
        return
    assert ev.missing, "尚不能认定时必须说明缺哪些认定"
    for item in ev.missing:
        assert ev.status(item["clause"]) == "unknown"
