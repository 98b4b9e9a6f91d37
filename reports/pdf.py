"""HTML to PDF with WeasyPrint: one font configuration per process, and no URL fetched but our own.

Rendering runs in long-lived Celery workers (PERFORMANCE.md): the ``FontConfiguration`` is kept for
the life of the process so memory stays flat, and fonts are subset on output by libharfbuzz-subset.
"""

from __future__ import annotations

import atexit
import base64
import functools
import io
import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string, select_template

from .fonts import cache_dir, font_plan

# Documents refer to static files under this made-up origin; the fetcher maps it to the static finders.
STATIC_ORIGIN = "https://static.reports.invalid/"
FONT_PREFIX = "__fonts__/"
QR_MASK = 2
# No A4 page of our documents holds more characters of text than this (the densest, the filing report's
# clause list in small type, holds about 1,300): a longer text cannot fit the page limit and is refused
# before layout, where an oversized document spends its time and memory.
MAX_CHARS_PER_PAGE = 2500
_TAG = re.compile(r"<[^>]*>")


class RenderError(RuntimeError):
    """The document could not be rendered (a template or layout problem)."""


class DocumentRefused(RenderError):
    """Rendering refused for a reason a retry cannot change (no site address, too many pages): fail at once."""


@functools.cache
def _weasyprint() -> tuple[type, type, type]:
    # Imported on first use: the web process pays the import cost only if it renders.
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration
    from weasyprint.urls import URLFetcher

    return HTML, FontConfiguration, URLFetcher


@functools.cache
def font_configuration() -> object:
    """The process's one FontConfiguration (a new one per document makes memory grow)."""
    _, font_config_class, _ = _weasyprint()
    # Release it before interpreter shutdown, while the libraries its destructor calls still exist.
    atexit.register(font_configuration.cache_clear)
    return font_config_class()


@functools.cache
def _fetcher() -> object:
    _, _, url_fetcher_class = _weasyprint()

    class StaticOnlyFetcher(url_fetcher_class):  # type: ignore[misc, valid-type]
        """Serve ``data:`` URLs and the project's own static files; refuse everything else."""

        def fetch(self, url: str, headers: object = None) -> object:
            from weasyprint.urls import URLFetcherResponse

            if url.startswith("data:"):
                return super().fetch(url, headers)
            if url.startswith(STATIC_ORIGIN + FONT_PREFIX):
                name = url[len(STATIC_ORIGIN + FONT_PREFIX):]
                path = cache_dir() / name
                if "/" not in name and ".." not in name and path.is_file():
                    return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": "font/otf"})
            if url.startswith(STATIC_ORIGIN):
                relative = url[len(STATIC_ORIGIN):].split("?", 1)[0].split("#", 1)[0]
                found = finders.find(relative) if ".." not in relative else None
                if found:
                    path = Path(found if isinstance(found, str) else found[0])
                    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                    return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": mime})
            raise ValueError(f"文书渲染不读取外部地址：{url}")

    return StaticOnlyFetcher(fail_on_errors=False)


@dataclass(frozen=True)
class RenderedPdf:
    content: bytes
    pages: int


def template_for(kind: str, jurisdiction: str) -> str:
    """A jurisdiction may override a document: ``reports/documents/<ruleset>/<kind>.html`` first."""
    template = select_template([f"reports/documents/{jurisdiction}/{kind}.html", f"reports/documents/{kind}.html"])
    return template.template.name


def render_html(template_name: str, context: dict) -> str:
    plan = font_plan()
    return render_to_string(template_name, {**context, "fonts": plan, "static_origin": STATIC_ORIGIN,
                                            "font_origin": STATIC_ORIGIN + FONT_PREFIX})


@functools.cache
def _stylesheet_check() -> None:
    # The fetcher does not fail on a missing file, so check once: never an unstyled official document.
    if not finders.find("reports/document.css"):
        raise RenderError("文书样式表 reports/document.css 缺失，不能生成公文格式的文书。")


def _too_long(pages: int | str, max_pages: int) -> DocumentRefused:
    return DocumentRefused(f"文书篇幅超出上限：{pages}页，超过允许的{max_pages}页（DOCUMENT_MAX_PAGES）。"
                           "请核对案件中是否有异常冗长的内容，删减后重新生成。")


def render_pdf(html: str, *, max_pages: int | None = None) -> RenderedPdf:
    """Lay out and write the PDF; fonts and the stylesheet checked before anything is drawn.

    A document longer than ``max_pages`` (default ``DOCUMENT_MAX_PAGES``) is refused (``DocumentRefused``):
    by its text before layout when it clearly cannot fit, else by its page count after layout and before
    writing (the costlier part).
    """
    max_pages = max_pages or settings.DOCUMENT_MAX_PAGES
    font_plan()
    _stylesheet_check()
    body = html[html.find("<body"):]
    chars = len(_TAG.sub("", body))
    if chars > max_pages * MAX_CHARS_PER_PAGE:
        raise _too_long(f"约{chars // MAX_CHARS_PER_PAGE}", max_pages)
    html_class, _, _ = _weasyprint()
    try:
        document = html_class(string=html, base_url=STATIC_ORIGIN, url_fetcher=_fetcher()).render(
            font_config=font_configuration(),
        )
    except Exception as exc:
        raise RenderError(f"文书排版失败：{exc}") from exc
    if len(document.pages) > max_pages:
        raise _too_long(len(document.pages), max_pages)
    try:
        content = document.write_pdf()
    except Exception as exc:
        raise RenderError(f"文书排版失败：{exc}") from exc
    return RenderedPdf(content=content, pages=len(document.pages))


def qr_png_data_uri(text: str) -> str:
    """A QR code as a 1-bit PNG data URI, one pixel per module, scaled up crisply by the stylesheet.

    A bitmap, not SVG: WeasyPrint draws an SVG path of a few hundred modules slowly (0.4 s per
    document); the PNG is a few hundred bytes and costs nothing to place.
    """
    import qrcode

    # A fixed mask: every mask pattern is valid and scans; choosing the "best" one tries all eight and
    # costs more than the rest of the code (9 ms of a 120 ms filing report).
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=1, box_size=1, mask_pattern=QR_MASK)
    qr.add_data(text)
    qr.make(fit=True)
    buffer = io.BytesIO()
    qr.make_image().get_image().convert("1").save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
