"""Rule-set browser and side-by-side page (Chinese, login required)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_in(client, django_user_model):
    client.force_login(django_user_model.objects.create_user(username="u", password="pw-12345678"))
    return client


def test_pages_require_login(client):
    response = client.get(reverse("rules:list"))
    assert response.status_code == 302


def test_list_shows_every_rule_set(client_in):
    html = client_in.get(reverse("rules:list")).content.decode()
    assert "豫办〔2017〕28号" in html
    assert "张家口市激励干部担当干事的规定" in html
    assert "示例" in html


def test_detail_groups_clauses_by_kind_with_citations(client_in):
    html = client_in.get(reverse("rules:detail", args=["henan"])).content.decode()
    assert "前置条件（P）" in html and "容错情形（S）" in html and "不予容错情形（X）" in html
    assert "二(二)4" in html
    assert "报上一级全面深化改革领导小组备案" in html


def test_detail_shows_clause_level_diff_between_versions(client_in, testland_registry):
    html = client_in.get(reverse("rules:detail", args=["testland"]) + "?from=1&to=2").content.decode()
    assert "1 → 2 的差异" in html
    assert "因不可抗力或者意外事件未完成目标的" in html
    assert "配置" in html


def test_loss_threshold_is_shown_as_configuration_not_as_a_version(client_in):
    html = client_in.get(reverse("rules:detail", args=["zhangjiakou"])).content.decode()
    assert "配置：重大损失数额" in html and "major_loss_threshold" not in html
    assert "配置，非文件规定" in html
    assert "本系统自 2019年3月26日 起设为 500,000 元" in html
    assert "2023" not in html


def test_unknown_rule_set_page_is_404(client_in):
    assert client_in.get(reverse("rules:detail", args=["nowhere"])).status_code == 404


def test_compare_page_evaluates_side_by_side(client_in):
    form = client_in.get(reverse("rules:compare")).content.decode()
    assert "是否为自己、他人或单位谋取私利" in form
    params = {
        "rulesets": ["zhangjiakou", "henan", "hohhot"],
        "conduct_date": "2020-06-01",
        "q_private_gain": "yes",
    }
    html = client_in.get(reverse("rules:compare"), params).content.decode()
    assert "对照结果" in html
    assert html.count("不予容错") >= 2
    # The decisive clause by its title and article, never its id.
    assert "“以权谋私”（附件2 二、第2项）" in html
    assert "zhangjiakou.X2" not in re.sub(r"<[^>]+>", " ", html)  # in no text a person reads


def test_compare_page_asks_for_findings_with_a_select_per_clause(client_in):
    form = client_in.get(reverse("rules:compare")).content.decode()
    assert 'name="findings"' not in form and "JSON" not in form
    assert '<select name="c:henan.P1"' in form
    params = {"rulesets": ["henan"], "conduct_date": "2020-06-01", "c:henan.X1": "met"}
    html = client_in.get(reverse("rules:compare"), params).content.decode()
    assert "对照结果" in html and "不予容错" in html
    assert "存在该情形，导致不予容错" in html


def test_compare_page_reports_a_bad_finding_in_chinese(client_in):
    params = {"rulesets": ["henan"], "conduct_date": "2020-06-01", "c:henan.P1": "maybe"}
    html = client_in.get(reverse("rules:compare"), params).content.decode()
    assert "对照结果" not in html
    assert "选择一个有效的选项" in html


def test_provision_index_counts_every_document_and_links_its_map(client_in):
    from rules.provision_map import all_maps

    html = client_in.get(reverse("rules:provisions")).content.decode()
    for m in all_maps():
        c = m.counts()
        assert reverse("rules:provision_map", args=[m.key]) in html
        assert (f'<td data-label="条目">{c["provisions"]}</td><td data-label="规则条款">{c["clause"]}</td>'
                f'<td data-label="程序功能">{c["procedure"]}</td>') in html


def test_provision_map_shows_each_article_beside_what_the_system_does(client_in):
    html = client_in.get(reverse("rules:provision_map", args=["zhangjiakou"])).content.decode()
    # 附件2 一、容错条件第4项 is encoded as zhangjiakou.P4, linked to the clause on the rule-set page.
    assert "附件2 一、容错条件第4项" in html
    assert f'href="{reverse("rules:detail", args=["zhangjiakou"])}#zhangjiakou.P4"' in html
    # A procedure names the workflow feature; a provision not encoded gives the reason.
    assert "程序功能：" in html and "未编码的理由：破格提拔，不属容错认定" in html
    assert "说明性内容" in html and "决定性条目" in html
    assert "第四条打破隐性台阶,大胆提拔使用干部。" in html  # the document's own text, verbatim
    assert "本文件共 95 条" in html
    assert html.count("provision-decisive") == 30  # the decisive provisions are marked, each one


def test_a_clause_borrowed_from_another_rule_set_links_to_its_own_page(client_in):
    html = client_in.get(reverse("rules:provision_map", args=["zhejiang"])).content.decode()
    assert f'{reverse("rules:detail", args=["zhejiang-dept-example"])}#zhejiang-dept-example.X1' in html
    assert f'{reverse("rules:detail", args=["zhejiang"])}#zhejiang.S1' in html
    assert "不是负面清单" in html  # the entry's note


def test_rule_list_and_rule_set_page_link_the_provision_map(client_in):
    assert reverse("rules:provisions") in client_in.get(reverse("rules:list")).content.decode()
    html = client_in.get(reverse("rules:detail", args=["zhejiang-dept-example"])).content.decode()
    assert reverse("rules:provision_map", args=["zhejiang"]) in html


def test_unknown_document_map_is_404(client_in):
    assert client_in.get(reverse("rules:provision_map", args=["nowhere"])).status_code == 404
