"""Benchmark of the rule engine (not a timed test).

Prints evaluations per second on one core, and the time to re-evaluate 100,000 stored findings
sets after a rule-set change (rows stored as JSON in an in-memory SQLite table, read back and
evaluated under the new version of the fixture rule set ``tests/rules/fixtures/versions``). Run: ``.venv/bin/python benchmarks/bench_rules.py``.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rules.engine import evaluate, evaluate_version  # noqa: E402
from rules.loader import load_registry, registry  # noqa: E402

STORED = 100_000
# Two versions of the invented fixture rule set: no policy document establishes a second version of a real one.
FIXTURE_VERSIONS = Path(__file__).resolve().parent.parent / "tests" / "rules" / "fixtures" / "versions"
STATUSES = ("met", "met", "met", "not_met", "unknown")


def random_case(rng: random.Random, version) -> dict:
    """Findings shaped like real cases: most prerequisites met, a few situations, exclusions mostly not met."""
    findings = {}
    for clause in version.clauses:
        if clause.parts:
            continue
        roll = rng.random()
        if clause.kind in ("P", "R"):
            findings[clause.id] = "met" if roll < 0.85 else rng.choice(("not_met", "unknown"))
        elif clause.kind == "X":
            findings[clause.id] = "not_met" if roll < 0.9 else rng.choice(("met", "unknown"))
        elif roll < 0.6:
            findings[clause.id] = rng.choice(STATUSES)
        if clause.derive is not None and clause.id in findings:
            # Attesting against derived data needs a recorded reason, as an investigator would give.
            findings[clause.id] = {"status": findings[clause.id], "reasoning": "调查核实", "by": "调查组"}
    facts = {
        "loss_amount": rng.choice((0, 20_000, 300_000, 800_000, 2_000_000)),
        "disposition": rng.choice((None, "first", "second", "third")),
        "prior_same_matter": [] if rng.random() < 0.9 else [{"case": "前案", "date": "2018-01-01"}],
    }
    return {"findings": findings, "facts": facts}


def bench_throughput(seconds: float = 3.0) -> None:
    reg = registry()
    rng = random.Random(1)
    samples = []
    for rid, date in (
        ("zhangjiakou", "2020-06-01"),
        ("henan", "2020-06-01"),
        ("hohhot", "2020-06-01"),
        ("zhangjiagang", "2020-06-01"),
    ):
        version = reg.version_for(rid, date)
        samples.extend((rid, date, random_case(rng, version)) for _ in range(500))
    rng.shuffle(samples)
    verdicts = {"tolerable": 0, "not_tolerable": 0, "undetermined": 0}
    for rid, date, case in samples[:200]:  # warm up (compiles each version once)
        evaluate(rid, case["findings"], date, facts=case["facts"])
    count = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        for rid, date, case in samples:
            ev = evaluate(rid, case["findings"], date, facts=case["facts"])
            verdicts[ev.verdict] += 1
        count += len(samples)
    elapsed = time.perf_counter() - start
    print(
        f"evaluate():            {count / elapsed:10,.0f} evaluations/s on one core "
        f"({count:,} in {elapsed:.2f} s; mix {verdicts})"
    )

    count = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        for rid, date, case in samples[:500]:
            evaluate(rid, case["findings"], date, facts=case["facts"]).to_dict()
        count += 500
    elapsed = time.perf_counter() - start
    print(
        f"evaluate()+to_dict():  {count / elapsed:10,.0f} evaluations/s on one core (with full trace as JSON-able dict)"
    )


def bench_reevaluate() -> None:
    reg = load_registry(FIXTURE_VERSIONS)
    old = reg.version("testland", "1")
    new = reg.version("testland", "2")
    rng = random.Random(2)
    db = sqlite3.connect(":memory:")
    db.execute(
        "CREATE TABLE evaluation (id INTEGER PRIMARY KEY, conduct_date TEXT, payload TEXT, verdict TEXT)"
    )
    start = time.perf_counter()
    rows = []
    for i in range(STORED):
        case = random_case(rng, old)
        ev = evaluate_version(old, case["findings"], case["facts"], conduct_date="2022-06-01")
        rows.append((i, "2022-06-01", json.dumps(case, ensure_ascii=False), ev.verdict))
    db.executemany("INSERT INTO evaluation VALUES (?, ?, ?, ?)", rows)
    db.commit()
    print(
        f"stored {STORED:,} evaluations (generate + evaluate + insert) in {time.perf_counter() - start:.2f} s"
    )

    start = time.perf_counter()
    changed = 0
    for _id, conduct, payload, verdict in db.execute(
        "SELECT id, conduct_date, payload, verdict FROM evaluation"
    ):
        case = json.loads(payload)
        ev = evaluate_version(new, case["findings"], case["facts"], conduct_date=conduct)
        changed += ev.verdict != verdict
    elapsed = time.perf_counter() - start
    print(
        f"re-evaluated {STORED:,} stored findings sets under the fixture testland@2 in {elapsed:.2f} s "
        f"({STORED / elapsed:,.0f}/s, read + json.loads + evaluate); {changed:,} verdicts changed"
    )


if __name__ == "__main__":
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    print(f"Python {sys.version.split()[0]}")
    bench_throughput()
    bench_reevaluate()
