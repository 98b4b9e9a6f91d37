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

from .conftest import SCREENSHOTS, Site
from .helpers import PNG_BYTES, actor, open_tab, seed_application, seed_executed, seed_proposed

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
    page.locator("details.preview").first.screenshot(path=str(SCREENSHOTS / "evidence-preview.png"))
