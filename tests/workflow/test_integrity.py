"""Integrity under concurrency and tampering, on the real database."""

import threading

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction

from cases.models import Case
from tests.conftest import needs_services
from workflow.errors import WorkflowError
from workflow.history import Actor, history_verify
from workflow.models import Decision, HistoryEntry
from workflow.services import case_decide

from .helpers import drive_to_proposed, meeting


@needs_services()
@pytest.mark.django_db(transaction=True)
def test_two_members_deciding_at_once_yield_one_decision_and_one_conflict(api, world):
    case = drive_to_proposed(api, world)
    barrier = threading.Barrier(2)
    results: list[object] = []

    def decide(username: str) -> None:
        try:
            barrier.wait(timeout=10)
            decision = case_decide(
                case_id=case["id"], actor=Actor(user=world.users[username], role="committee"),
                outcome="exempt", resolution=f"{username} 记录的决定。", **meeting(),
            )
            results.append(("ok", decision.pk))
        except WorkflowError as exc:
            results.append(("error", exc.status, exc.message))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=decide, args=(name,)) for name in ("committee", "committee_b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert sorted(r[0] for r in results) == ["error", "ok"], results
    error = next(r for r in results if r[0] == "error")
    assert error[1] == 409
    assert Decision.objects.filter(case_id=case["id"]).count() == 1
    assert HistoryEntry.objects.filter(case_id=case["id"], action="decide").count() == 1
    assert Case.objects.get(pk=case["id"]).state == "decided"
    assert history_verify().ok


@pytest.mark.django_db
def test_database_refuses_to_rewrite_history(api, world):
    drive_to_proposed(api, world)
    entry = HistoryEntry.objects.order_by("id").first()
    with pytest.raises(Exception) as excinfo, transaction.atomic():
        HistoryEntry.objects.filter(pk=entry.pk).update(reason="篡改")
    assert "append-only" in str(excinfo.value)
    assert HistoryEntry.objects.get(pk=entry.pk).reason == entry.reason
    if connection.vendor == "postgresql":
        with pytest.raises(Exception) as excinfo, transaction.atomic():
            HistoryEntry.objects.filter(pk=entry.pk).delete()
        assert "append-only" in str(excinfo.value)


@needs_services()
@pytest.mark.django_db
def test_verify_history_finds_the_first_tampered_entry(api, world, capsys):
    drive_to_proposed(api, world)
    victim = HistoryEntry.objects.order_by("id")[3]
    with connection.cursor() as cursor:
        # Someone with database superuser rights bypasses the trigger and edits a row.
        cursor.execute("SET session_replication_role = replica")
        cursor.execute("UPDATE workflow_historyentry SET reason = 'edited' WHERE id = %s", [victim.pk])
        cursor.execute("SET session_replication_role = origin")

    report = history_verify()

    assert not report.ok
    assert report.broken_id == victim.pk
    with pytest.raises(SystemExit) as exit_info:
        call_command("verify_history")
    assert exit_info.value.code == 1
    assert f"第 {victim.pk} 条" in capsys.readouterr().err


@needs_services()
@pytest.mark.django_db
def test_verify_history_detects_a_deleted_entry(api, world):
    drive_to_proposed(api, world)
    victim = HistoryEntry.objects.order_by("id")[2]
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        cursor.execute("DELETE FROM workflow_historyentry WHERE id = %s", [victim.pk])
        cursor.execute("SET session_replication_role = origin")
    report = history_verify()
    assert not report.ok
    assert report.broken_id == HistoryEntry.objects.filter(id__gt=victim.pk).order_by("id").first().pk


@pytest.mark.django_db
def test_admin_edit_writes_history(client, world, api):
    case = drive_to_proposed(api, world)
    client.force_login(world.users["admin"])
    page = client.get(f"/admin/cases/case/{case['id']}/change/")
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {k: ("" if v is None else v) for k, v in form.initial.items() if k in form.fields}
    data.update({"title": "管理员更正的事项名称", "subject": world.people["cadre"].pk,
                 "accountability_org": world.orgs["zjk_dc"].pk, "claimed_situations": "[]",
                 "summary": "更正。", "conduct_date": case["conduct_date"]})
    data = {k: v for k, v in data.items() if v is not None}
    response = client.post(f"/admin/cases/case/{case['id']}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = HistoryEntry.objects.filter(case_id=case["id"]).last()
    assert entry.action == "admin_edit" and entry.via == "admin"
    assert entry.changes["title"] == "管理员更正的事项名称"
    assert history_verify().ok


@pytest.mark.django_db
def test_decision_reproduces_under_its_pinned_snapshot_even_without_rule_files(api, world, monkeypatch):
    from workflow.models import PinnedRuleSet
    from workflow.selectors import decision_reproduce

    from .helpers import act

    case = drive_to_proposed(api, world)
    act(api("committee"), case["id"], "decide", {"outcome": "exempt", "resolution": "免责。", **meeting()})
    decision = Decision.objects.get(case_id=case["id"])
    assert decision.inputs["findings"]
    assert PinnedRuleSet.objects.filter(content_hash=decision.ruleset_hash).exists()

    # The rule files on disk are not consulted: the snapshot alone reproduces the verdict.
    import rules.registry
    import rules.temporal

    def no_files():
        raise AssertionError("rule files must not be read")

    # The registry reads the files once: both the cached one and the lookup the engine uses are gone.
    monkeypatch.setattr(rules.registry, "_registry", None)
    monkeypatch.setattr(rules.registry, "load_registry", lambda *a, **k: no_files())
    monkeypatch.setattr(rules.temporal, "registry", no_files)
    ok, message = decision_reproduce(decision)
    assert ok, message
    call_command("verify_decisions")

    # A snapshot edited after the fact no longer matches the hash the decision pinned.
    pin = PinnedRuleSet.objects.get(content_hash=decision.ruleset_hash)
    pin.snapshot["title"] = pin.snapshot.get("title", "") + "（改）"
    pin.save()
    ok, message = decision_reproduce(decision)
    assert not ok
    with pytest.raises(SystemExit):
        call_command("verify_decisions")
