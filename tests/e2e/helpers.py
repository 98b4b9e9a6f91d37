"""State the browser tests start from, reached through the workflow services, and small page helpers."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.utils import timezone
from playwright.sync_api import Page

from cases.models import Case
from rules.loader import registry

# A one-page PDF and a 1×1 PNG: enough for the upload, the SHA-256 and the preview.
PDF_BYTES = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)
PNG_BYTES = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201a2b1d4a80000000049454e44ae426082"
)
MEETING = {"meeting_kind": "standing", "members_present": 9, "members_total": 11}


def actor(world: Any, username: str):  # noqa: ANN201 - workflow.history.Actor
    from accounts.selectors import primary_organisation
    from workflow.history import Actor

    user = world.users[username]
    org = primary_organisation(user)
    return Actor(user=user, role=username, organisation=org.name if org else "", via="test")


def conduct_date() -> dt.date:
    return timezone.localdate() - dt.timedelta(days=40)


def findings(case: Case, *, tolerable: bool) -> dict[str, str]:
    """Every prerequisite met, no exclusion; the first situation met (tolerable) or none (refused)."""
    version = registry().version_for(case.ruleset, case.conduct_date)
    result = {c.id: "met" for c in version.prerequisites()}
    situations = version.situations()
    if tolerable:
        result[situations[0].id] = "met"
        result.update({r.id: "met" for r in version.requirements_for(situations[0].id)})
    else:
        result.update({s.id: "not_met" for s in situations})
    result.update({c.id: "not_met" for c in version.exclusions()})
    return result


def seed_application(world: Any, *, username: str = "cadre", title: str = "环境执法中先行查封偷排企业被问责") -> Case:
    from workflow import services

    version = registry().version_for("zhangjiakou", conduct_date())
    return services.case_create(
        actor=actor(world, username), title=title, subject=None, accountability_org=world.orgs["zjk_dc"],
        conduct_date=conduct_date(), matter_category="environment",
        summary="中央环保督察期间，对夜间偷排的企业先行查封，查封审批手续次日补办，被通报问责。",
        remedial_measures="已补办全部手续，并向企业说明情况。", claimed_situations=[version.situations()[0].id],
    )


def seed_proposed(world: Any, *, username: str = "cadre", tolerable: bool = True, title: str | None = None,
                  answered: bool = True) -> Case:
    """A proposed case; ``answered``: the organisation department has replied, so the committee may decide."""
    from workflow import services

    case = seed_application(world, username=username, **({"title": title} if title else {}))
    inspector = actor(world, "inspector")
    services.case_investigate(case_id=case.pk, actor=inspector)
    for clause_id, status in findings(case, tolerable=tolerable).items():
        services.finding_record(case_id=case.pk, actor=inspector, clause_id=clause_id, status=status,
                                reasoning="经调取会议纪要和现场执法记录核实。")
    services.case_propose(case_id=case.pk, actor=inspector, recommended_outcome="exempt" if tolerable else "refused",
                          opinion="建议依规认定。" if tolerable else "不属于所列容错情形，建议不予容错。")
    if answered:
        services.consultation_reply(case_id=case.pk, actor=actor(world, "orgdept"), opinion="agree", comment="同意。")
    case.refresh_from_db()
    return case


def seed_executed(world: Any, *, username: str = "cadre", tolerable: bool = True, title: str | None = None) -> Case:
    """Decided by the committee and delivered: the documents are rendered on the way (tasks run eagerly)."""
    from workflow import services

    case = seed_proposed(world, username=username, tolerable=tolerable, title=title)
    services.case_decide(case_id=case.pk, actor=actor(world, "committee"),
                         outcome="exempt" if tolerable else "refused", meeting_date=timezone.localdate(),
                         resolution="经市委常委会集体研究，同意问责部门的意见。", **MEETING)
    services.case_execute(case_id=case.pk, actor=actor(world, "inspector"), delivered_on=timezone.localdate())
    case.refresh_from_db()
    return case


# --- pages ---------------------------------------------------------------------------------------

def open_tab(page: Page, name: str) -> None:
    page.locator("nav.tabs").get_by_role("link", name=name).click()


def action_form(page: Page, action: str):  # noqa: ANN201 - Locator
    return page.locator(f"form[action$='/act/{action}/']")


def field_of(page_or_form: Any, label: str):  # noqa: ANN201 - Locator
    """The .field block holding the labelled control: where its server-side error must appear."""
    name = re.compile(rf"^\s*{re.escape(label)}\s*\*?\s*$")
    page = page_or_form if isinstance(page_or_form, Page) else page_or_form.page
    # ``has`` is resolved inside each candidate, so it must be built from the page, not from the form.
    return page_or_form.locator("div.field").filter(has=page.locator("label, legend", has_text=name))


def control(form: Any, label: str):  # noqa: ANN201 - Locator
    """The control a label inside ``form`` points at, looked up inside that form.

    The case page renders several action forms whose fields share ids (see test_accessibility), so the
    page-wide ``get_by_label`` can resolve a label to another form's control.
    """
    name = re.compile(rf"^\s*{re.escape(label)}\s*\*?\s*$")
    target = form.locator("label", has_text=name).first.get_attribute("for")
    return form.locator(f"[id='{target}']")


def state_badge(page: Page) -> str:
    return page.locator("h1 .badge").first.inner_text()


def confirm(target: Any, *, accept: bool = True) -> None:
    """Answer the confirmation an irreversible action asks (确定, or 取消 with ``accept=False``).

    ``target`` is the page or any locator on it (e.g. the action's form).
    """
    from playwright.sync_api import expect

    page = target if isinstance(target, Page) else target.page
    dialog = page.locator("dialog.confirm-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="确定" if accept else "取消").click()

def clause_title(clause_id: str) -> str:
    """How a page names a clause to people (its title): the finding form's labels read "<title> 认定"."""
    for family in registry().families():
        for version in family.versions:
            if version.has_clause(clause_id):
                return version.clause(clause_id).title
    raise KeyError(clause_id)
