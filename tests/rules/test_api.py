"""REST API for rule sets: list, detail, evaluate and compare."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_in(client, django_user_model):
    client.force_login(django_user_model.objects.create_user(username="u", password="pw-12345678"))
    return client


def post(client, url, data):
    return client.post(url, data, content_type="application/json")


def test_anonymous_is_refused(client):
    assert client.get("/api/rulesets/").status_code in (401, 403)


def test_list_gives_every_rule_set_with_versions(client_in):
    data = client_in.get("/api/rulesets/").json()
    ids = [r["id"] for r in data]
    assert ids == ["henan", "hohhot", "zhangjiagang", "zhangjiakou", "zhejiang", "zhejiang-dept-example"]
    zjk = next(r for r in data if r["id"] == "zhangjiakou")
    assert [v["version"] for v in zjk["versions"]] == ["2019"]
    assert zjk["versions"][0]["effective_to"] is None


def test_detail_has_versions_with_clauses(client_in):
    data = client_in.get("/api/rulesets/henan/").json()
    assert data["doc_number"] == "豫办〔2017〕28号"
    clauses = data["versions"][0]["clauses"]
    r1 = next(c for c in clauses if c["id"] == "henan.R1")
    assert r1["applies_to"] == "henan.S1"


def test_unknown_rule_set_is_404(client_in):
    assert client_in.get("/api/rulesets/nowhere/").status_code == 404
    assert post(client_in, "/api/rulesets/nowhere/evaluate/", {"findings": {}}).status_code == 404


def test_evaluate_takes_the_command_input(client_in):
    body = {
        "findings": {f"zhangjiagang.P{i}": "met" for i in range(1, 7)} | {"zhangjiagang.S1": "met"},
        "loss_amount": 0,
        "disposition": None,
        "conduct_date": "2017-12-01",
    }
    response = post(client_in, "/api/rulesets/zhangjiagang/evaluate/", body)
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["verdict"] == "tolerable"
    assert data["decisive"] == ["zhangjiagang.S1"]
    assert data["content_hash"].startswith("sha256:")


@pytest.mark.parametrize(
    ("body", "field", "offender"),
    [
        ({"findings": {"henan.P9": "met"}, "conduct_date": "2020-01-01"}, "findings", "henan.P9"),
        ({"findings": {"henan.P1": "maybe"}, "conduct_date": "2020-01-01"}, "findings", "maybe"),
        ({"findings": {}, "conduct_date": "2016-01-01"}, "conduct_date", "2016年1月1日"),
        ({"findings": {}, "conduct_date": "2020-13-01"}, "conduct_date", ""),
    ],
)
def test_bad_input_is_400_naming_the_field(client_in, body, field, offender):
    response = post(client_in, "/api/rulesets/henan/evaluate/", body)
    assert response.status_code == 400
    data = response.json()
    assert field in data["errors"]
    assert offender in data["errors"][field][0]


def test_decision_date_applies_the_more_favourable_version(client_in, testland_registry):
    body = {
        "findings": {"testland.P2": "met", "testland.S1": "met"},
        "loss_amount": 800000,
        "prior_same_matter": [],
        "conduct_date": "2022-06-01",
        "decision_date": "2023-02-01",
    }
    response = post(client_in, "/api/rulesets/testland/evaluate/", body)
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["version"] == "2"
    assert data["alternative"]["version"] == "1"


def test_compare_shows_how_rule_sets_differ_on_one_case(client_in):
    body = {
        "rulesets": ["zhangjiakou", "henan", "hohhot"],
        "answers": {"private_gain": "yes"},
        "conduct_date": "2020-06-01",
    }
    response = post(client_in, "/api/rulesets/compare/", body)
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [r["ruleset"] for r in results] == ["zhangjiakou", "henan", "hohhot"]
    assert [r["verdict"] for r in results] == ["not_tolerable", "not_tolerable", "undetermined"]


def test_compare_rejects_unknown_rule_set(client_in):
    response = post(
        client_in, "/api/rulesets/compare/", {"rulesets": ["nowhere"], "conduct_date": "2020-06-01"}
    )
    assert response.status_code == 400
    assert "nowhere" in response.json()["errors"]["rulesets"][0]


def test_diff_between_versions(client_in, testland_registry):
    data = client_in.get("/api/rulesets/testland/diff/?from=1&to=2").json()
    changed = [c for c in data["clauses"] if c["change"] != "unchanged"]
    assert [c["clause"] for c in changed] == ["testland.S2"]
    assert any(h["field"] == "parameters" for h in data["header"])


def test_evaluate_answers_with_every_key_the_engine_returns(client_in):
    # The schema check (tests/schema_check.py) compares the body with EvaluationOutputSerializer
    # strictly; this case fills the nested shapes: an attested finding, facts, answers, a derivation.
    body = {
        "findings": {"zhangjiakou.P1": {"status": "not_met", "reasoning": "未履行报批程序", "by": "李调查"}},
        "answers": {"private_gain": "no"},
        "loss_amount": 0,
        "disposition": "first",
        "prior_same_matter": [
            {
                "case": "张纪容〔2019〕3号",
                "date": "2019-05-01",
                "measure": "accountability",
                "measure_date": "2019-07-01",
            }
        ],
        "conduct_date": "2020-06-01",
    }
    response = post(client_in, "/api/rulesets/zhangjiakou/evaluate/", body)
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["verdict"] == "not_tolerable" and data["verdict_label"] == "不予容错"
    assert data["outcome_labels"] == ["不予容错"]
    assert data["title"].startswith("张家口市激励干部担当干事的规定")
    assert data["facts"]["prior_same_matter"][0]["measure"] == "accountability"
    assert data["parameters"]["major_loss_threshold"]["unit"] == "元"
    trace = {t["clause"]: t for t in data["trace"]}
    assert trace["zhangjiakou.P1"]["source"]["attested"] == {
        "status": "not_met",
        "by": "李调查",
        "reasoning": "未履行报批程序",
    }
    assert trace["zhangjiakou.X9"]["source"]["derived"]["from"] == "repeat_after_accountability"
    assert trace["zhangjiakou.P1"]["status_label"] == "不符合"


def test_a_refusal_on_default_rules_says_so(client_in):
    body = {"findings": {"zhangjiagang.P1": "not_met"}, "conduct_date": "2018-06-01"}
    data = post(client_in, "/api/rulesets/zhangjiagang/evaluate/", body).json()
    assert data["rests_on_default"] is True
    assert data["default_rule"]["clauses"] == ["zhangjiagang.P1"]
    assert data["default_rule"]["only"] is True


def test_conduct_before_the_first_version_says_which_version_applies_and_why(client_in):
    body = {"findings": {}, "conduct_date": "2018-06-01", "decision_date": "2019-06-01"}
    response = post(client_in, "/api/rulesets/hohhot/evaluate/", body)
    assert response.status_code == 200, response.content
    choice = response.json()["version_choice"]
    assert choice["principle"] == "施行前的行为"
    assert choice["conduct_version"] is None
    assert "十八大" in choice["basis"]
