"""Fixtures for reports: a case driven to a decision through the workflow services, PDF helpers."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from tests.conftest import ROOT

ARTIFACTS = ROOT / "test-artifacts"
MEDIA = ARTIFACTS / "media"


@pytest.fixture(autouse=True)
def _reports_setup(request, settings, monkeypatch):
    """Keep generated files out of the project's media.

    Tests run tasks in-process (eagerly, after the captured commit) unless marked ``services``:
    those use a real worker over Redis.
    """
    from config.celery import app

    settings.MEDIA_ROOT = MEDIA
    monkeypatch.setenv("MEDIA_ROOT", str(MEDIA))  # a worker started by the test inherits it
    MEDIA.mkdir(parents=True, exist_ok=True)
    saved = app.conf.task_always_eager
    app.conf.task_always_eager = request.node.get_closest_marker("services") is None or saved
    yield
    app.conf.task_always_eager = saved


def actor(world, name: str):
    from accounts.selectors import primary_organisation
    from workflow.history import Actor

    user = world.users[name]
    org = primary_organisation(user)
    return Actor(user=user, role=name, organisation=org.name if org else "", via="test")


def drive_to_proposed(world, *, tolerable: bool = True, outcome: str = "exempt", person: str = "cadre",
                      title: str = "环保督察整改中先行关停违规企业引发经济损失"):
    from accounts.models import Organisation
    from rules.loader import registry
    from workflow import services

    inspector = actor(world, "inspector")
    conduct = dt.date(2025, 5, 1)
    case = services.case_create(
        actor=inspector, title=title, subject=world.people[person], accountability_org=world.orgs["zjk_dc"],
        conduct_date=conduct, matter_category="environment",
        summary="该同志在环保督察整改中，按市委部署先行关停违规企业，未及时履行部分报告程序，造成一定经济损失。",
        remedial_measures="及时补办手续，协调企业复产，挽回损失。", loss_amount=Decimal("20000"),
    )
    services.case_investigate(case_id=case.pk, actor=inspector)
    version = registry().version_for(case.ruleset, conduct)
    for clause in version.prerequisites():
        services.finding_record(case_id=case.pk, actor=inspector, clause_id=clause.id, status="met",
                                reasoning="经调查核实，符合该项条件。")
    for clause in version.situations():
        met = tolerable and clause.id.endswith(".S1")
        services.finding_record(case_id=case.pk, actor=inspector, clause_id=clause.id,
                                status="met" if met else "not_met",
                                reasoning="按市委部署积极推进整改，出现偏差。" if met else "经核实不属于该情形。")
    for clause in version.exclusions():
        services.finding_record(case_id=case.pk, actor=inspector, clause_id=clause.id, status="not_met",
                                reasoning="未发现该情形。")
    services.case_propose(case_id=case.pk, actor=inspector, recommended_outcome=outcome,
                          opinion="建议依规认定。", consult=[Organisation.objects.get(pk=world.orgs["zjk_od"].pk)])
    services.consultation_reply(case_id=case.pk, actor=actor(world, "orgdept"), opinion="agree", comment="同意。")
    return case


def decide(world, case, *, outcome: str = "exempt", override_reason: str = ""):
    from workflow import services

    return services.case_decide(
        case_id=case.pk, actor=actor(world, "committee"), outcome=outcome, meeting_kind="standing",
        meeting_date=timezone.localdate(), members_present=9, members_total=11,
        resolution="经市委常委会集体研究，同意问责部门的意见。", override_reason=override_reason,
    )


@pytest.fixture
def decided(world, django_capture_on_commit_callbacks):
    """A Zhangjiakou cadre's case decided as exempt, with its documents generated in-process."""
    case = drive_to_proposed(world)
    with django_capture_on_commit_callbacks(execute=True):
        decide(world, case)
    case.refresh_from_db()
    return case


def pdf_text(path: str | Path, *, footers: bool = False) -> str:
    """The PDF's text with all white space (lines wrap anywhere in Chinese) and page numbers removed."""
    out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True)
    text = re.sub(r"\s+", "", out.stdout)
    return text if footers else re.sub(r"—\d+—", "", text)


def pdf_fonts(path: str | Path) -> str:
    return subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout


def page_png(path: str | Path, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    prefix = ARTIFACTS / name
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(path), str(prefix)],
                   check=True)
    return prefix.with_suffix(".png")


def copy_artifact(path: str | Path, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / name
    shutil.copyfile(path, target)
    return target


def start_worker(extra_env: dict[str, str], log_name: str, *, queues: str | None = None, node: str | None = None):
    """A Celery worker process (prefork, 2 children) on the test database with the given environment,
    consuming ``queues`` (every queue of settings unless given), named ``node`` if given."""
    import os
    import sys

    from tests.conftest import _test_database_url, worker_queues

    env = {**os.environ, "DATABASE_URL": _test_database_url(), "DJANGO_SETTINGS_MODULE": "config.settings",
           **extra_env}
    log = open(ARTIFACTS / log_name, "w")  # noqa: SIM115 - closed by stop_worker
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queues or worker_queues(),
         *(["-n", node] if node else []), "--pool", "prefork", "--concurrency", "2",
         "--loglevel", "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    proc.log = log  # type: ignore[attr-defined]
    return proc


def stop_worker(proc) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    proc.log.close()


def wait_for(predicate, *, timeout: float = 60, interval: float = 0.5):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")
