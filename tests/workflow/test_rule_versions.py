"""Which version of a rule set a case is judged by, through the doors a user meets."""

import pytest

from cases.models import Case

from .helpers import act

pytestmark = pytest.mark.django_db


def _start(api, world, *, conduct: str, inspector: str, org: str, subject: str):
    return api(inspector).post("/api/cases/", {
        "title": "早年工程审批事项", "subject": world.people[subject].pk, "accountability_org": world.orgs[org].pk,
        "conduct_date": conduct, "matter_category": "construction", "summary": "基本情况。"}, format="json")


def test_hohhot_conduct_before_the_rule_set_is_judged_under_the_version_in_force_now(api, world):
    # 呼和浩特 二、10: 「发生在党的十八大以前」 is a mitigation ground, so the measures reach earlier conduct.
    response = _start(api, world, conduct="2010-06-01", inspector="inspector3", org="hohhot_dc", subject="hh1")
    assert response.status_code == 201, response.json()
    case = response.json()
    assert act(api("inspector3"), case["id"], "investigate").status_code == 200
    recorded = api("inspector3").put(f"/api/cases/{case['id']}/findings/hohhot.M1/",
                                     {"status": "met", "reasoning": "行为发生于2010年。"}, format="json")
    assert recorded.status_code == 200, recorded.json()
    evaluation = api("inspector3").get(f"/api/cases/{case['id']}/evaluation/").json()
    assert (evaluation["ruleset"], evaluation["version"]) == ("hohhot", "2019")
    assert "施行前" in str(evaluation.get("version_choice", evaluation))


def test_zhangjiakou_conduct_before_2019_names_the_predecessor_and_writes_nothing(api, world):
    count = Case.objects.count()
    response = _start(api, world, conduct="2016-06-01", inspector="inspector", org="zjk_dc", subject="cadre")
    assert response.status_code == 400 and response.json()["field"] == "conduct_date"
    assert "张字〔2017〕17号" in response.json()["detail"]
    assert Case.objects.count() == count
