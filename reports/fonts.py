"""Which Chinese fonts the documents use, checked once per process through fontconfig itself.

A PDF made without a CJK font shows empty boxes; generation refuses instead, with a message that
says what to install. The check asks the same fontconfig library WeasyPrint renders with (not the
``fc-list`` binary, which an image may lack) and honours ``FONTCONFIG_FILE`` as rendering does.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import cffi
from django.conf import settings

logger = logging.getLogger(__name__)

MISSING_MESSAGE = "缺少中文字体：请安装 fonts-noto-cjk（sudo apt-get install fonts-noto-cjk），或将 REPORT_FONT_* 指向已安装的中文字体"
DEFAULT_SERIF = "Noto Serif CJK SC"
DEFAULT_SANS = "Noto Sans CJK SC"


class FontMissing(RuntimeError):
    """No Chinese font is installed: a permanent failure, retrying cannot help."""

    def __init__(self, message: str = MISSING_MESSAGE) -> None:
        super().__init__(message)


_ffi = cffi.FFI()
_ffi.cdef("""
    typedef int FcBool;
    typedef unsigned char FcChar8;
    typedef struct _FcConfig FcConfig;
    typedef struct _FcPattern FcPattern;
    typedef struct _FcObjectSet FcObjectSet;
    typedef struct _FcFontSet { int nfont; int sfont; FcPattern **fonts; } FcFontSet;
    typedef enum { FcResultMatch, FcResultNoMatch, FcResultTypeMismatch, FcResultNoId,
                   FcResultOutOfMemory } FcResult;
    FcConfig * FcInitLoadConfigAndFonts (void);
    void FcConfigDestroy (FcConfig *config);
    FcPattern * FcNameParse (const FcChar8 *name);
    void FcPatternDestroy (FcPattern *p);
    FcObjectSet * FcObjectSetCreate (void);
    FcBool FcObjectSetAdd (FcObjectSet *os, const char *object);
    void FcObjectSetDestroy (FcObjectSet *os);
    FcFontSet * FcFontList (FcConfig *config, FcPattern *p, FcObjectSet *os);
    void FcFontSetDestroy (FcFontSet *s);
    FcResult FcPatternGetString (FcPattern *p, const char *object, int n, FcChar8 **s);
    FcResult FcPatternGetInteger (FcPattern *p, const char *object, int n, int *i);
    FcPattern * FcPatternCreate (void);
    FcBool FcPatternAddString (FcPattern *p, const char *object, const FcChar8 *s);
    FcBool FcPatternAddInteger (FcPattern *p, const char *object, int i);
    FcBool FcConfigSubstitute (FcConfig *config, FcPattern *p, int kind);
    void FcDefaultSubstitute (FcPattern *pattern);
    FcPattern * FcFontMatch (FcConfig *config, FcPattern *p, FcResult *result);
""")

_hb = cffi.FFI()
_hb.cdef("""
    typedef struct hb_blob_t hb_blob_t;
    typedef struct hb_face_t hb_face_t;
    typedef struct hb_set_t hb_set_t;
    typedef struct hb_subset_input_t hb_subset_input_t;
    hb_blob_t * hb_blob_create_from_file_or_fail (const char *file_name);
    void hb_blob_destroy (hb_blob_t *blob);
    const char * hb_blob_get_data (hb_blob_t *blob, unsigned int *length);
    hb_face_t * hb_face_create (hb_blob_t *blob, unsigned int index);
    void hb_face_destroy (hb_face_t *face);
    hb_blob_t * hb_face_reference_blob (hb_face_t *face);
    unsigned int hb_face_get_glyph_count (const hb_face_t *face);
    void hb_set_add_range (hb_set_t *set, uint32_t first, uint32_t last);
    void hb_set_add (hb_set_t *set, uint32_t codepoint);
    hb_subset_input_t * hb_subset_input_create_or_fail (void);
    void hb_subset_input_destroy (hb_subset_input_t *input);
    hb_set_t * hb_subset_input_unicode_set (hb_subset_input_t *input);
    hb_face_t * hb_subset_or_fail (hb_face_t *source, const hb_subset_input_t *input);
    hb_set_t * hb_subset_input_set (hb_subset_input_t *input, int set_type);
    uint32_t hb_tag_from_string (const char *str, int len);
""")
HB_SUBSET_SETS_DROP_TABLE_TAG = 3
# Horizontal documents need neither vertical metrics nor OpenType layout; dropping GSUB also stops
# the subsetter from pulling in thousands of vertical and variant forms.
DROPPED_TABLES = (b"GSUB", b"GPOS", b"GDEF", b"BASE", b"vhea", b"vmtx", b"VORG", b"DSIG", b"JSTF")


@functools.cache
def _fontconfig() -> object:
    for name in ("fontconfig", "libfontconfig.so.1", "libfontconfig-1.dll", "libfontconfig.1.dylib"):
        try:
            return _ffi.dlopen(name)
        except OSError:
            continue
    raise FontMissing("缺少 fontconfig 库：请安装 libfontconfig1 与 fonts-noto-cjk")


def chinese_families() -> frozenset[str]:
    """Family names of every installed font covering Chinese (what ``fc-list :lang=zh family`` lists)."""
    fc = _fontconfig()
    # A fresh configuration reads FONTCONFIG_FILE now, as a newly started worker would.
    config = fc.FcInitLoadConfigAndFonts()  # type: ignore[attr-defined]
    if config == _ffi.NULL:
        return frozenset()
    names: set[str] = set()
    pattern = fc.FcNameParse(b":lang=zh")  # type: ignore[attr-defined]
    objects = fc.FcObjectSetCreate()  # type: ignore[attr-defined]
    fc.FcObjectSetAdd(objects, b"family")  # type: ignore[attr-defined]
    fonts = fc.FcFontList(config, pattern, objects)  # type: ignore[attr-defined]
    try:
        if fonts != _ffi.NULL:
            value = _ffi.new("FcChar8 **")
            for i in range(fonts.nfont):
                n = 0
                while fc.FcPatternGetString(fonts.fonts[i], b"family", n, value) == 0:  # type: ignore[attr-defined]
                    names.add(_ffi.string(value[0]).decode("utf-8", "replace"))
                    n += 1
    finally:
        if fonts != _ffi.NULL:
            fc.FcFontSetDestroy(fonts)  # type: ignore[attr-defined]
        fc.FcObjectSetDestroy(objects)  # type: ignore[attr-defined]
        fc.FcPatternDestroy(pattern)  # type: ignore[attr-defined]
        fc.FcConfigDestroy(config)  # type: ignore[attr-defined]
    return frozenset(names)


def font_file(family: str, *, bold: bool = False) -> tuple[str, int] | None:
    """The file and face index fontconfig picks for a family, or None if it would substitute another."""
    fc = _fontconfig()
    pattern = fc.FcPatternCreate()  # type: ignore[attr-defined]
    try:
        fc.FcPatternAddString(pattern, b"family", family.encode())  # type: ignore[attr-defined]
        fc.FcPatternAddInteger(pattern, b"weight", 200 if bold else 80)  # type: ignore[attr-defined]
        fc.FcConfigSubstitute(_ffi.NULL, pattern, 0)  # type: ignore[attr-defined]
        fc.FcDefaultSubstitute(pattern)  # type: ignore[attr-defined]
        result = _ffi.new("FcResult *")
        match = fc.FcFontMatch(_ffi.NULL, pattern, result)  # type: ignore[attr-defined]
        if match == _ffi.NULL:
            return None
        try:
            value = _ffi.new("FcChar8 **")
            index = _ffi.new("int *")
            families = set()
            n = 0
            while fc.FcPatternGetString(match, b"family", n, value) == 0:  # type: ignore[attr-defined]
                families.add(_ffi.string(value[0]).decode("utf-8", "replace"))
                n += 1
            if family not in families or fc.FcPatternGetString(match, b"file", 0, value) != 0:  # type: ignore[attr-defined]
                return None
            path = _ffi.string(value[0]).decode()
            fc.FcPatternGetInteger(match, b"index", 0, index)  # type: ignore[attr-defined]
            return path, int(index[0])
        finally:
            fc.FcPatternDestroy(match)  # type: ignore[attr-defined]
    finally:
        fc.FcPatternDestroy(pattern)  # type: ignore[attr-defined]


# Characters every document font keeps: ASCII, the GB2312 set (6,763 hanzi), CJK and general punctuation.
_RANGES = ((0x20, 0x7E), (0xA0, 0xFF), (0x2000, 0x206F), (0x2100, 0x218F), (0x2460, 0x24FF), (0x2500, 0x257F),
           (0x25A0, 0x25FF), (0x3000, 0x303F), (0xFF00, 0xFFEF))
CHARSET_VERSION = "gb2312-2"


@functools.cache
def _gb2312(level1_only: bool = False) -> tuple[int, ...]:
    """GB2312's characters; level 1 (3,755 common hanzi, rows 16-55) is enough for titles and headings."""
    points = set()
    for hi in range(0xA1, 0xD8 if level1_only else 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                points.add(ord(bytes((hi, lo)).decode("gb2312")))
            except UnicodeDecodeError:
                continue
    return tuple(sorted(points))


def cache_dir() -> Path:
    configured = getattr(settings, "REPORT_FONT_CACHE_DIR", "")
    path = Path(configured) if configured else Path(tempfile.gettempdir()) / f"tolerance-report-fonts-{os.getuid()}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def compact_font(path: str, index: int, *, level1_only: bool = False) -> Path | None:
    """A GB2312-sized copy of a (large, collection) font with compact glyph ids, built once and cached.

    WeasyPrint keeps glyph ids when it subsets a font for the PDF, so a glyph of a 65,000-glyph CJK
    collection costs index entries up to its id; the compact copy (~7,500 glyphs) makes each
    document's embedded fonts smaller and faster to subset. Rare characters outside it (玥 堃 喆)
    fall back to the system font through the CSS font stack.
    """
    stat = os.stat(path)
    key = hashlib.sha256(f"{path}|{index}|{stat.st_size}|{stat.st_mtime_ns}|{CHARSET_VERSION}|{level1_only}".encode()).hexdigest()[:24]
    target = cache_dir() / f"{key}.otf"
    if target.exists():
        return target
    try:
        hb = _hb.dlopen("libharfbuzz.so.0")
        hbs = _hb.dlopen("libharfbuzz-subset.so.0")
    except OSError:
        return None
    blob = hb.hb_blob_create_from_file_or_fail(path.encode())
    if blob == _hb.NULL:
        return None
    face = hb.hb_face_create(blob, index)
    subset_input = hbs.hb_subset_input_create_or_fail()
    try:
        unicodes = hbs.hb_subset_input_unicode_set(subset_input)
        for first, last in _RANGES:
            hb.hb_set_add_range(unicodes, first, last)
        for point in _gb2312(level1_only):
            hb.hb_set_add(unicodes, point)
        drop = hbs.hb_subset_input_set(subset_input, HB_SUBSET_SETS_DROP_TABLE_TAG)
        for tag in DROPPED_TABLES:
            hb.hb_set_add(drop, hb.hb_tag_from_string(tag, 4))
        subset = hbs.hb_subset_or_fail(face, subset_input)
        if subset == _hb.NULL:
            return None
        out_blob = hb.hb_face_reference_blob(subset)
        length = _hb.new("unsigned int *")
        data = hb.hb_blob_get_data(out_blob, length)
        content = bytes(_hb.buffer(data, length[0]))
        hb.hb_blob_destroy(out_blob)
        hb.hb_face_destroy(subset)
    finally:
        hbs.hb_subset_input_destroy(subset_input)
        hb.hb_face_destroy(face)
        hb.hb_blob_destroy(blob)
    if not content:
        return None
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    with os.fdopen(fd, "wb") as fh:
        fh.write(content)
    os.replace(tmp, target)  # atomic: concurrent workers may build it at the same time
    return target


@dataclass(frozen=True)
class FontFace:
    family: str
    bold: bool
    filename: str


@dataclass(frozen=True)
class FontPlan:
    """CSS font-family stacks for the title, body and headings, each ending in an installed CJK font."""

    title: str
    body: str
    heading: str
    installed: frozenset[str]
    missing: tuple[str, ...]
    faces: tuple[FontFace, ...] = ()


def _stack(preferred: str, default: str, installed: frozenset[str]) -> tuple[list[str], bool]:
    names = [preferred]
    if default not in names:
        names.append(default)
    available = [n for n in names if n in installed]
    if not available:
        # Neither the configured nor the default family: fall back to any installed Chinese font.
        available = sorted(installed)[:1]
    return available, preferred in installed


def _css(names: list[str]) -> str:
    return ", ".join(f'"{n}"' for n in names)


@functools.cache
def font_plan() -> FontPlan:
    """Resolve the configured fonts once per process; raises FontMissing when no CJK font exists."""
    installed = chinese_families()
    if not installed:
        raise FontMissing()
    missing = []
    stacks: list[str] = []
    faces: list[FontFace] = []
    for role, setting, default, bold in (("title", "REPORT_FONT_TITLE", DEFAULT_SERIF, True),
                                         ("body", "REPORT_FONT_BODY", DEFAULT_SERIF, False),
                                         ("heading", "REPORT_FONT_HEADING", DEFAULT_SANS, False)):
        preferred = str(getattr(settings, setting, default) or default)
        names, found = _stack(preferred, default, installed)
        if not found:
            missing.append(preferred)
            logger.warning("%s=%r is not installed; documents use %s instead", setting, preferred, _css(names))
        compact = None
        if getattr(settings, "REPORT_FONT_COMPACT", True):
            located = font_file(names[0], bold=bold)
            try:
                # Titles and headings are short: a smaller font keeps their fixed cost per PDF low.
                compact = compact_font(*located, level1_only=role != "body") if located else None
            except OSError as exc:
                logger.warning("compact font for %s not built (%s); using the system font", names[0], exc)
        if compact is not None:
            alias = f"Report {role.title()}"
            faces.append(FontFace(family=alias, bold=bold, filename=compact.name))
            names = [alias, *names]
        stacks.append(_css(names))
    return FontPlan(title=stacks[0], body=stacks[1], heading=stacks[2], installed=installed,
                    missing=tuple(missing), faces=tuple(faces))

def font_plan_reset() -> None:
    """Forget the resolved fonts (tests, or after installing a font into a running worker)."""
    font_plan.cache_clear()
