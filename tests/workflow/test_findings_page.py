"""The findings page: no clause is preselected 符合, a save needs a choice, and every limit reaches the HTML."""

import re

import pytest

from cases.models import Case, Finding

from .helpers import act, create_case, drive_to_proposed

pytestmark = pytest.mark.django_db

EXCLUSION = "zhangjiakou.X1"


@pytest.fixture
def investigating(api, world, client):
    case = create_case(api, world)
    assert act(api("inspector"), case["id"], "investigate").status_code == 200
    client.force_login(world.users["inspector"])
    return case


def _clause_form(html: str, clause_id: str) -> str:
    start = html.index(f'id="clause-{clause_id}"')
    return html[start:html.index("</form>", start)]


def test_an_unrecorded_clause_shows_no_finding_and_preselects_no_status(client, investigating):
    html = client.get(f"/cases/{investigating['id']}/?tab=findings").content.decode()
    block = _clause_form(html, EXCLUSION)

    assert "待查明（未记录认定）" in block
    assert '<option value="" selected>请选择</option>' in block
    assert not re.search(r'<option value="(met|not_met|unknown)" selected', block)
    assert re.search(r'<select[^>]*name="status"[^>]*required', block)


def test_a_recorded_clause_shows_its_finding_selected(client, api, investigating):
    api("inspector").put(f"/api/cases/{investigating['id']}/findings/{EXCLUSION}/",
                         {"status": "not_met", "reasoning": "未发现谋取私利。"}, format="json")

    block = _clause_form(client.get(f"/cases/{investigating['id']}/?tab=findings").content.decode(), EXCLUSION)

    assert "已认定：不符合" in block
    assert '<option value="not_met" selected>' in block
    assert '<option value="" selected>' not in block


@pytest.mark.parametrize("json", [True, False])
def test_a_finding_saved_without_a_choice_is_refused_in_chinese(client, investigating, json):
    headers = {"HTTP_ACCEPT": "application/json"} if json else {}
    response = client.post(f"/cases/{investigating['id']}/findings/{EXCLUSION}/",
                           {"status": "", "reasoning": "随手保存。"}, follow=not json, **headers)

    text = response.json()["error"] if json else response.content.decode()
    assert "请选择认定" in text
    assert response.status_code == (400 if json else 200)
    assert not Finding.objects.exists()


def test_an_over_long_reasoning_from_the_page_is_refused_and_nothing_is_written(client, investigating):
    revision = Case.objects.get(pk=investigating["id"]).revision

    response = client.post(f"/cases/{investigating['id']}/findings/{EXCLUSION}/",
                           {"status": "not_met", "reasoning": "理" * 5001}, HTTP_ACCEPT="application/json")

    assert response.status_code == 400
    assert "理由不能超过 5000 字（现为 5001 字）" in response.json()["error"]
    assert not Finding.objects.exists()
    assert Case.objects.get(pk=investigating["id"]).revision == revision


def test_the_findings_textareas_carry_the_reasoning_limit(client, investigating):
    html = client.get(f"/cases/{investigating['id']}/?tab=findings").content.decode()

    areas = re.findall(r'<textarea id="rs-[^"]+"[^>]*>', html)
    assert areas and all('maxlength="5000"' in a for a in areas)


def test_the_new_case_form_carries_its_limits(client, world):
    client.force_login(world.users["inspector"])
    html = client.get("/cases/new/").content.decode()

    assert re.search(r'<input[^>]*name="title"[^>]*maxlength="200"', html)
    assert re.search(r'<textarea[^>]*name="summary"[^>]*maxlength="20000"', html)
    assert re.search(r'<textarea[^>]*name="remedial_measures"[^>]*maxlength="20000"', html)


def test_the_action_forms_carry_their_limits(client, api, world):
    case = drive_to_proposed(api, world)
    client.force_login(world.users["committee"])
    html = client.get(f"/cases/{case['id']}/").content.decode()

    assert re.search(r'<textarea[^>]*name="reason"[^>]*maxlength="2000"[^>]*id="id_send_back_reason"', html)
    assert re.search(r'<textarea[^>]*name="resolution"[^>]*maxlength="20000"[^>]*id="id_decide_resolution"', html)


def test_an_over_long_reason_on_the_page_is_shown_beside_the_field(client, api, world):
    case = drive_to_proposed(api, world)
    client.force_login(world.users["committee"])

    response = client.post(f"/cases/{case['id']}/act/send_back/", {
        "reason": "退" * 2001, "revision": Case.objects.get(pk=case["id"]).revision})

    assert response.status_code == 400
    html = response.content.decode()
    block = html[html.index('for="id_send_back_reason"'):]
    assert block.index("理由不能超过 2000 字（现为 2001 字）") < block.index("</form>")
    assert Case.objects.get(pk=case["id"]).state == "proposed"
