"""Statistics (统计分析): exact aggregates on a known dataset, scoping, XLSX, and the annual report."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import OrgKind, Role
from cases.models import CaseState, Finding, FindingStatus, Outcome
from reports.insight import _clause_name, insight_build, insight_filter
from reports.models import AnnualReport, AnnualReportStatus
from rules.loader import registry
from tests.factories import (
    CommitteeFactory,
    PersonFactory,
    UnitFactory,
    case_in_state,
    committee_member,
    member,
    organ,
    orgdept_officer,
)
from tests.reports.conftest import pdf_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def dataset():
    """Committee A: two executed exemptions, a refusal for an exclusion closed after an upheld appeal, a
    refusal for want of a situation under appeal, a proposed and a started case. Committee B: one executed exemption."""
    a = CommitteeFactory(name="中共甲市委", short_name="甲")
    b = CommitteeFactory(name="中共乙市委", short_name="乙")
    unit_a, unit_b = UnitFactory(parent=a), UnitFactory(parent=b)

    def person(unit):
        return PersonFactory(unit=unit)

    cases = [
        case_in_state(CaseState.EXECUTED, subject=person(unit_a)),
        case_in_state(CaseState.EXECUTED, subject=person(unit_a)),
        case_in_state(CaseState.CLOSED, verdict="excluded", subject=PersonFactory(unit=unit_a, with_login=True)),
        case_in_state(CaseState.APPEALED, subject=PersonFactory(unit=unit_a, with_login=True)),
        case_in_state(CaseState.PROPOSED, subject=person(unit_a)),
        case_in_state(CaseState.STARTED, subject=person(unit_a)),
        case_in_state(CaseState.EXECUTED, subject=person(unit_b)),
    ]
    return {"a": a, "b": b, "cases": cases, "member_a": committee_member(a), "member_b": committee_member(b)}


def _period() -> dict[str, str]:
    today = timezone.localdate()
    return {"from": (today - dt.timedelta(days=3)).isoformat(), "to": today.isoformat()}


def _table(insight, chart_id: str) -> dict[str, list]:
    chart = insight.chart(chart_id)
    return {str(row[0]): row[1:] for row in chart.rows}


def test_aggregates_count_exactly_what_the_committee_may_see(dataset):
    user = dataset["member_a"]
    insight = insight_build(user, insight_filter(user, _period()))

    assert (insight.total, insight.decided, insight.tolerated) == (6, 4, 2)
    assert insight.tolerance_rate == "50.0%"
    assert _table(insight, "state") == {"已启动": [1], "已提出建议": [1], "已执行": [2], "申诉中": [1], "已办结": [1]}
    assert _table(insight, "outcome") == {"免责": [2, "50.0%"], "不予容错": [2, "50.0%"]}
    title = registry().family("zhangjiakou").latest.title
    assert _table(insight, "ruleset") == {title: [6]}  # named by its title, never its id
    assert _table(insight, "appeal") == {"尚未复核": [1], "维持原决定": [1], "撤销原决定": [0]}
    # Four first decisions and one appeal review; none departed from the evaluation.
    assert insight.chart("departure").rows == []
    assert "共 5 项决定，其中 0 项" in insight.chart("departure").note
    # Each tolerated case rests on one situation found met; one refusal rests on an exclusion.
    assert sum(r[1] for r in insight.chart("situation").rows) == 2
    assert sum(r[1] for r in insight.chart("exclusion").rows) == 1
    # Clauses are named as people name them (title and article), never by id.
    met = Finding.objects.filter(status=FindingStatus.MET)
    for chart_id, marker in (("situation", ".S"), ("exclusion", ".X")):
        expected = {_clause_name(c) for c in met.filter(clause_id__contains=marker).values_list("clause_id", flat=True)}
        names = [r[0] for r in insight.chart(chart_id).rows]
        assert set(names) <= expected and all("“" in n and "." not in n.split(" · ")[0] for n in names)
    durations = {r[0]: r[1] for r in insight.chart("duration").rows}
    assert durations == {"启动至提出建议": 5, "提出建议至集体决定": 4, "决定至送达": 4, "申诉至复核": 1,
                         "启动至集体决定（全程）": 4}
    month = insight.chart("tolerance").rows[-1]
    assert month[1:] == [4, 2, "50.0%"]


def test_other_committee_sees_only_its_own_counts(dataset):
    user = dataset["member_b"]
    insight = insight_build(user, insight_filter(user, _period()))
    assert (insight.total, insight.decided, insight.tolerated) == (1, 1, 1)
    assert _table(insight, "state") == {"已执行": [1]}


def test_orgdept_sees_decided_cases_only(dataset):
    officer = orgdept_officer(organ(dataset["a"], OrgKind.ORGDEPT))
    insight = insight_build(officer, insight_filter(officer, _period()))
    # The organisation department sees decided cases of its committee's tree (and what it was consulted on).
    assert _table(insight, "state") == {"已提出建议": [1], "已执行": [2], "申诉中": [1], "已办结": [1]}


def test_dashboard_page_shows_charts_with_tables_and_links(client, dataset):
    client.force_login(dataset["member_a"])
    response = client.get(reverse("reports:insight"), _period())
    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(r'id="total-cases">6<', html)
    assert html.count('class="insight-chart"') == 13
    # Data for the charts travels as JSON blocks, not as script; the charts are drawn by a static file.
    assert '<script id="chart-data-state" type="application/json">' in html
    assert "/static/js/insight.js" in html and "/static/vendor/echarts/echarts.min.js" in html
    spec = response.context["insight"].chart("state").spec()
    executed = spec["categories"].index("已执行")
    assert spec["links"][executed] == f"/cases/?from={_period()['from']}&to={_period()['to']}&state=executed"


def test_a_bar_link_lists_exactly_its_cases(client, dataset):
    client.force_login(dataset["member_a"])
    spec = insight_build(dataset["member_a"], insight_filter(dataset["member_a"], _period())).chart("outcome").spec()
    link = spec["links"][spec["categories"].index("不予容错")]
    response = client.get(link)
    assert response.status_code == 200
    assert {c.pk for c in response.context["rows"]} == {dataset["cases"][2].pk, dataset["cases"][3].pk}


def test_organisation_outside_scope_is_refused(client, dataset):
    client.force_login(dataset["member_a"])
    other = organ(dataset["b"], OrgKind.DISCIPLINE)
    response = client.get(reverse("reports:insight"), {**_period(), "organisation": other.pk})
    assert response.status_code == 400
    assert "不在您的查看范围内" in response.content.decode()
    response = client.get(reverse("reports:insight"), {"from": "2026-13-01"})
    assert response.status_code == 400
    assert "起始日期格式应为 YYYY-MM-DD" in response.content.decode()


def test_cadres_and_units_may_not_see_statistics(client, dataset):
    cadre = dataset["cases"][2].subject.user
    client.force_login(cadre)
    assert client.get(reverse("reports:insight")).status_code == 403
    assert client.get(reverse("reports:insight-export", args=["state"])).status_code == 403
    assert client.get(reverse("reports:annual-report")).status_code == 403
    officer = member(dataset["cases"][0].subject.unit, Role.UNIT)
    client.force_login(officer)
    assert client.get(reverse("reports:insight")).status_code == 403
    client.logout()
    assert client.get(reverse("reports:insight")).status_code == 302


def test_xlsx_holds_the_chart_table(client, dataset):
    from openpyxl import load_workbook

    client.force_login(dataset["member_a"])
    response = client.get(reverse("reports:insight-export", args=["state"]), _period())
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(response.content)).active
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    assert rows[0][0].startswith("按状态（")
    assert rows[1] == ["状态", "案件数"]
    assert {r[0]: r[1] for r in rows[2:]} == {"已启动": 1, "已提出建议": 1, "已执行": 2, "申诉中": 1, "已办结": 1}
    everything = load_workbook(io.BytesIO(client.get(reverse("reports:insight-export", args=["all"]),
                                                     _period()).content))
    assert len(everything.sheetnames) == 13
    assert client.get(reverse("reports:insight-export", args=["nothing"]), _period()).status_code == 404
    # Exports are in the audit record.
    from audit.models import AuditEvent

    assert AuditEvent.objects.filter(user_id=dataset["member_a"].pk, action="export",
                                     path__startswith="/insight/export/").count() >= 2


def test_annual_report_pdf_and_xlsx(client, dataset, django_capture_on_commit_callbacks):
    from openpyxl import load_workbook

    user = dataset["member_a"]
    commission = organ(dataset["a"], OrgKind.DISCIPLINE)
    year = timezone.localdate().year
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("reports:annual-report"), {"organisation": commission.pk, "year": year})
    assert response.status_code == 302
    report = AnnualReport.objects.get(organisation=commission, year=year)
    assert report.status == AnnualReportStatus.READY, report.error
    assert re.fullmatch(rf"{re.escape(commission.short_name)}〔{year}〕\d+号", report.number)
    text = pdf_text(report.file.path)
    assert f"{year}年度容错纠错工作情况" in text
    # Only Hohhot's measures require the yearly report: a Zhangjiakou report does not cite them.
    assert "呼和浩特" not in text
    assert "本年度共启动容错纠错案件6件，已作出决定4件，其中予以容错（免责、从轻、减轻）2件，容错率50.0%" in text
    assert report.number in text and f"/verify/{report.token}/" in text
    sheets = load_workbook(report.xlsx.path)
    assert [list(r) for r in sheets["按状态"].iter_rows(values_only=True)][1] == ["状态", "案件数"]
    assert report.figures["outcome"]["rows"] == [["免责", 2, "50.0%"], ["不予容错", 2, "50.0%"]]
    # The verification page knows it; the file downloads for its requester, not for the other committee.
    assert "年度容错纠错工作情况报告" in client.get(reverse("reports:verify", args=[report.token])).content.decode()
    assert client.get(reverse("reports:annual-report-file", args=[report.pk, "pdf"])).status_code == 200
    client.force_login(dataset["member_b"])
    assert client.get(reverse("reports:annual-report-file", args=[report.pk, "pdf"])).status_code == 404


def test_annual_report_refuses_bad_input_and_changes_nothing(client, dataset):
    client.force_login(dataset["member_a"])
    other = organ(dataset["b"], OrgKind.DISCIPLINE)
    for data in ({"organisation": other.pk, "year": timezone.localdate().year},
                 {"organisation": organ(dataset["a"], OrgKind.DISCIPLINE).pk, "year": "20x6"},
                 {"organisation": "", "year": timezone.localdate().year}):
        response = client.post(reverse("reports:annual-report"), data, follow=True)
        assert response.status_code == 200
        assert [m.level_tag for m in response.context["messages"]] == ["error"]
    assert not AnnualReport.objects.exists()


def test_outcome_filter_labels_match_outcomes():
    assert {o.value for o in Outcome} == {"exempt", "lighter", "mitigated", "refused"}


def test_hohhot_annual_report_cites_the_measures_verbatim(client, django_capture_on_commit_callbacks):
    hohhot = CommitteeFactory(name="中共呼和浩特测试市委", jurisdiction="hohhot")
    case_in_state(CaseState.STARTED, subject=PersonFactory(unit=UnitFactory(parent=hohhot)))
    user = committee_member(hohhot)
    commission = organ(hohhot, OrgKind.DISCIPLINE)
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("reports:annual-report"), {"organisation": commission.pk, "year": timezone.localdate().year})
    report = AnnualReport.objects.get(organisation=commission)
    assert report.status == AnnualReportStatus.READY, report.error
    text = pdf_text(report.file.path)
    assert "具體落實情況由各旗縣區紀委監委和市紀委監委派駐(出)機構每年綜合報送市紀委監委" in text
    assert "本年度共启动容错纠错案件1件" in text
