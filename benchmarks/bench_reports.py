"""Benchmark of document generation (not a timed test).

Measures, on a throw-away test database:
  1. first-document latency of a fresh process (imports, font resolution, first render);
  2. a typical feedback letter rendered warm in one process: time (layout / write), size, documents
     per second per core, and resident memory over many documents (one FontConfiguration reused);
  3. with PostgreSQL and Redis (DATABASE_URL, REDIS_URL): a bulk export of N filing reports (default 500)
     with one Celery worker of two prefork processes, from request to ZIP ready, and the workers' peak memory.

Run: ``DATABASE_URL=postgres://... REDIS_URL=redis://127.0.0.1:6379/1 .venv/bin/python benchmarks/bench_reports.py``
(``--bulk 0`` skips part 3; without REDIS_URL part 3 is skipped).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("MEDIA_ROOT", str(ROOT / "test-artifacts" / "bench-media"))

FIRST_DOC = """
import time, os, sys
t0 = time.perf_counter()
import django
django.setup()
from reports.pdf import render_pdf
from reports.fonts import font_plan
t1 = time.perf_counter()
font_plan()
t2 = time.perf_counter()
html = open(sys.argv[1], encoding="utf-8").read()
render_pdf(html)
t3 = time.perf_counter()
render_pdf(html)
t4 = time.perf_counter()
print(json.dumps({"imports": t1 - t0, "fonts": t2 - t1, "first": t3 - t2, "second": t4 - t3}))
"""


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def proc_peak_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def children_of(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False).stdout
    return [int(p) for p in out.split()]


def seed_decided_case():
    from django.utils import timezone

    from tests.conftest import DEMO_PASSWORD
    from tests.reports.conftest import decide, drive_to_proposed
    from workflow.management.demo.world import demo_world_seed

    world = demo_world_seed(password=DEMO_PASSWORD)
    case = drive_to_proposed(world)
    decision = decide(world, case)
    case.refresh_from_db()
    return world, case, decision, timezone


def clone_cases(case, decision, n: int) -> list[int]:
    """N more decided cases like the seed one (bulk inserts: the bench measures documents, not the workflow)."""
    from cases.models import Case
    from workflow.models import Consultation, Decision, Proposal

    proposal = case.proposals.get()
    consultation = Consultation.objects.get(proposal=proposal)
    clones = [Case(title=f"{case.title}（{i}）", subject_id=case.subject_id, accountability_org_id=case.accountability_org_id,
                   handler_id=case.handler_id, ruleset=case.ruleset, conduct_date=case.conduct_date,
                   matter_category=case.matter_category, summary=case.summary, remedial_measures=case.remedial_measures,
                   loss_amount=case.loss_amount, state=case.state, outcome=case.outcome, decided_at=case.decided_at,
                   decision_date=case.decision_date,
                   created_by_id=case.created_by_id)
              for i in range(n)]
    Case.objects.bulk_create(clones, batch_size=200)
    Case.objects.reference_fill()
    proposals = Proposal.objects.bulk_create([
        Proposal(case=c, round=1, recommended_outcome=proposal.recommended_outcome, opinion=proposal.opinion,
                 evaluation=proposal.evaluation, proposed_by_id=proposal.proposed_by_id) for c in clones], batch_size=200)
    Consultation.objects.bulk_create([
        Consultation(proposal=p, case_id=p.case_id, organisation_id=consultation.organisation_id, opinion=consultation.opinion,
                     comment=consultation.comment, replied_by_id=consultation.replied_by_id,
                     replied_at=consultation.replied_at) for p in proposals], batch_size=200)
    fields = {f.name: getattr(decision, f.attname) for f in Decision._meta.concrete_fields
              if f.name not in ("id", "case", "decided_at")}
    fields["recorded_by_id"] = fields.pop("recorded_by")
    Decision.objects.bulk_create([Decision(case=c, **fields) for c in clones], batch_size=200)
    return [c.pk for c in clones]


def bench_warm(case, runs: int) -> dict:
    from django.db import transaction
    from weasyprint import HTML

    from reports import services
    from reports.contexts import document_context
    from reports.models import Document, DocumentKind
    from reports.pdf import _fetcher, font_configuration, render_html, template_for

    with transaction.atomic():
        doc = services.document_request(case=case, kind=DocumentKind.FEEDBACK, reason="benchmark")
    doc = Document.objects.select_related("case__subject__unit", "issuing_org", "decision").get(pk=doc.pk)
    html = render_html(template_for(doc.kind, case.ruleset), document_context(doc))
    Path(ROOT / "test-artifacts").mkdir(exist_ok=True)
    (ROOT / "test-artifacts" / "bench-letter.html").write_text(html, encoding="utf-8")
    for _ in range(3):  # warm up
        HTML(string=html, base_url="https://static.reports.invalid/", url_fetcher=_fetcher()).write_pdf(
            font_config=font_configuration())
    layout, write, total, sizes, rss = [], [], [], [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        rendered = HTML(string=html, base_url="https://static.reports.invalid/", url_fetcher=_fetcher()).render(
            font_config=font_configuration())
        t1 = time.perf_counter()
        pdf = rendered.write_pdf()
        t2 = time.perf_counter()
        layout.append(t1 - t0)
        write.append(t2 - t1)
        total.append(t2 - t0)
        sizes.append(len(pdf))
        rss.append(rss_mb())
    # The full service path (context from the database, render, store) for comparison.
    t0 = time.perf_counter()
    for _ in range(10):
        services.document_render(doc)
    with_context = (time.perf_counter() - t0) / 10
    return {
        "pages": len(rendered.pages),
        "median_s": statistics.median(total), "p95_s": sorted(total)[int(0.95 * len(total)) - 1],
        "layout_s": statistics.median(layout), "write_s": statistics.median(write),
        "with_context_s": with_context, "size_kb": statistics.median(sizes) / 1024,
        "docs_per_s_per_core": 1 / statistics.median(total),
        "rss_start_mb": rss[0], "rss_end_mb": rss[-1],
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def bench_reference(runs: int) -> float:
    """The same letter with the system Noto CJK fonts only (no compact copies): the setup whose time
    PERFORMANCE.md and the issue quote for a reference machine, so figures here can be scaled to it."""
    import re as regex

    from weasyprint import HTML

    from reports.pdf import _fetcher, font_configuration

    html = (ROOT / "test-artifacts" / "bench-letter.html").read_text(encoding="utf-8")
    html = regex.sub(r"@font-face[^}]*}", "", html)
    html = regex.sub(r'"Report (Title|Body|Heading)", ', "", html)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        HTML(string=html, base_url="https://static.reports.invalid/", url_fetcher=_fetcher()).write_pdf(
            font_config=font_configuration())
        times.append(time.perf_counter() - t0)
    return statistics.median(times[2:])


def bench_first_document() -> dict:
    html = ROOT / "test-artifacts" / "bench-letter.html"
    out = subprocess.run([sys.executable, "-c", "import json\n" + FIRST_DOC, str(html)], cwd=ROOT,
                         capture_output=True, text=True, check=True, env=os.environ.copy())
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_bulk(world, case, decision, n: int, db_url: str) -> dict:
    from django.utils import timezone

    from config.celery import app
    from reports import services
    from reports.models import ExportJob
    from reports.selectors import job_progress
    from tests.conftest import worker_queues
    from tests.reports.conftest import actor

    clone_cases(case, decision, n - 1)
    env = {**os.environ, "DATABASE_URL": db_url}
    subprocess.run([sys.executable, "-m", "celery", "-A", "config", "purge", "-f"], cwd=ROOT, env=env,
                   capture_output=True, check=False)
    log = open(ROOT / "test-artifacts" / "bench-worker.log", "w")  # noqa: SIM115
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", worker_queues(), "--pool", "prefork",
         "--concurrency", "2", "--max-memory-per-child", "400000", "--loglevel", "INFO", "--without-gossip",
         "--without-mingle", "--without-heartbeat"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(timeout=1):
            if time.monotonic() > deadline:
                raise RuntimeError("worker did not start")
        today = timezone.localdate()
        t0 = time.perf_counter()
        job = services.export_job_create(actor=actor(world, "orgdept"), date_from=today, date_to=today)
        progress = []
        peak: dict[int, float] = {}
        while True:
            job = ExportJob.objects.get(pk=job.pk)
            progress.append((round(time.perf_counter() - t0, 1), job_progress(job)))
            for pid in children_of(worker.pid):
                peak[pid] = max(peak.get(pid, 0), proc_peak_mb(pid))
            if job.status in ("ready", "failed"):
                break
            if time.perf_counter() - t0 > 900:
                raise RuntimeError("export did not finish in 15 minutes")
            time.sleep(0.5)
        elapsed = time.perf_counter() - t0
        # The same period again: the filing reports now exist, as they normally do (made at decision time).
        t1 = time.perf_counter()
        again = services.export_job_create(actor=actor(world, "orgdept"), date_from=today, date_to=today)
        while again.status not in ("ready", "failed"):
            if time.perf_counter() - t1 > 300:
                raise RuntimeError("second export did not finish in 5 minutes")
            time.sleep(0.2)
            again = ExportJob.objects.get(pk=again.pk)
        existing = time.perf_counter() - t1
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        log.close()
    # The worker logs each task's duration ("... succeeded in 0.16s"): the filing reports' own cost.
    durations = sorted(float(m) for m in re.findall(r"document_generate\[[^\]]*\] succeeded in ([0-9.]+)s",
                                                    (ROOT / "test-artifacts" / "bench-worker.log").read_text()))
    return {"documents": job.total,
            "task_median_s": statistics.median(durations) if durations else None, "tasks": len(durations), "status": job.status, "error": job.error, "seconds": elapsed,
            "docs_per_s": job.total / elapsed, "existing_seconds": existing, "existing_status": again.status, "zip_mb": job.size / 1e6,
            "worker_peak_rss_mb": max(peak.values()) if peak else None,
            "progress_samples": progress[:: max(1, len(progress) // 10)]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--bulk", type=int, default=500)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    from config.celery import app

    app.conf.task_always_eager = False  # documents for the seed are not needed; the bench renders itself
    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from django.test.utils import CaptureQueriesContext  # noqa: F401 - keeps the test env imported

        world, case, decision, _ = seed_decided_case()
        warm = bench_warm(case, args.runs)
        print(f"feedback letter ({warm['pages']} pages), warm, one process:")
        print(f"  median {warm['median_s']:.3f} s (layout {warm['layout_s']:.3f} s, write+subset "
              f"{warm['write_s']:.3f} s), p95 {warm['p95_s']:.3f} s; with context from the DB "
              f"{warm['with_context_s']:.3f} s")
        print(f"  size {warm['size_kb']:.0f} KB; {warm['docs_per_s_per_core']:.1f} documents/s/core")
        print(f"  RSS {warm['rss_start_mb']:.0f} MB -> {warm['rss_end_mb']:.0f} MB over {args.runs} documents; "
              f"peak {warm['peak_rss_mb']:.0f} MB")
        reference = bench_reference(12)
        print(f"  the same letter with system fonts only (the reference setup, quoted at 0.33 s): {reference:.3f} s; "
              f"this machine runs about {0.33 / reference:.1f}x the reference speed")
        first = bench_first_document()
        print(f"first document in a fresh process: imports {first['imports']:.2f} s, fonts {first['fonts']:.2f} s, "
              f"first render {first['first']:.2f} s, second {first['second']:.2f} s "
              f"(total to first PDF {first['imports'] + first['fonts'] + first['first']:.2f} s)")
        if args.bulk and settings.REDIS_URL and "postgresql" in settings.DATABASES["default"]["ENGINE"]:
            s = connection.settings_dict
            db_url = f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{test_db}"
            bulk = bench_bulk(world, case, decision, args.bulk, db_url)
            print(f"bulk export of {bulk['documents']} filing reports, 1 worker x 2 processes: {bulk['status']} in "
                  f"{bulk['seconds']:.1f} s ({bulk['docs_per_s']:.1f} documents/s), ZIP {bulk['zip_mb']:.1f} MB, "
                  f"worker peak RSS {bulk['worker_peak_rss_mb']:.0f} MB {bulk['error']}")
            print(f"  the same export again, filing reports already made: {bulk['existing_status']} in "
                  f"{bulk['existing_seconds']:.1f} s")
            if bulk["task_median_s"]:
                print(f"  {bulk['tasks']} filing reports rendered; median task {bulk['task_median_s']:.3f} s "
                      f"({1 / bulk['task_median_s']:.1f} filing reports/s/core)")
            print(f"  progress (s, %): {bulk['progress_samples']}")
        else:
            print("bulk export skipped (needs DATABASE_URL=postgres://... and REDIS_URL)")
    finally:
        connection.creation.destroy_test_db(test_db, verbosity=0)


if __name__ == "__main__":
    main()
