"""How the pages look where a user meets them: the evidence preview opens in place, a phone shows every
page a cadre or unit uses without sideways scrolling, and the case and decision pages print as a clean
审批表 on A4."""

from __future__ import annotations

import io
import subprocess

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from playwright.sync_api import Page, expect

from cases.models import Evidence

from .conftest import MEDIA, SCREENSHOTS, Site
from .helpers import PNG_BYTES, actor, seed_application, seed_executed, seed_proposed

pytestmark = pytest.mark.e2e

# One A5-sized page filled with a red square: a blank preview cannot pass for it.
_STREAM = b"0.8 0.1 0.1 rg 40 40 340 515 re f"
RED_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 420 595]/Contents 4 0 R>>endobj\n"
    b"4 0 obj<</Length " + str(len(_STREAM)).encode() + b">>stream\n" + _STREAM + b"\nendstream endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def _attach(site: Site, case, name: str, content: bytes, content_type: str) -> Evidence:
    from workflow import services

    return services.evidence_add(case_id=case.pk, actor=actor(site.world, "inspector"),
                                 upload=SimpleUploadedFile(name, content, content_type=content_type),
                                 description="现场材料")


def _red_share(png: bytes) -> float:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    pixels = list(image.get_flattened_data())
    return sum(1 for r, g, b in pixels if r > 150 and g < 80 and b < 80) / len(pixels)


# --- evidence preview ----------------------------------------------------------------------------

def test_evidence_preview_loads_only_when_opened_and_shows_the_pdf(site: Site) -> None:
    from workflow import services

    case = seed_application(site.world)
    services.case_investigate(case_id=case.pk, actor=actor(site.world, "inspector"))
    pdf = _attach(site, case, "查封审批单.pdf", RED_PDF, "application/pdf")
    png = _attach(site, case, "现场照片.png", PNG_BYTES, "image/png")
    pdf_url = f"/cases/{case.pk}/evidence/{pdf.pk}/"
    png_url = f"/cases/{case.pk}/evidence/{png.pk}/"

    page = site.login("inspector")
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    page.goto(f"/cases/{case.pk}/?tab=evidence")
    page.wait_for_load_state("networkidle")
    # Closed previews ask for nothing.
    assert not [url for url in asked if url.endswith((pdf_url, png_url))]

    # An image previews in place, loaded once opened.
    page.get_by_text("预览 现场照片.png").click()
    image = page.get_by_role("img", name="现场照片.png")
    expect(image).to_be_visible()
    page.wait_for_function("() => document.querySelector('img.preview-img').naturalWidth === 1")
    assert [url for url in asked if url.endswith(png_url)]
    assert not [url for url in asked if url.endswith(pdf_url)]

    # The PDF: same-origin framing lets the browser's viewer draw it.
    with page.expect_response(lambda r: r.url.endswith(pdf_url)) as answer:
        page.get_by_text("预览 查封审批单.pdf").click()
    response = answer.value
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["x-frame-options"] == "SAMEORIGIN"
    frame = page.locator("iframe.preview-frame")
    expect(frame).to_be_visible()
    assert frame.evaluate("f => f.getAttribute('src')") == pdf_url
    # The viewer draws the page: the red square fills much of the frame (a blocked frame stays blank).
    for _ in range(20):
        if _red_share(frame.screenshot()) > 0.05:
            break
        page.wait_for_timeout(250)
    assert _red_share(frame.screenshot()) > 0.05, "the PDF preview stayed blank"


# --- phone -----------------------------------------------------------------------------------------

PHONE = {"width": 390, "height": 844}
# Narrower than this, a cell shows a character or two per line: unreadable.
MIN_CELL_PX = 60
_LAYOUT = """minCell => {
  const narrow = [];
  document.querySelectorAll("table td, table th").forEach(c => {
    const head = c.closest("thead");  // on a phone a card table keeps its head for screen readers only
    if (head && head.getBoundingClientRect().width <= 1) { return; }
    const r = c.getBoundingClientRect();
    if (r.width > 0 && r.height > 0 && r.width < minCell && c.textContent.trim()) {
      narrow.push(c.textContent.trim().slice(0, 16) + " (" + Math.round(r.width) + "px)");
    }
  });
  const sideways = [];
  document.querySelectorAll("body *").forEach(el => {
    const style = getComputedStyle(el);
    if (["auto", "scroll"].includes(style.overflowX) && el.scrollWidth > el.clientWidth + 1
        && el.tagName !== "TEXTAREA" && el.tagName !== "SELECT") {
      sideways.push(el.tagName.toLowerCase() + "." + el.className + " (" + el.scrollWidth + " > " + el.clientWidth + ")");
    }
  });
  return {scroll: document.documentElement.scrollWidth, inner: window.innerWidth, narrow, sideways};
}"""


def _phone_problems(page: Page, path: str) -> list[str]:
    page.goto(path)
    page.wait_for_load_state("networkidle")
    found = page.evaluate(_LAYOUT, MIN_CELL_PX)
    problems = []
    if found["scroll"] > found["inner"]:
        problems.append(f"{path}: page is {found['scroll']}px wide on a {found['inner']}px screen")
    problems += [f"{path}: squeezed cell {cell}" for cell in found["narrow"]]
    problems += [f"{path}: scrolls sideways inside {box}" for box in found["sideways"]]
    return problems


def _case_tabs(page: Page, case_id: int) -> list[str]:
    page.goto(f"/cases/{case_id}/")
    tabs = page.locator("nav.tabs a[data-tab]").evaluate_all("links => links.map(a => a.dataset.tab)")
    return [f"/cases/{case_id}/?tab={tab}" for tab in tabs]


def test_every_page_a_cadre_or_unit_uses_fits_a_phone(site: Site) -> None:
    from workflow import services

    case = seed_executed(site.world, username="cadre")
    services.evidence_add(case_id=case.pk, actor=actor(site.world, "cadre"),
                          upload=SimpleUploadedFile("送达回证.pdf", RED_PDF, content_type="application/pdf"),
                          description="本人补充的送达回证扫描件")
    unit_case = services.case_create(
        actor=actor(site.world, "unit"), title="汛期危房先行拆除被问责", subject=site.world.people["housing1"],
        accountability_org=site.world.orgs["zjk_dc"], conduct_date=case.conduct_date, matter_category="emergency",
        summary="暴雨中组织对有倒塌风险的危房先行拆除，鉴定备案程序后补，被通报问责。", remedial_measures="",
        claimed_situations=[],
    )

    problems: list[str] = []
    anonymous = site.new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    problems += _phone_problems(anonymous, "/login/")

    cadre = site.login("cadre", viewport=PHONE, is_mobile=True, has_touch=True)
    for path in ["/", "/mine/", "/apply/", "/notifications/", "/password/", "/rules/", "/rules/zhangjiakou/",
                 "/rules/provisions/zhangjiakou/", *_case_tabs(cadre, case.pk)]:
        problems += _phone_problems(cadre, path)
    # The documents tab as a cadre meets it: the cards, each value under its column's name.
    cadre.goto(f"/cases/{case.pk}/?tab=documents")
    first = cadre.locator("section[data-panel=documents] table td[data-label]").first
    assert first.evaluate("td => getComputedStyle(td, '::before').content") == '"文书"'
    assert first.evaluate("td => getComputedStyle(td.closest('table').tHead).position") == "absolute"
    cadre.screenshot(path=str(SCREENSHOTS / "phone-cadre.png"), full_page=False)

    unit = site.login("unit", viewport=PHONE, is_mobile=True, has_touch=True)
    for path in ["/", "/mine/", "/apply/", "/notifications/", *_case_tabs(unit, unit_case.pk)]:
        problems += _phone_problems(unit, path)
    assert not problems, "\n".join(problems)


def test_the_officials_pages_fit_a_phone_too(site: Site) -> None:
    case = seed_executed(site.world)
    proposed = seed_proposed(site.world, username="cadre2", title="防汛抢险中先行调用物资被问责")
    problems: list[str] = []
    inspector = site.login("inspector", viewport=PHONE, is_mobile=True, has_touch=True)
    for path in ["/", "/cases/", "/cases/new/", *_case_tabs(inspector, case.pk), *_case_tabs(inspector, proposed.pk),
                 "/rules/compare/", "/rules/provisions/", "/rules/provisions/zhangjiakou/"]:
        problems += _phone_problems(inspector, path)
    committee = site.login("committee", viewport=PHONE, is_mobile=True, has_touch=True)
    for path in ["/cases/", f"/cases/{proposed.pk}/review/"]:
        problems += _phone_problems(committee, path)
    orgdept = site.login("orgdept", viewport=PHONE, is_mobile=True, has_touch=True)
    problems += _phone_problems(orgdept, "/filings/")
    auditor = site.login("auditor", viewport=PHONE, is_mobile=True, has_touch=True)
    problems += _phone_problems(auditor, "/audit/")
    assert not problems, "\n".join(problems)


# --- print -----------------------------------------------------------------------------------------

_SCREEN_ONLY = "header.topbar, nav.tabs, form, button, .messages, footer"


def _shown(page: Page, selector: str) -> int:
    """How many elements matching ``selector`` take up room on the page as it is now rendered."""
    return page.locator(selector).evaluate_all(
        "els => els.filter(e => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden').length"
    )


def test_case_and_decision_pages_print_as_an_approval_form_on_a4(site: Site) -> None:
    case = seed_executed(site.world)
    inspector = site.login("inspector")
    inspector.goto(f"/cases/{case.pk}/?tab=documents")
    assert _shown(inspector, ".print-head") == 0 and _shown(inspector, "nav.tabs") == 1
    inspector.emulate_media(media="print")
    for selector in _SCREEN_ONLY.split(", "):
        assert _shown(inspector, selector) == 0, selector
    # Every part of the file, not only the open tab: the facts, the findings clause by clause, the
    # proposal with its consultation, the decision; the history and the action forms are not printed.
    for panel in ("facts", "findings", "opinions", "decision", "documents"):
        assert _shown(inspector, f"section[data-panel={panel}]") == 1, panel
    assert _shown(inspector, "section[data-panel=history]") == 0
    assert _shown(inspector, "#evaluation-panel .clause") >= 5
    sheet = inspector.locator(".print-signoff")
    expect(sheet).to_be_visible()
    expect(sheet).to_contain_text("问责部门初步意见")
    expect(sheet).to_contain_text("建议免责")
    expect(sheet).to_contain_text("党委（党组）集体研究决定")
    expect(sheet).to_contain_text("经市委常委会集体研究，同意问责部门的意见。")

    committee = site.login("committee")
    committee.goto(f"/cases/{case.pk}/review/")
    committee.emulate_media(media="print")
    for selector in _SCREEN_ONLY.split(", "):
        assert _shown(committee, selector) == 0, selector
    head = committee.locator(".print-head")
    expect(head).to_contain_text("容错纠错审批表")
    expect(head).to_contain_text(case.reference)
    expect(head.locator("table.print-form")).to_contain_text(case.summary)
    expect(committee.locator(".print-signoff")).to_contain_text("实到 9 人")

    MEDIA.mkdir(parents=True, exist_ok=True)
    pdf = MEDIA / "printed-approval-form.pdf"
    committee.pdf(path=str(pdf), format="A4", print_background=True)
    pages = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "Page size:      595.92 x 842.88 pts (A4)" in pages or "(A4)" in pages
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    for words in ("容错纠错审批表", case.reference, "审批意见", "实到9人", "没有明令禁止"):
        assert words in text.replace(" ", ""), words
    assert "退出" not in text and "保存草稿" not in text
    target = SCREENSHOTS / "printed-approval-form"
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(target)],
                   check=True)
    assert target.with_suffix(".png").stat().st_size > 10_000


def test_list_pages_print_as_plain_tables(site: Site) -> None:
    seed_executed(site.world)
    orgdept = site.login("orgdept")
    for path in ("/cases/", "/filings/"):
        orgdept.goto(path)
        orgdept.emulate_media(media="print")
        for selector in ("header.topbar", "form.filters", "button", "footer"):
            assert _shown(orgdept, selector) == 0, (path, selector)
        table = orgdept.locator("table.table").first
        assert table.evaluate("t => getComputedStyle(t).display") == "table"
        assert _shown(orgdept, "table.table thead th") >= 7
        assert _shown(orgdept, "table.table tbody tr") >= 1
        orgdept.emulate_media(media="screen")
