"""The report as a PDF, laid out by ReportLab's page templates (no hand-written PDF).

Text is set in Bitstream Vera, the TrueType font shipped inside the reportlab package: it has
every character the app writes (− – × ’ ± “ ”), is embedded in the file so any reader shows it,
and keeps the text extractable (copy, search, pypdf). One answer per page, then the appendix.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

import altair as alt
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Image,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from ui.charts import PALETTE
from ui.report.model import (
    ASSUMPTION_WIDTH,
    CHART_WIDTH,
    Assumption,
    PageAnswer,
    ReportMeta,
    picture,
    table_cells,
)

FONT = "FunnelVera"
_MARGIN = 16 * mm
_FRAME_WIDTH = A4[0] - 2 * _MARGIN
#: Tallest a chart may be drawn, so an answer's sentence, figures and chart share one page.
_MAX_CHART_HEIGHT = 150 * mm
_BLUE = colors.HexColor(PALETTE[0])
_GREY = colors.HexColor("#555555")
_RULE = colors.HexColor("#d5dce6")


@lru_cache(maxsize=1)
def _register_fonts() -> str:
    """Register the Vera family shipped with reportlab once per process; return its name."""
    import reportlab

    folder = Path(reportlab.__file__).resolve().parent / "fonts"
    faces = {FONT: "Vera.ttf", f"{FONT}-Bold": "VeraBd.ttf", f"{FONT}-Italic": "VeraIt.ttf",
             f"{FONT}-BoldItalic": "VeraBI.ttf"}
    for name, file_name in faces.items():
        pdfmetrics.registerFont(TTFont(name, str(folder / file_name)))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=f"{FONT}-Bold",
                                  italic=f"{FONT}-Italic", boldItalic=f"{FONT}-BoldItalic")
    return FONT


def _styles() -> dict[str, ParagraphStyle]:
    font = _register_fonts()
    bold = f"{font}-Bold"
    return {
        "title": ParagraphStyle("title", fontName=bold, fontSize=20, leading=25,
                                spaceAfter=4),
        "meta": ParagraphStyle("meta", fontName=font, fontSize=9, leading=12,
                               textColor=_GREY, spaceAfter=10),
        "page": ParagraphStyle("page", fontName=bold, fontSize=10, leading=13,
                               textColor=_BLUE, spaceBefore=6, spaceAfter=4),
        "decision": ParagraphStyle("decision", fontName=bold, fontSize=15, leading=19.5,
                                   spaceAfter=10),
        "value": ParagraphStyle("value", fontName=bold, fontSize=14, leading=17),
        "label": ParagraphStyle("label", fontName=font, fontSize=8.5, leading=10.5,
                                textColor=_GREY),
        "caption": ParagraphStyle("caption", fontName=font, fontSize=9, leading=12,
                                  textColor=_GREY, spaceAfter=3),
        "body": ParagraphStyle("body", fontName=font, fontSize=10, leading=14,
                               spaceBefore=6, spaceAfter=8),
        "heading": ParagraphStyle("heading", fontName=bold, fontSize=14, leading=18,
                                  spaceBefore=4, spaceAfter=6),
        "cell": ParagraphStyle("cell", fontName=font, fontSize=8, leading=10),
        "head": ParagraphStyle("head", fontName=bold, fontSize=8, leading=10),
    }


def _text(text: str) -> str:
    """Plain text as ReportLab paragraph markup (which reads <, > and & as tags)."""
    return escape(text)


def _picture(chart: alt.TopLevelMixin, where: str, width: float, max_height: float,
             pixels: int) -> Image:
    png = picture(chart, where, width=pixels)
    pixel_width, pixel_height = ImageReader(io.BytesIO(png)).getSize()
    scale = min(width / pixel_width, max_height / pixel_height)
    return Image(io.BytesIO(png), width=pixel_width * scale, height=pixel_height * scale)


def _grid(rows: list[list[object]], widths: list[float], header: bool) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1 if header else 0, hAlign="LEFT")
    # Plain-string cells too are set in the embedded font (the default is Helvetica).
    style = [("FONTNAME", (0, 0), (-1, -1), FONT), ("VALIGN", (0, 0), (-1, -1), "TOP"),
             ("LINEBELOW", (0, 0), (-1, -1), 0.5, _RULE),
             ("LEFTPADDING", (0, 0), (-1, -1), 4), ("RIGHTPADDING", (0, 0), (-1, -1), 4)]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f1f4f8")))
    table.setStyle(TableStyle(style))
    return table


def _column_widths(header: list[str], rows: list[list[str]], total: float) -> list[float]:
    """Share the width by each column's longest text (capped, so one long cell wraps instead
    of squeezing the others to nothing)."""
    lengths = [min(max([len(name)] + [len(row[i]) for row in rows]), 60) + 4
               for i, name in enumerate(header)]
    return [total * length / sum(lengths) for length in lengths]


def _data_table(header: list[str], rows: list[list[str]], styles: dict) -> Table:
    cells = [[Paragraph(_text(name), styles["head"]) for name in header]]
    cells += [[Paragraph(_text(cell), styles["cell"]) for cell in row] for row in rows]
    return _grid(cells, _column_widths(header, rows, _FRAME_WIDTH), header=True)


def _figures(answer: PageAnswer, styles: dict) -> Table:
    width = _FRAME_WIDTH / 4
    cells = [[[Paragraph(_text(figure.value_text), styles["value"]),
               Paragraph(_text(figure.label), styles["label"])] for figure in answer.figures]]
    table = Table(cells, colWidths=[width] * len(answer.figures), hAlign="LEFT")
    table.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), FONT),
                               ("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("BOX", (0, 0), (-1, -1), 0.5, _RULE),
                               ("INNERGRID", (0, 0), (-1, -1), 0.5, _RULE),
                               ("TOPPADDING", (0, 0), (-1, -1), 5),
                               ("BOTTOMPADDING", (0, 0), (-1, -1), 6)]))
    return table


def _answer(answer: PageAnswer, styles: dict) -> list[Flowable]:
    story: list[Flowable] = [Paragraph(_text(answer.title.upper()), styles["page"]),
                             Paragraph(_text(answer.decision), styles["decision"])]
    if answer.figures:
        story += [_figures(answer, styles), Spacer(1, 10)]
    if answer.chart is not None:
        caption = ([Paragraph(_text(answer.chart_title), styles["caption"])]
                   if answer.chart_title else [])
        story.append(KeepTogether([*caption, _picture(answer.chart, f"The {answer.title} chart",
                                                      _FRAME_WIDTH,
                                                      _MAX_CHART_HEIGHT, CHART_WIDTH)]))
    if answer.detail:
        story.append(Paragraph(_text(answer.detail), styles["body"]))
    if answer.table is not None and len(answer.table):
        story += [Spacer(1, 4), _data_table(*table_cells(answer.table), styles)]
    return story


def _appendix(assumptions: Sequence[Assumption], meta: ReportMeta,
              styles: dict) -> list[Flowable]:
    story: list[Flowable] = [
        Paragraph("Appendix: assumptions", styles["heading"]),
        Paragraph("Every uncertain input of the scenario. A 90% range runs from the 5th to the "
                  "95th percentile: nine futures in ten draw a value inside it.", styles["body"])]
    if assumptions:
        pictured = any(item.chart is not None for item in assumptions)
        widths = ([0.3, 0.38, 0.32] if pictured else [0.38, 0.62])
        rows: list[list[object]] = [[Paragraph(name, styles["head"]) for name in
                                     ["Input", "Range", "Draws"][: len(widths)]]]
        for item in assumptions:
            row: list[object] = [Paragraph(_text(item.label), styles["cell"]),
                                 Paragraph(_text(item.value_text), styles["cell"])]
            if pictured:
                row.append(_picture(item.chart, f"The picture of {item.label}",
                                    widths[2] * _FRAME_WIDTH - 8, 30 * mm, ASSUMPTION_WIDTH)
                           if item.chart is not None else "")
            rows.append(row)
        story.append(_grid(rows, [w * _FRAME_WIDTH for w in widths], header=True))
    else:
        story.append(Paragraph("Every input of this scenario is a fixed number.",
                               styles["body"]))
    story += [Spacer(1, 12), Paragraph("Reproduce these numbers", styles["heading"]),
              Paragraph("The same scenario, seed and trials give the same numbers; the share "
                        "link opens the app on them.", styles["body"])]
    rows = []
    for label, text in meta.reproduce_lines():
        markup = _text(text)
        if label == "Share link":
            markup = f'<link href="{escape(text, {chr(34): "&quot;"})}">{markup}</link>'
        rows.append([Paragraph(_text(label), styles["head"]), Paragraph(markup, styles["cell"])])
    story.append(_grid(rows, [0.28 * _FRAME_WIDTH, 0.72 * _FRAME_WIDTH], header=False))
    return story


def report_pdf(answers: Sequence[PageAnswer], assumptions: Sequence[Assumption],
               meta: ReportMeta) -> bytes:
    """Return the report as an A4 PDF: a header, one page per answer (sentence, key figures,
    chart, detail, table), then every assumption and how to reproduce the numbers; a footer on
    each page names the scenario, seed and trials."""
    styles = _styles()
    title = f"Funnel Lab report: {meta.scenario_name}"
    story: list[Flowable] = [
        Paragraph(_text(title), styles["title"]),
        Paragraph(_text(f"{meta.trials:,} simulated futures over {meta.horizon} months · seed "
                        f"{meta.seed} · made on {meta.created_text} · app version "
                        f"{meta.app_version}"), styles["meta"])]
    for index, answer in enumerate(answers):
        if index:
            story.append(PageBreak())
        story += _answer(answer, styles)
    story += [PageBreak(), *_appendix(assumptions, meta, styles)]
    footer = (f"Funnel Lab · {meta.scenario_name} · seed {meta.seed} · "
              f"{meta.trials:,} trials · {meta.created_text}")

    def on_page(canvas: Canvas, document: BaseDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 7.5)
        canvas.setFillColor(_GREY)
        canvas.drawString(_MARGIN, 9 * mm, footer[:150])
        canvas.drawRightString(A4[0] - _MARGIN, 9 * mm,
                               f"page {document.page}")
        canvas.restoreState()

    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=_MARGIN, rightMargin=_MARGIN,
                                 topMargin=_MARGIN, bottomMargin=_MARGIN + 4 * mm,
                                 title=title, author="Funnel Lab", subject=meta.share_link,
                                 initialFontName=_register_fonts(),
                                 creator=f"Funnel Lab {meta.app_version}")
    document.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return buffer.getvalue()
