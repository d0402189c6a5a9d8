"""The PDF's look: colours, page geometry, fonts and paragraph styles."""

from __future__ import annotations

import os
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph

# -- look ------------------------------------------------------------------------------------------

INK = colors.HexColor("#111827")
MUTED = colors.HexColor("#6B7280")
NAVY = colors.HexColor("#14213D")
ACCENT = colors.HexColor("#0E7490")
RULE = colors.HexColor("#D6DAE1")
ZEBRA = colors.HexColor("#F4F6F9")
HEAD_BG = colors.HexColor("#E8EDF3")
TONES = {"neutral": colors.HexColor("#64748B"), "good": colors.HexColor("#15803D"),
         "warning": colors.HexColor("#B45309"), "critical": colors.HexColor("#B91C1C")}
SEVERITY_COLORS = {"critical": "#B91C1C", "warning": "#D97706", "info": "#2563EB"}

PAGE_W, PAGE_H = A4
MARGIN = 18 * mm
CONTENT_W = PAGE_W - 2 * MARGIN
COVER_BAND = 92 * mm

_FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/usr/local/share/fonts",
              "/Library/Fonts", "C:\\Windows\\Fonts")


def _fonts() -> tuple[str, str, str]:
    """(regular, bold, mono) font names: DejaVu when installed (wide Unicode coverage), else the core fonts."""
    if "AA-Sans" in pdfmetrics.getRegisteredFontNames():
        return "AA-Sans", "AA-Sans-Bold", "AA-Mono"
    for folder in _FONT_DIRS:
        files = [os.path.join(folder, f) for f in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSansMono.ttf")]
        if all(os.path.exists(f) for f in files):
            try:
                for name, path in zip(("AA-Sans", "AA-Sans-Bold", "AA-Mono"), files):
                    pdfmetrics.registerFont(TTFont(name, path))
                pdfmetrics.registerFontFamily("AA-Sans", normal="AA-Sans", bold="AA-Sans-Bold",
                                              italic="AA-Sans", boldItalic="AA-Sans-Bold")
                return "AA-Sans", "AA-Sans-Bold", "AA-Mono"
            except Exception:  # noqa: BLE001 - an unreadable font file: fall back to the core fonts
                break
    return "Helvetica", "Helvetica-Bold", "Courier"


class Styles:
    def __init__(self) -> None:
        self.regular, self.bold, self.mono = _fonts()
        r, b = self.regular, self.bold
        self.body = ParagraphStyle("body", fontName=r, fontSize=9.5, leading=13.5, textColor=INK, spaceAfter=5)
        self.note = ParagraphStyle("note", fontName=r, fontSize=8, leading=10.5, textColor=MUTED, spaceBefore=3,
                                   spaceAfter=4)
        self.h1 = ParagraphStyle("h1", fontName=b, fontSize=15, leading=19, textColor=NAVY, spaceBefore=4,
                                 spaceAfter=8)
        self.h2 = ParagraphStyle("h2", fontName=b, fontSize=11.5, leading=15, textColor=NAVY, spaceBefore=12,
                                 spaceAfter=6)
        self.cell = ParagraphStyle("cell", fontName=r, fontSize=7.8, leading=9.6, textColor=INK)
        self.cell_right = ParagraphStyle("cell_r", parent=self.cell, alignment=TA_RIGHT)
        self.cell_mono = ParagraphStyle("cell_m", parent=self.cell, fontName=self.mono, fontSize=7, leading=9)
        self.head = ParagraphStyle("head", fontName=b, fontSize=7.6, leading=9.4, textColor=NAVY)
        self.head_right = ParagraphStyle("head_r", parent=self.head, alignment=TA_RIGHT)
        self.kpi_value = ParagraphStyle("kpi_v", fontName=b, fontSize=17, leading=20, textColor=INK)
        self.kpi_label = ParagraphStyle("kpi_l", fontName=r, fontSize=7.8, leading=9.5, textColor=MUTED)
        self.kpi_note = ParagraphStyle("kpi_n", fontName=r, fontSize=7.2, leading=9, textColor=MUTED)
        self.field_label = ParagraphStyle("f_l", fontName=b, fontSize=8.5, leading=11, textColor=MUTED, alignment=TA_LEFT)
        self.field_value = ParagraphStyle("f_v", fontName=r, fontSize=8.8, leading=11.5, textColor=INK)
        self.field_mono = ParagraphStyle("f_m", parent=self.field_value, fontName=self.mono, fontSize=7.8)
        self.cover_label = ParagraphStyle("c_l", fontName=b, fontSize=8.5, leading=12, textColor=MUTED)
        self.cover_value = ParagraphStyle("c_v", fontName=r, fontSize=10.5, leading=14, textColor=INK)


def para(value: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(value).replace("\n", "<br/>"), style)


