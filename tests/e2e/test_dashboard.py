"""Statistics (统计分析) in the browser: the charts draw, nothing errs, and a bar opens the cases behind it."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import screenshot
from tests.e2e.helpers import seed_executed, seed_proposed

pytestmark = pytest.mark.e2e


def test_dashboard_draws_charts_and_a_bar_lists_its_cases(site):
    executed = seed_executed(site.world, title="河道整治中先行拆除违建被问责")
    proposed = seed_proposed(site.world, title="招商项目土地预供被问责")
    page = site.login("committee")
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)

    page.get_by_role("link", name="统计分析").click()
    page.wait_for_url("**/insight/")
    assert page.locator("#total-cases").inner_text() == "2"
    # Every chart with data is drawn by ECharts on a canvas, with its table beside it.
    page.wait_for_selector("#card-state .insight-chart canvas")
    drawn = page.locator(".insight-chart canvas").count()
    assert drawn >= 8
    state_rows = page.locator("#card-state table tbody tr").all_inner_texts()
    assert {r.split("\t")[0] for r in state_rows} == {"已提出建议", "已执行"}
    screenshot(page, "dashboard")
    assert console_errors == []

    # Click the bar of 已执行 in the chart by state: the case list filtered to those cases opens.
    x, y = page.evaluate("""() => {
        const el = document.querySelector('#card-state .insight-chart');
        const chart = window.echarts.getInstanceByDom(el);
        const spec = JSON.parse(document.getElementById('chart-data-state').textContent);
        const i = spec.categories.indexOf('已执行');
        const [px, py] = chart.convertToPixel({seriesIndex: 0}, [i, spec.series[0].data[i] / 2]);
        const box = el.getBoundingClientRect();
        return [box.left + px, box.top + py];
    }""")
    page.mouse.click(x, y)
    page.wait_for_url("**/cases/?*state=executed*")
    listed = page.locator("main table").inner_text()
    assert executed.title in listed
    assert proposed.title not in listed
    assert console_errors == []


def test_cadre_has_no_statistics(site):
    page = site.login("cadre")
    assert page.get_by_role("link", name="统计分析").count() == 0
    response = page.goto("/insight/")
    assert response is not None and response.status == 403
