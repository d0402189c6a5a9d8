"""PDF charts drawn with reportlab.graphics: stacked vertical bars and horizontal bars, with a legend."""

from __future__ import annotations

from typing import Any

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing, Group, String
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether

from sidecar.reports.document import ChartBlock
from sidecar.reports.pdf_style import CONTENT_W, INK, MUTED, RULE, Styles, para

def _nice_scale(value: float) -> tuple[float, float]:
    """(top, step) for a value axis: about five round steps covering ``value``."""
    if value <= 5:
        return 5, 1
    raw = value / 5
    magnitude = 10 ** (len(str(int(raw))) - 1)
    multiples = (1, 2, 5, 10) if magnitude == 1 else (1, 2, 2.5, 5, 10)  # no 2.5 steps for small counts
    step = next(m * magnitude for m in multiples if m * magnitude >= raw)
    return step * -(-value // step), step


def _axis_titles(drawing: Drawing, chart: Any, block: ChartBlock, s: Styles, rotated: bool) -> None:
    """The value axis's and the category axis's titles, in the muted small type of the axis labels."""
    style = {"fontName": s.bold, "fontSize": 7, "fillColor": MUTED, "textAnchor": "middle"}
    if block.kind == "bar":
        if block.value_label:
            title = Group(String(0, 0, block.value_label, **style))
            title.transform = (0, 1, -1, 0, 8, chart.y + chart.height / 2)  # turned to read upwards
            drawing.add(title)
        if block.category_label:
            drawing.add(String(chart.x + chart.width / 2, 2, block.category_label, **style))
    else:
        if block.value_label:
            drawing.add(String(chart.x + chart.width / 2, chart.y - 20, block.value_label, **style))
        if block.category_label:
            drawing.add(String(chart.x - 6, chart.y + chart.height + 6, block.category_label,
                               **{**style, "textAnchor": "end"}))


def chart(block: ChartBlock, s: Styles) -> list[Flowable]:
    legend_below = block.kind == "hbar" and len(block.series) > 1
    height = 66 * mm if block.kind == "bar" else max(34 * mm, 9 * mm * len(block.categories) + 22 * mm)
    drawing = Drawing(CONTENT_W, height)
    chart: Any = VerticalBarChart() if block.kind == "bar" else HorizontalBarChart()
    chart.data = [list(s_.values) for s_ in block.series] or [[0]]
    left = 46 if block.kind == "bar" else 120
    rotated = block.kind == "bar" and len(block.categories) > 8
    chart.x, chart.y = left, (46 if rotated else 34) if block.kind == "bar" else (40 if legend_below else 26)
    chart.width = CONTENT_W - left - (120 if block.kind == "bar" else 20)
    chart.height = height - (chart.y + 16)
    totals = [sum(series.values[i] for series in block.series) if block.stacked else
              max((series.values[i] for series in block.series), default=0) for i in range(len(block.categories))]
    top, step = _nice_scale(max(totals, default=0))
    chart.valueAxis.valueMin, chart.valueAxis.valueMax = 0, top
    chart.valueAxis.valueStep = step
    chart.valueAxis.labels.fontName, chart.valueAxis.labels.fontSize = s.regular, 7
    chart.valueAxis.labels.fillColor = MUTED
    chart.valueAxis.labelTextFormat = lambda v: f"{v:,.0f}" if top >= 5 else f"{v:g}"
    chart.valueAxis.strokeColor = RULE
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = colors.HexColor("#ECEFF3")
    chart.valueAxis.gridStrokeWidth = 0.5
    chart.categoryAxis.categoryNames = list(block.categories) or [""]
    chart.categoryAxis.labels.fontName, chart.categoryAxis.labels.fontSize = s.regular, 6.8
    chart.categoryAxis.labels.fillColor = MUTED
    chart.categoryAxis.strokeColor = RULE
    if block.kind == "bar":
        step = max(1, -(-len(block.categories) // 16))
        chart.categoryAxis.categoryNames = [c if i % step == 0 else "" for i, c in enumerate(block.categories)] or [""]
        if len(block.categories) > 8:
            chart.categoryAxis.labels.angle = 35
            chart.categoryAxis.labels.boxAnchor = "ne"
            chart.categoryAxis.labels.dy = -2
    else:
        chart.categoryAxis.labels.fontSize = 7.8
        chart.categoryAxis.labels.fillColor = INK
        chart.categoryAxis.reverseDirection = 1
    if block.stacked:
        chart.categoryAxis.style = "stacked"
    chart.barSpacing = 0.5
    chart.groupSpacing = 3 if block.kind == "bar" else 4
    chart.bars.strokeColor = None
    for index, series in enumerate(block.series):
        chart.bars[index].fillColor = colors.HexColor(series.color)
    drawing.add(chart)
    _axis_titles(drawing, chart, block, s, rotated)
    if legend_below:  # one row under the value axis's title
        legend = Legend()
        legend.x, legend.y = chart.x, 8
        legend.alignment = "right"
        legend.fontName, legend.fontSize = s.regular, 7.8
        legend.columnMaximum = 1
        legend.deltax = 150
        legend.dx = legend.dy = 7
        legend.strokeColor = None
        legend.colorNamePairs = [(colors.HexColor(x.color), f"{x.name} ({sum(x.values):,.0f})") for x in block.series]
        drawing.add(legend)
    if block.kind == "bar" and len(block.series) > 0:
        legend = Legend()
        legend.x, legend.y = CONTENT_W - 100, height - 18
        legend.alignment = "right"
        legend.fontName, legend.fontSize = s.regular, 7.8
        legend.columnMaximum = 6
        legend.deltay = 11
        legend.dx = legend.dy = 7
        legend.strokeColor = None
        legend.colorNamePairs = [(colors.HexColor(x.color), f"{x.name} ({sum(x.values):,.0f})") for x in block.series]
        drawing.add(legend)
    out: list[Flowable] = [KeepTogether([para(block.title, s.h2), drawing])]
    if block.note:
        out.append(para(block.note, s.note))
    return out


