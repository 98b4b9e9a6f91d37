"""The provision map in the browser: a document article by article beside what the system does with it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from rules.provision_map import all_maps

from .conftest import Site, screenshot

pytestmark = pytest.mark.e2e


def test_provision_map_from_the_rule_set_page_to_a_clause(site: Site) -> None:
    page = site.login("cadre")
    page.goto("/rules/")
    page.get_by_role("link", name="文件逐条对照表").click()
    expect(page.locator("h1")).to_have_text("文件逐条对照表")
    expect(page.locator("table tbody tr")).to_have_count(len(all_maps()))
    page.goto("/rules/zhangjiakou/")
    page.get_by_role("link", name="逐条对照：张家口市激励干部担当干事的规定（2019）").click()
    expect(page.locator("h1")).to_contain_text("逐条对照：张家口市激励干部担当干事的规定")
    item = page.locator("article.provision").filter(has_text="附件2 一、容错条件第4项")
    expect(item.locator(".badge-decisive")).to_have_text("决定性条目")
    item.scroll_into_view_if_needed()
    screenshot(page, "provision-map")
    item.get_by_role("link", name="出于公心、没有以权谋私").click()
    expect(page).to_have_url(re.compile(r"/rules/zhangjiakou/#zhangjiakou\.P4$"))
    expect(page.locator("article#zhangjiakou\\.P4")).to_be_in_viewport()
