"""``manage.py generate_cases``: records that pass every check, the same data for a seed, refusals."""

from __future__ import annotations

import datetime as dt
import io
import random

import pytest
from django.core.management import call_command

from cases.models import Case, CaseState, Finding
from reports.models import Document, DocumentNumber
from reports.synthetic import GEN_PREFIX, StoryMaker, tree_build
from tests.conftest import needs_postgresql
from tests.factories import case_in_state
from workflow.history import history_verify
from workflow.models import Appeal, ChainHead, Decision, HistoryEntry, Notification
from workflow.records_check import record_problems

pytestmark = pytest.mark.django_db

END = dt.date(2026, 6, 30)


def _run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("generate_cases", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def test_generated_cases_pass_the_record_checks_and_the_history_chain(capsys):
    code, out, _ = _run("--count", "160", "--seed", "11", "--end", END.isoformat(), "--batch", "100")
    assert code == 0, out
    assert "已生成 160 件案件" in out
    cases = Case.objects.all()
    assert cases.count() == 160
    assert all(c.submission_key.startswith(f"{GEN_PREFIX}11-") for c in cases)
    # Each has its stored case number, so it can be searched for.
    assert all(c.reference == f"容案{c.created_at.year}-{c.pk:05d}" for c in cases)
    # Each records where its subject is managed: the unit, or for a unit's leader the committee above it.
    managed = {c.managed_by_id == (c.subject.managing_committee_id or c.subject.unit_id)
               for c in cases.select_related("subject")}
    assert managed == {True}
    assert cases.filter(subject__managing_committee__isnull=False).exists()
    # Every state is represented, with what the procedure leaves behind.
    assert set(cases.values_list("state", flat=True)) >= {CaseState.STARTED, CaseState.INVESTIGATING,
                                                          CaseState.PROPOSED, CaseState.EXECUTED, CaseState.CLOSED}
    assert len(set(cases.values_list("ruleset", flat=True))) >= 4
    assert Finding.objects.exists() and Decision.objects.exists() and Notification.objects.exists()
    assert Document.objects.filter(number__contains="〔").exists()
    assert Appeal.objects.exists() or not cases.filter(state=CaseState.APPEALED).exists()
    decided = cases.filter(decision_date__isnull=False)
    assert all(c.decision_date <= END and c.created_at.date() <= END for c in decided)
    # No record breaks the procedure's order, and the keyed chain verifies end to end.
    assert list(record_problems(today=END + dt.timedelta(days=1))) == []
    report = history_verify()
    assert report.ok, report.problem
    assert report.checked == HistoryEntry.objects.count()
    assert ChainHead.objects.get(pk=1).last_hash == HistoryEntry.objects.order_by("-id").first().hash
    # Document numbers continue from the counters, so a real document after them takes the next number.
    counters = {(n.organisation_id, n.year): n.last for n in DocumentNumber.objects.all()}
    for doc in Document.objects.all():
        assert int(doc.number.rsplit("〕", 1)[1].rstrip("号")) <= counters[(doc.issuing_org_id, doc.decision.meeting_date.year)]
    # The dashboard's summary table was rebuilt over the generated cases: it counts every one of them.
    from reports.models import InsightTally
    from reports.tally import tally_check

    assert "统计汇总表已重算" in out
    assert InsightTally.objects.filter(metric="case").exists()
    assert tally_check() == []


def test_the_same_seed_draws_the_same_cases():
    tree = tree_build(rng=random.Random("tree-5"), people=100)  # noqa: S311 - test data

    def draw(seed: int) -> list[tuple]:
        maker = StoryMaker(tree=tree, rng=random.Random(seed), seed=seed, end=END, years=3)  # noqa: S311
        stories = [maker.make(i) for i in range(40)]
        return [(s.case.title, s.case.state, s.case.outcome, s.case.ruleset, s.case.conduct_date, s.case.subject_id,
                 s.case.created_at, [(e.action, e.day) for e in s.events], s.findings) for s in stories]

    assert draw(5) == draw(5)
    assert draw(5) != draw(6)


def test_refuses_a_database_with_real_cases_and_writes_nothing():
    case_in_state(CaseState.STARTED)
    before = (Case.objects.count(), HistoryEntry.objects.count())
    code, _, err = _run("--count", "10", "--seed", "1", "--end", END.isoformat())
    assert code == 1
    assert err.strip() == "generate_cases：数据库中已有非生成的案件（真实或演示数据），拒绝写入；确需写入请加 --force。"
    assert (Case.objects.count(), HistoryEntry.objects.count()) == before


@pytest.mark.parametrize(("args", "message"), [
    (["--count", "0"], "--count 应在 1 到 5,000,000 之间，收到 0。"),
    (["--count", "十"], "--count 应为整数，收到“十”。"),
    (["--count", "5", "--end", "2026-02-30"], "--end 日期格式应为 YYYY-MM-DD，收到“2026-02-30”。"),
    (["--count", "5", "--end", "2999-01-01"], "--end 不能晚于今天"),
])
def test_bad_options_are_one_chinese_line(args, message):
    code, _, err = _run(*args)
    assert code == 1
    assert err.count("\n") == 1 and message in err
    assert not Case.objects.exists()


def test_a_seed_is_used_once():
    assert _run("--count", "5", "--seed", "3", "--end", END.isoformat())[0] == 0
    code, _, err = _run("--count", "5", "--seed", "3", "--end", END.isoformat())
    assert code == 1 and "种子 3 的案件已经生成过" in err
    assert Case.objects.count() == 5


def _snapshot() -> dict[str, list[tuple]]:
    """Every generated row of every table, in id order (and on PostgreSQL each case's search vector)."""
    from django.db import connection

    from reports.synthetic import ROW_MODELS

    rows = {m.__name__: list(m.objects.order_by("id").values_list(*[f.attname for f in m._meta.concrete_fields]))
            for m in ROW_MODELS}
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, search_bigrams::text FROM cases_case ORDER BY id")
        rows["search_bigrams"] = cursor.fetchall()
    rows["numbers"] = list(DocumentNumber.objects.order_by("organisation_id", "year").values_list(
        "organisation_id", "year", "last"))
    rows["head"] = list(ChainHead.objects.values_list("last_hash", flat=True))
    return rows


@needs_postgresql()
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("bulk", [False, True], ids=["batches", "bulk-load"])
def test_copy_writes_exactly_what_bulk_create_writes_and_search_finds_it(bulk):
    """On PostgreSQL the COPY writer (its own connection, in a thread) stores the same rows as
    ``bulk_create`` with the triggers: same counts per table, same values, the same chain, the same
    search vectors; and the search box finds a generated case by its number and by a 2-character name.
    The same with the bulk load (indexes, constraints and the cases' insert triggers set aside)."""
    from django.db import connection

    from cases.search import case_search
    from reports.synthetic import ROW_MODELS, cases_generate

    cases_generate(count=150, seed=21, end=END, years=3, batch=40, copy=False)
    bulk = _snapshot()
    with connection.cursor() as cursor:
        cursor.execute("BEGIN")
        cursor.execute("SET LOCAL session_replication_role = replica")  # the history refuses TRUNCATE
        tables = [m._meta.db_table for m in ROW_MODELS] + [ChainHead._meta.db_table, DocumentNumber._meta.db_table]
        cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
        cursor.execute("COMMIT")
    assert not Case.objects.exists()
    rows = cases_generate(count=150, seed=21, end=END, years=3, batch=40, copy=True, bulk=bulk)
    copied = _snapshot()
    assert {k: len(v) for k, v in copied.items()} == {k: len(v) for k, v in bulk.items()}
    assert rows == sum(len(copied[m.__name__]) for m in ROW_MODELS)
    for name in bulk:
        assert copied[name] == bulk[name], name
    assert all(v for _, v in copied["search_bigrams"])
    # The sequences moved past the ids given: the next case the application creates gets a new id.
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence('cases_case', 'id'))")
        assert cursor.fetchone()[0] > Case.objects.order_by("-id").values_list("id", flat=True).first()
    report = history_verify()
    assert report.ok, report.problem
    assert list(record_problems(today=END + dt.timedelta(days=1))) == []
    case = Case.objects.select_related("subject").filter(subject__name__regex=r"^..").order_by("id")[7]
    assert list(case_search(Case.objects.all(), case.reference)) == [case]
    assert case in case_search(Case.objects.all(), case.subject.name[:2])


def test_a_batch_refuses_a_chain_that_changed_since_it_was_built():
    """Rows are built ahead of writing; if anything appended to the chain meanwhile, the batch writes nothing."""
    from django.conf import settings

    from reports.synthetic import BulkSink, GenerationRefused, RowBuilder

    tree = tree_build(rng=random.Random("tree-9"), people=100)  # noqa: S311 - test data
    maker = StoryMaker(tree=tree, rng=random.Random(9), seed=9, end=END, years=3)  # noqa: S311
    batch = RowBuilder(clock=maker.clock, algorithm=settings.HISTORY_HMAC_ALGORITHM).build(
        [maker.make(i) for i in range(3)])
    ChainHead.objects.update_or_create(pk=1, defaults={"last_hash": "f" * 64})
    with pytest.raises(GenerationRefused, match="操作记录链被其他写入改变"):
        BulkSink().write(batch)
    assert not Case.objects.exists() and not HistoryEntry.objects.exists()


def _schema() -> dict[str, set[tuple]]:
    """Every index, constraint and trigger of the database, by name and definition (an internal trigger of a
    foreign key by its constraint's name, since its own name carries an oid)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'")
        indexes = set(cursor.fetchall())
        cursor.execute("SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid), convalidated, "
                       "condeferrable, condeferred FROM pg_constraint WHERE connamespace = 'public'::regnamespace")
        constraints = set(cursor.fetchall())
        cursor.execute("SELECT t.tgrelid::regclass::text, CASE WHEN t.tgisinternal THEN c.conname ELSE t.tgname END, "
                       "t.tgfoid::regproc::text, t.tgtype, t.tgenabled, t.tgdeferrable, t.tginitdeferred, "
                       "count(*) FROM pg_trigger t LEFT JOIN pg_constraint c ON c.oid = t.tgconstraint "
                       "GROUP BY 1, 2, 3, 4, 5, 6, 7")
        triggers = set(cursor.fetchall())
    return {"indexes": indexes, "constraints": constraints, "triggers": triggers}


def _bulk_fixture() -> tuple[dict[str, set[tuple]], int]:
    from django.db import connection

    before = _schema()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_indexes WHERE tablename = 'cases_case'")
        case_indexes = cursor.fetchone()[0]
    assert case_indexes > 10 and any("gin" in d for _, _, d in before["indexes"])
    return before, case_indexes


@needs_postgresql()
@pytest.mark.django_db(transaction=True)
def test_bulk_load_puts_back_every_index_constraint_and_trigger(caplog):
    """The bulk load drops the secondary indexes (the search's GIN index too), the unique and foreign-key
    constraints and the cases' insert triggers, and rebuilds them: afterwards the schema is exactly what it
    was, the foreign keys validated, and the data pass every check."""
    from reports.synthetic import cases_generate

    before, _ = _bulk_fixture()
    rows = cases_generate(count=120, seed=31, end=END, years=3, batch=50, copy=True, bulk=True)
    assert rows > 120 * 10
    # The search vectors computed in Python equal the SQL function's: no batch had to be recomputed.
    assert "search vectors differed" not in caplog.text
    assert _schema() == before
    assert Case.objects.count() == 120
    managed = {c.managed_by_id == (c.subject.managing_committee_id or c.subject.unit_id)
               for c in Case.objects.select_related("subject")}
    assert managed == {True}
    report = history_verify()
    assert report.ok, report.problem
    assert list(record_problems(today=END + dt.timedelta(days=1))) == []
    # The triggers are back: a case added the ordinary way gets its managed_by and its search vector.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM cases_case WHERE search_bigrams IS DISTINCT FROM "
                       "case_search_vector(title, summary, subject_id)")
        assert cursor.fetchone()[0] == 0
    case = case_in_state(CaseState.STARTED)
    case.refresh_from_db()
    assert case.managed_by_id == (case.subject.managing_committee_id or case.subject.unit_id)
    with connection.cursor() as cursor:
        cursor.execute("SELECT search_bigrams IS NOT NULL FROM cases_case WHERE id = %s", [case.pk])
        assert cursor.fetchone()[0] is True


@needs_postgresql()
@pytest.mark.django_db(transaction=True)
def test_a_bulk_load_that_fails_midway_writes_nothing_and_restores_the_schema(monkeypatch):
    """A failure while the rows are being built (after batches were copied), or while the indexes are being
    rebuilt: the run's one transaction rolls back, so no row stays and every index, constraint and trigger
    is as it was."""
    from reports import synthetic
    from reports.synthetic import cases_generate

    before, _ = _bulk_fixture()
    head_before = list(ChainHead.objects.values_list("last_hash", flat=True))

    def stop(done: int, total: int) -> None:
        if done >= 100:
            raise RuntimeError("stopped by the test")

    with pytest.raises(RuntimeError, match="stopped by the test"):
        cases_generate(count=200, seed=32, end=END, years=3, batch=50, copy=True, bulk=True, progress=stop)
    assert _schema() == before
    assert not Case.objects.exists() and not HistoryEntry.objects.exists() and not Decision.objects.exists()
    assert list(ChainHead.objects.values_list("last_hash", flat=True)) == head_before

    restore = synthetic.BulkLoad.restore

    def restore_then_fail(self, cursor):
        restore(self, cursor)  # every index and constraint rebuilt, then the run fails before it commits
        raise RuntimeError("failed after the rebuild")

    monkeypatch.setattr(synthetic.BulkLoad, "restore", restore_then_fail)
    with pytest.raises(RuntimeError, match="failed after the rebuild"):
        cases_generate(count=80, seed=33, end=END, years=3, batch=50, copy=True, bulk=True)
    assert _schema() == before
    assert not Case.objects.exists() and not HistoryEntry.objects.exists()
    # And the next run (ordinary batches) writes as usual.
    assert cases_generate(count=20, seed=34, end=END, years=3, batch=50, copy=True, bulk=False) > 0
    assert Case.objects.count() == 20
