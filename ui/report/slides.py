"""The report as a PowerPoint deck (python-pptx), for leaders who paste slides into their own.

16:9 slides: a title slide, one slide per answer (the decision sentence as the slide title, up to
four key figures, the chart as a picture fitted to the space left), the assumptions, and how to
reproduce the numbers. Each answer's detail goes into its speaker notes. Slide titles are real
title placeholders, so outlines and accessibility checkers read the decision sentences.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import altair as alt
from PIL import Image as PILImage
from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.slide import Slide
from pptx.util import Emu, Inches, Pt

from ui.charts import PALETTE
from ui.report.model import Assumption, PageAnswer, ReportMeta, picture, table_cells

SLIDE_WIDTH, SLIDE_HEIGHT = Inches(13.333), Inches(7.5)
_MARGIN = Inches(0.5)
_CONTENT_WIDTH = SLIDE_WIDTH - 2 * _MARGIN
_FOOTER_TOP = Inches(7.05)
#: Axis and legend type on slide charts (px of a 1000 px wide picture, about 20 pt on screen).
SLIDE_FONT_PX = 20
#: Pixel width slide charts are drawn at.
SLIDE_CHART_WIDTH = 1000
#: Plot height (px) of a slide chart; charts drawn taller on the page (maps, long tornados)
#: keep their own height and are fitted by height instead.
SLIDE_PLOT_HEIGHT = 250
#: Rows of the assumptions table per slide (14 pt rows fit the slide).
ASSUMPTION_ROWS = 12
#: Table rows shown on an answer slide that has a table and no chart.
TABLE_ROWS = 12
_BLUE = RGBColor.from_string(PALETTE[0].lstrip("#"))
_GREY = RGBColor(0x55, 0x55, 0x55)
_TITLE_ONLY, _TITLE_SLIDE = 5, 0


def _title_size(text: str) -> Pt:
    """Type for a decision sentence: at most two lines across the slide when it can be."""
    return Pt(28 if len(text) <= 130 else 24 if len(text) <= 180 else 20)


def _textbox(slide: Slide, left: int, top: int, width: int, height: int, text: str,
             size: float, *, bold: bool = False, color: RGBColor | None = None,
             align: PP_ALIGN = PP_ALIGN.LEFT) -> None:
    frame = slide.shapes.add_textbox(left, top, width, height).text_frame
    frame.word_wrap = True
    frame.margin_left = frame.margin_right = 0
    paragraph = frame.paragraphs[0]
    paragraph.alignment = align
    run = paragraph.add_run()
    run.text = text
    run.font.size = Pt(size)
    run.font.bold = bold
    if color is not None:
        run.font.color.rgb = color


def _set_title(slide: Slide, text: str, top: int, height: int, size: Pt) -> None:
    title = slide.shapes.title
    title.left, title.top, title.width, title.height = _MARGIN, top, _CONTENT_WIDTH, height
    frame = title.text_frame
    frame.word_wrap = True
    frame.vertical_anchor = MSO_ANCHOR.TOP
    frame.text = text
    for paragraph in frame.paragraphs:
        paragraph.alignment = PP_ALIGN.LEFT
        for run in paragraph.runs:
            run.font.size = size
            run.font.bold = True


def _footer(slide: Slide, meta: ReportMeta, number: int, total: int) -> None:
    text = (f"Funnel Lab · {meta.scenario_name} · seed {meta.seed} · {meta.trials:,} trials · "
            f"{meta.horizon} months")
    _textbox(slide, _MARGIN, _FOOTER_TOP, _CONTENT_WIDTH - Inches(1.2), Inches(0.35), text, 11,
             color=_GREY)
    _textbox(slide, SLIDE_WIDTH - _MARGIN - Inches(1.2), _FOOTER_TOP, Inches(1.2),
             Inches(0.35), f"{number} / {total}", 11, color=_GREY, align=PP_ALIGN.RIGHT)


def _picture(slide: Slide, png: bytes, left: int, top: int, width: int, height: int) -> None:
    """Add the picture as large as fits the box, keeping its shape, centred."""
    with PILImage.open(io.BytesIO(png)) as image:
        pixel_width, pixel_height = image.size
    scale = min(width / pixel_width, height / pixel_height)
    shown_width, shown_height = int(pixel_width * scale), int(pixel_height * scale)
    slide.shapes.add_picture(io.BytesIO(png), Emu(left + (width - shown_width) // 2),
                             Emu(top + (height - shown_height) // 2), Emu(shown_width),
                             Emu(shown_height))


def _slide_chart_png(chart: alt.TopLevelMixin, where: str) -> bytes:
    own = getattr(chart, "height", None)
    tall = isinstance(own, int | float) and own > 400
    return picture(chart, where, width=SLIDE_CHART_WIDTH,
                   height=None if tall else SLIDE_PLOT_HEIGHT, font_size=SLIDE_FONT_PX)


def _table(slide: Slide, header: list[str], rows: list[list[str]], left: int, top: int,
           width: int, size: float) -> None:
    row_height = Pt(size * 2)
    shape = slide.shapes.add_table(len(rows) + 1, len(header), left, top, width,
                                   row_height * (len(rows) + 1))
    table = shape.table
    for row_index, values in enumerate([header, *rows]):
        for column, value in enumerate(values):
            cell = table.cell(row_index, column)
            cell.text = value
            for paragraph in cell.text_frame.paragraphs:
                for run in paragraph.runs:
                    run.font.size = Pt(size)
                    run.font.bold = row_index == 0


def _answer_slide(slide: Slide, answer: PageAnswer) -> None:
    _textbox(slide, _MARGIN, Inches(0.2), _CONTENT_WIDTH, Inches(0.35), answer.title.upper(),
             13, bold=True, color=_BLUE)
    _set_title(slide, answer.decision, Inches(0.55), Inches(1.3), _title_size(answer.decision))
    top = Inches(1.95)
    if answer.figures:
        gap = Inches(0.25)
        width = (_CONTENT_WIDTH - 3 * gap) // 4
        for index, figure in enumerate(answer.figures):
            left = _MARGIN + index * (width + gap)
            _textbox(slide, left, top, width, Inches(0.55), figure.value_text, 28, bold=True)
            _textbox(slide, left, top + Inches(0.55), width, Inches(0.45), figure.label, 13,
                     color=_GREY)
        top += Inches(1.1)
    room = _FOOTER_TOP - top - Inches(0.1)
    if answer.chart is not None:
        png = _slide_chart_png(answer.chart, f"The {answer.title} chart")
        _picture(slide, png, _MARGIN, top, _CONTENT_WIDTH, room)
    elif answer.table is not None and len(answer.table):
        header, rows = table_cells(answer.table)
        _table(slide, header, rows[:TABLE_ROWS], _MARGIN, top, _CONTENT_WIDTH, 14)
        if len(rows) > TABLE_ROWS:
            more = len(rows) - TABLE_ROWS
            _textbox(slide, _MARGIN, _FOOTER_TOP - Inches(0.4), _CONTENT_WIDTH, Inches(0.35),
                     f"{more} more row{'s' if more > 1 else ''} in the HTML and PDF report.",
                     12, color=_GREY)
    notes = answer.detail
    if answer.chart is not None and answer.chart_title:
        notes = f"Chart: {answer.chart_title}\n{notes}".strip()
    if notes:
        slide.notes_slide.notes_text_frame.text = notes


def _assumption_slides(presentation: Presentation,
                       assumptions: Sequence[Assumption]) -> list[Slide]:
    layout = presentation.slide_layouts[_TITLE_ONLY]
    pictured = [item for item in assumptions if item.chart is not None][:4]
    chunks = [assumptions[i:i + ASSUMPTION_ROWS]
              for i in range(0, len(assumptions), ASSUMPTION_ROWS)] or [[]]
    slides = []
    for number, chunk in enumerate(chunks, start=1):
        slide = presentation.slides.add_slide(layout)
        title = "Assumptions: every uncertain input (90% ranges)"
        if len(chunks) > 1:
            title += f", {number} of {len(chunks)}"
        _set_title(slide, title, Inches(0.3), Inches(0.8), Pt(28))
        top = Inches(1.25)
        table_width = _CONTENT_WIDTH if not pictured else _CONTENT_WIDTH * 55 // 100
        if chunk:
            rows = [[item.label, item.value_text] for item in chunk]
            _table(slide, ["Input", "Range"], rows, _MARGIN, top, table_width, 14)
        else:
            _textbox(slide, _MARGIN, top, table_width, Inches(0.6),
                     "Every input of this scenario is a fixed number.", 20)
        if pictured and number == 1:
            # One column of pictures for one or two inputs, a 2 x 2 grid for three or four.
            columns = 1 if len(pictured) <= 2 else 2
            left = _MARGIN + table_width + Inches(0.3)
            cell_width = (SLIDE_WIDTH - _MARGIN - left) // columns
            cell_height = (_FOOTER_TOP - top) // 2
            for index, item in enumerate(pictured):
                png = picture(item.chart, f"The picture of {item.label}",
                              width=420 if columns == 1 else 300, font_size=16)
                _picture(slide, png, left + (index % columns) * cell_width,
                         top + (index // columns) * cell_height, cell_width - Inches(0.1),
                         cell_height - Inches(0.1))
        slides.append(slide)
    return slides


def _reproduce_slide(slide: Slide, meta: ReportMeta) -> None:
    _set_title(slide, "Reproduce these numbers", Inches(0.3), Inches(0.8), Pt(28))
    frame = slide.shapes.add_textbox(_MARGIN, Inches(1.3), _CONTENT_WIDTH,
                                     Inches(5.5)).text_frame
    frame.word_wrap = True
    for index, (label, text) in enumerate(meta.reproduce_lines()):
        paragraph = frame.paragraphs[0] if index == 0 else frame.add_paragraph()
        paragraph.space_after = Pt(6)
        head = paragraph.add_run()
        head.text = f"{label}: "
        head.font.bold = True
        head.font.size = Pt(20)
        link = label == "Share link"
        if link:
            # A link is one long word: its own line, in type small enough to keep it short.
            paragraph = frame.add_paragraph()
        body = paragraph.add_run()
        body.text = text
        body.font.size = Pt((16 if len(text) <= 90 else 12) if link else 20)
        if link:
            body.hyperlink.address = text


def report_pptx(answers: Sequence[PageAnswer], assumptions: Sequence[Assumption],
                meta: ReportMeta) -> bytes:
    """Return the report as a 16:9 PowerPoint file: a title slide, one slide per answer
    (decision sentence as its title, key figures, chart), the assumptions and a slide that says
    how to reproduce the numbers (scenario, seed, trials, share link)."""
    presentation = Presentation()
    presentation.slide_width, presentation.slide_height = SLIDE_WIDTH, SLIDE_HEIGHT
    opening = presentation.slides.add_slide(presentation.slide_layouts[_TITLE_SLIDE])
    _set_title(opening, f"Funnel Lab report: {meta.scenario_name}", Inches(2.0), Inches(1.6),
               Pt(40))
    subtitle = opening.placeholders[1]
    subtitle.left, subtitle.top = _MARGIN, Inches(3.8)
    subtitle.width, subtitle.height = _CONTENT_WIDTH, Inches(1.6)
    subtitle.text_frame.text = (f"{meta.trials:,} simulated futures over {meta.horizon} months "
                                f"· seed {meta.seed}\nMade on {meta.created_text} · app "
                                f"version {meta.app_version}")
    for paragraph in subtitle.text_frame.paragraphs:
        paragraph.alignment = PP_ALIGN.LEFT
        for run in paragraph.runs:
            run.font.size = Pt(20)
            run.font.color.rgb = _GREY
    layout = presentation.slide_layouts[_TITLE_ONLY]
    numbered: list[Slide] = []
    for answer in answers:
        slide = presentation.slides.add_slide(layout)
        _answer_slide(slide, answer)
        numbered.append(slide)
    numbered += _assumption_slides(presentation, assumptions)
    reproduce = presentation.slides.add_slide(layout)
    _reproduce_slide(reproduce, meta)
    numbered.append(reproduce)
    total = len(numbered) + 1
    for number, slide in enumerate(numbered, start=2):
        _footer(slide, meta, number, total)
    buffer = io.BytesIO()
    presentation.save(buffer)
    return buffer.getvalue()
