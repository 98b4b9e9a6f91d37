"""One search box: a case is found by its stored number, its title, the cadre's or unit's name and its
summary, through the same filter for the inbox pages and ``GET /api/cases/``; never outside what the
user may see. On PostgreSQL the text goes through the GIN index of character bigrams."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection, connections

from cases.models import Case
from cases.search import reference_of
from tests.conftest import needs_postgresql
from tests.factories import CaseFactory, PersonFactory, UnitFactory, UnitPartyFactory, handler_of
from workflow.selectors import case_list

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_places():
    """Two cases in one city (王某 and 李强), and a 王某 of another city's jurisdiction."""
    wang = CaseFactory(subject=PersonFactory(name="王某"), title="汛期抢险先行调用物资被问责",
                       summary="暴雨期间未经审批调用储备物资抢修堤坝，事后补办手续。")
    unit = wang.subject.unit
    li = CaseFactory(subject=PersonFactory(name="李强", unit=unit), title="招商引资中先行承诺政策被问责",
                     summary="为引进重点项目先行作出承诺，后经集体研究追认。")
    elsewhere = CaseFactory(subject=PersonFactory(name="王某"), title="汛期抢险先行调用物资被问责",
                            summary="暴雨期间未经审批调用储备物资抢修堤坝，事后补办手续。")
    return {"wang": wang, "li": li, "elsewhere": elsewhere, "user": handler_of(wang)}


def found(user, text: str) -> set[int]:
    return set(case_list(user, {"q": text}).values_list("pk", flat=True))


# --- the stored case number ----------------------------------------------------------------------


def test_a_new_case_stores_its_number_in_the_display_format():
    case = CaseFactory()

    stored = Case.objects.values_list("reference", flat=True).get(pk=case.pk)
    assert stored == case.reference == f"容案{case.created_at.astimezone(dt.UTC):%Y}-{case.pk:05d}"


def test_numbering_fills_cases_inserted_in_bulk_and_keeps_every_digit_past_99999():
    template = CaseFactory()
    fields = {f.attname: getattr(template, f.attname) for f in Case._meta.concrete_fields
              if f.attname not in ("id", "reference", "submission_key")}
    Case.objects.bulk_create([Case(id=123456, **fields)])

    assert Case.objects.reference_fill() == 1

    year = Case.objects.get(pk=123456).created_at.astimezone(dt.UTC).year
    assert Case.objects.get(pk=123456).reference == f"容案{year}-123456"
    assert Case.objects.get(pk=template.pk).reference == template.reference  # numbered cases are left alone


def test_the_case_number_is_unique_in_the_database():
    from django.db import IntegrityError, transaction

    first, second = CaseFactory(), CaseFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.filter(pk=second.pk).update(reference=first.reference)
    assert Case.objects.get(pk=second.pk).reference == second.reference


def test_typed_case_numbers_are_read_in_every_usual_form():
    assert reference_of("容案2026-00017") == "容案2026-00017"
    assert reference_of("2026-00017") == "容案2026-00017"
    assert reference_of(" 2026-17 ") == "容案2026-00017"
    assert reference_of("2026－00017") == "容案2026-00017"
    assert reference_of("王某") is None
    assert reference_of("2026") is None


@needs_postgresql()
@pytest.mark.django_db(transaction=True)
def test_cases_created_at_the_same_time_get_different_numbers():
    unit = UnitFactory()
    people = [PersonFactory(unit=unit) for _ in range(4)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(people))

    def create(person) -> None:
        try:
            barrier.wait(timeout=10)
            for _ in range(3):
                CaseFactory(subject=person)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=create, args=(p,)) for p in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert not errors, errors
    rows = list(Case.objects.filter(subject__in=people).values_list("pk", "reference", "created_at"))
    assert len(rows) == 12
    assert len({r for _, r, _ in rows}) == 12
    assert all(r == f"容案{c.astimezone(dt.UTC):%Y}-{pk:05d}" for pk, r, c in rows)


# --- one search box ------------------------------------------------------------------------------


def test_a_two_character_name_is_found(two_places):
    user = two_places["user"]

    assert found(user, "王某") == {two_places["wang"].pk}
    assert found(user, "李强") == {two_places["li"].pk}


def test_a_case_number_is_found_whole_or_without_its_prefix(two_places):
    user, wang = two_places["user"], two_places["wang"]
    number = wang.reference.removeprefix("容案")

    assert found(user, wang.reference) == {wang.pk}
    assert found(user, number) == {wang.pk}
    assert found(user, f"{wang.pk:05d}") >= {wang.pk}  # the NNNNN part


def test_title_summary_and_unit_words_are_found(two_places):
    user, wang, li = two_places["user"], two_places["wang"], two_places["li"]

    assert found(user, "抢修堤坝") == {wang.pk}
    assert found(user, "承诺政策") == {li.pk}
    assert found(user, wang.subject.unit.name) == {wang.pk, li.pk}
    assert found(user, "王某 堤坝") == {wang.pk}  # every word must match
    assert found(user, "王某 承诺") == set()


def test_a_one_character_query_falls_back_to_contains(two_places):
    assert found(two_places["user"], "强") == {two_places["li"].pk}


def test_search_never_reaches_another_jurisdictions_case(two_places):
    user, elsewhere = two_places["user"], two_places["elsewhere"]

    assert elsewhere.pk not in found(user, "王某")
    assert found(user, elsewhere.reference) == set()
    assert found(user, "抢修堤坝") == {two_places["wang"].pk}
    assert found(handler_of(elsewhere), "王某") == {elsewhere.pk}


def test_a_unit_held_accountable_is_found_by_its_name():
    party = UnitPartyFactory()
    case = CaseFactory(subject=party)

    assert found(handler_of(case), party.name) == {case.pk}


def test_a_renamed_cadre_is_found_by_the_new_name(two_places):
    person = two_places["li"].subject
    person.name = "李某强"
    person.save(update_fields=["name"])

    assert found(two_places["user"], "某强") == {two_places["li"].pk}
    assert found(two_places["user"], "李强") == set()


def test_the_api_searches_with_the_same_filter(two_places, client):
    client.force_login(two_places["user"])

    by_name = client.get("/api/cases/", {"q": "王某"}).json()
    by_number = client.get("/api/cases/", {"q": two_places["li"].reference}).json()

    assert [row["id"] for row in by_name["results"]] == [two_places["wang"].pk]
    assert [row["reference"] for row in by_number["results"]] == [two_places["li"].reference]


def test_the_inbox_page_finds_a_case_by_number(two_places, client):
    client.force_login(two_places["user"])

    page = client.get("/", {"q": two_places["li"].reference.removeprefix("容案")}).content.decode()

    assert two_places["li"].title in page
    assert two_places["wang"].title not in page


# --- PostgreSQL: the index-backed path -----------------------------------------------------------


def explain(cursor, qs) -> str:
    sql, params = qs.query.sql_with_params()
    cursor.execute("EXPLAIN " + sql, params)
    return "\n".join(row[0] for row in cursor.fetchall())


@needs_postgresql()
def test_postgresql_answers_from_the_bigram_index(two_places):
    user = two_places["user"]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a handful of rows: make the planner show the index
        assert found(user, "王某") == {two_places["wang"].pk}
        assert found(user, "李强") == {two_places["li"].pk}
        assert found(user, "抢修堤坝") == {two_places["wang"].pk}
        assert found(user, two_places["li"].reference) == {two_places["li"].pk}
        # The bigram condition is answered from its GIN index (how it combines with the visibility rule
        # at scale is tests/workflow/test_list_plans.py's business).
        plan = explain(cursor, Case.objects.filter(id__bigrams_match="王某").order_by())
        number_plan = explain(cursor, case_list(user, {"q": two_places["li"].reference}))

    assert "cases_case_search_bigrams_gin" in plan
    assert "cases_case_reference" in number_plan, number_plan  # the unique index on the stored number
    assert two_places["elsewhere"].pk not in found(user, "王某")


@needs_postgresql()
def test_postgresql_keeps_the_vector_current_when_texts_change(two_places):
    wang = two_places["wang"]
    Case.objects.filter(pk=wang.pk).update(summary="在防汛演练中临时征用民用船只。")
    wang.subject.unit.name = "测试防汛指挥部"
    wang.subject.unit.save(update_fields=["name"])

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT search_bigrams @@ plainto_tsquery('simple', case_search_bigrams(%s)),"
            " search_bigrams @@ plainto_tsquery('simple', case_search_bigrams(%s)),"
            " search_bigrams @@ plainto_tsquery('simple', case_search_bigrams(%s))"
            " FROM cases_case WHERE id = %s", ["民用船只", "抢修堤坝", "防汛指挥部", wang.pk])
        assert cursor.fetchone() == (True, False, True)


@needs_postgresql()
def test_a_summary_at_its_full_length_is_indexed_quickly_and_found_by_its_last_words(two_places):
    import time

    wang = two_places["wang"]
    summary = ("该同志在整改中先行关停违规企业。" * 1300)[:19990] + "末尾提到堤坝"
    started = time.monotonic()
    Case.objects.filter(pk=wang.pk).update(summary=summary)
    took = time.monotonic() - started
    # The vector is built in linear time (a quadratic build took minutes at this length).
    assert took < 5, f"{took:.1f} s to index a 20,000-character summary"
    assert found(two_places["user"], "末尾提到") == {wang.pk}


def test_a_search_works_inside_a_subquery_and_a_count(two_places):
    user = two_places["user"]
    searched = case_list(user, {"q": "王某"})

    assert Case.objects.filter(pk__in=searched).count() == 1
    assert searched.count() == 1


def test_the_committee_queue_finds_a_case_by_number_and_name(client):
    from cases.models import CaseState
    from tests.factories import case_in_state, deciding_member

    wang = case_in_state(CaseState.PROPOSED, subject=PersonFactory(name="王某"), title="汛期抢险先行调用物资被问责")
    li = case_in_state(CaseState.PROPOSED, subject=PersonFactory(name="李强", unit=wang.subject.unit),
                       title="招商引资中先行承诺政策被问责")
    client.force_login(deciding_member(wang))

    by_number = client.get("/", {"q": li.reference}).content.decode()
    by_name = client.get("/", {"q": "王某"}).content.decode()

    assert "待研究决定" in by_number
    assert li.title in by_number and wang.title not in by_number
    assert wang.title in by_name and li.title not in by_name


@pytest.mark.parametrize("state", ["100%", "%s%d", "started,%(x)s"])
def test_an_unknown_state_with_a_percent_sign_is_a_400_naming_it(api, state):
    response = api("inspector").get("/api/cases/", {"state": state})
    assert response.status_code == 400
    assert "未知状态" in str(response.json()) and state.split(",")[-1] in str(response.json())


@needs_postgresql()
def test_one_character_is_answered_from_the_index_and_finds_every_case_with_it(two_places):
    """Every character of a word begins a bigram or ends the word: asking the index for the lexemes
    that start with a character finds exactly the cases the plain contains finds, whatever its place."""
    from cases.search import _contains

    user = two_places["user"]
    # A word ending in a character found nowhere else (强 ends 李强), one-character words, Latin and digits.
    odd = CaseFactory(subject=PersonFactory(name="赵 钱", unit=two_places["wang"].subject.unit),
                      title="Flood 堤 项目7", summary="先行 试 A")
    texts = {case.title + case.summary + case.subject.name + case.subject.unit.name
             for case in (two_places["wang"], two_places["li"], odd)}
    characters = sorted({ch for text in texts for ch in text if ch.isalnum()})
    assert {"强", "钱", "堤", "7", "a"} <= {c.lower() for c in characters}
    visible = case_list(user)
    for ch in characters:
        indexed = set(visible.filter(id__term_starts=ch).values_list("pk", flat=True))
        plain = set(visible.filter(_contains(ch)).values_list("pk", flat=True))
        assert plain <= indexed, ch  # the index never misses a case
        assert found(user, ch) == plain, ch
    assert found(user, "强") == {two_places["li"].pk}
    # A symbol the text-search parser drops is still found by the plain contains (no index to ask).
    odd.title = "面积增加 10m² 的审批"
    odd.save()
    assert found(user, "²") == {odd.pk}
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = explain(cursor, Case.objects.filter(id__term_starts="强").order_by())
    assert "cases_case_search_bigrams_gin" in plan, plan
