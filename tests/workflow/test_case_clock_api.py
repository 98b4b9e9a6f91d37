"""The stage clock in the case API: the handling side sees the pauses and whether the clock stands
still, as the case page shows them; the case's parties do not. Time is frozen at fixed dates."""

from __future__ import annotations

import datetime as dt

import pytest
from freezegun import freeze_time

from tests.factories import png_upload
from tests.workflow.helpers import act, create_case
from workflow.models import CasePause

pytestmark = pytest.mark.django_db

REQUESTED = "2026-03-02 09:00:00+08:00"  # a Monday
SUBMITTED = "2026-03-09 10:30:00+08:00"  # a week later


@pytest.fixture
def calendar_days(settings, tmp_path):
    settings.STAGE_DEADLINE_DAYS_KIND = "calendar"
    settings.STAGE_DEADLINE_DAYS = {"started": 10, "investigating": 20}
    settings.MEDIA_ROOT = tmp_path


def test_the_api_shows_the_pause_to_the_handler_and_not_to_the_cadre(api, world, calendar_days):
    inspector, cadre = api("inspector"), api("cadre")
    with freeze_time(REQUESTED):
        case = create_case(api, world)
        assert "clock" in case and case["clock"] == {"paused": False, "extended_days": 0, "pauses": []}
        assert act(inspector, case["id"], "investigate").status_code == 200
        deadline = dt.date.fromisoformat(inspector.get(f"/api/cases/{case['id']}/").json()["deadline"])
        requested = act(inspector, case["id"], "request_material", {"reason": "请补充现场处置记录。"})
        assert requested.status_code == 200, requested.json()

    # Given an open request for material, the handler's GET shows the clock standing still.
    open_clock = inspector.get(f"/api/cases/{case['id']}/").json()["clock"]
    assert open_clock["paused"] is True and open_clock["extended_days"] == 0
    [pause] = open_clock["pauses"]
    assert pause["reason"] == "material" and pause["reason_label"] == "等待当事人补充材料"
    assert pause["note"] == "请补充现场处置记录。" and pause["stage"] == "investigating"
    assert dt.datetime.fromisoformat(pause["started_at"]) == dt.datetime.fromisoformat(REQUESTED)
    assert pause["ended_at"] is None and pause["extended_days"] is None
    # The action's own answer carries the same clock.
    assert requested.json()["clock"] == open_clock

    # The cadre's own view of the case has no clock at all, as on the case page.
    mine = cadre.get(f"/api/cases/{case['id']}/")
    assert mine.status_code == 200 and "clock" not in mine.json()
    assert "sent_back_reason" not in mine.json()

    # When the cadre submits material a week later, the pause ends and the deadline moves by 7 days.
    with freeze_time(SUBMITTED):
        uploaded = cadre.post(
            f"/api/cases/{case['id']}/evidence/",
            {"file": png_upload(), "description": "现场处置记录"},
            format="multipart",
        )
        assert uploaded.status_code == 201, uploaded.json()

    detail = inspector.get(f"/api/cases/{case['id']}/").json()
    clock = detail["clock"]
    assert clock["paused"] is False and clock["extended_days"] == 7
    [ended] = clock["pauses"]
    assert dt.datetime.fromisoformat(ended["ended_at"]) == dt.datetime.fromisoformat(SUBMITTED)
    assert ended["extended_days"] == 7
    assert dt.date.fromisoformat(detail["deadline"]) == deadline + dt.timedelta(days=7)
    stored = CasePause.objects.get(case_id=case["id"])
    assert (stored.extended_days, stored.ended_at is not None) == (7, True)

    # Still nothing for the cadre, before or after the pause ended.
    assert "clock" not in cadre.get(f"/api/cases/{case['id']}/").json()


def test_a_case_list_carries_no_clock(api, world, calendar_days):
    """The list shape stays lean: the clock is a detail for one case."""
    with freeze_time(REQUESTED):
        case = create_case(api, world)
    listed = api("inspector").get("/api/cases/").json()["results"]
    assert any(c["id"] == case["id"] for c in listed)
    assert all("clock" not in c for c in listed)


def test_an_applying_unit_does_not_see_the_clock_of_its_application(api, world, calendar_days):
    """The unit that applied for its cadre is a party too: the pause is for the handling side only."""
    with freeze_time(REQUESTED):
        applied = api("unit").post(
            "/api/cases/",
            {
                "title": "汛期危房先行拆除被问责",
                "subject": world.people["housing1"].pk,
                "accountability_org": world.orgs["zjk_dc"].pk,
                "conduct_date": "2026-01-20",
                "matter_category": "emergency",
                "summary": "暴雨中组织先行拆除危房，鉴定备案程序后补。",
            },
            format="json",
        )
        assert applied.status_code == 201, applied.json()
        case_id = applied.json()["id"]
        assert "clock" not in applied.json()
        assert act(api("inspector"), case_id, "investigate").status_code == 200
        assert (
            act(api("inspector"), case_id, "request_material", {"reason": "请补充鉴定报告。"}).status_code
            == 200
        )

    assert api("inspector").get(f"/api/cases/{case_id}/").json()["clock"]["paused"] is True
    unit_view = api("unit").get(f"/api/cases/{case_id}/")
    assert unit_view.status_code == 200 and "clock" not in unit_view.json()
