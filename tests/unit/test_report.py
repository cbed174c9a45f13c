"""Reports (issue 15): assumptions in words, the assumption picture, and the HTML, PDF and PPTX
files holding every answer sentence, key figure, chart and assumption exactly as given."""

from __future__ import annotations

import base64
import html
import io
import re
import shutil
import subprocess

import altair as alt
import numpy as np
import pandas as pd
import pytest
from PIL import Image
from pptx import Presentation
from pptx.util import Emu
from pypdf import PdfReader

from sim.scenario import KINDS, load_scenario_file
from sim.values import Beta, Normal, Triangular
from tests.report_sample import (
    BASELINE,
    PICTURED,
    SHARE_LINK,
    sample_answers,
    sample_assumptions,
    sample_meta,
)
from ui import charts
from ui.report import (
    Figure,
    PageAnswer,
    ReportError,
    ReportMeta,
    app_version,
    assumptions_from_scenario,
    describe_assumption,
    report_filename,
    report_html,
    report_pdf,
    report_pptx,
)


def _words(text: str) -> str:
    """Whitespace collapsed: a PDF breaks long sentences over lines."""
    return " ".join(text.split())


@pytest.fixture(scope="module")
def report_parts() -> tuple:
    return sample_answers(), sample_assumptions(), sample_meta()


# --------------------------------------------------------------------------------------------
# Assumptions in words.


def test_baseline_assumptions_are_every_uncertain_input_in_words_and_units() -> None:
    assumptions = assumptions_from_scenario(load_scenario_file(BASELINE))
    # The uncertain inputs of scenarios/baseline.yaml, in file order, as its YAML writes them.
    expected = {
        "cold.cost_per_thousand": ("Cost per 1,000 impressions", "$6 to $14 (90% range)"),
        "cold.engagement_rate": ("Engagement rate", "0.5% to 2% per impression (90% range)"),
        "warm.conversion_max": ("Conversion ceiling", "3% to 8% per month (90% range)"),
        "hot.churn.monthly": ("Monthly churn", "7% to 13% per month (90% range)"),
        "hot.spend_scale": ("Retention spend scale", "$4 to $25 per customer (90% range)"),
        "orders.first_value": ("First order value", "$45 to $80 (90% range)"),
        "orders.repeat_value": ("Repeat order value", "$75 to $130 (90% range)"),
        "guarantee.return_rate_at_reference": ("Return rate at reference",
                                               "3% to 7% of orders (90% range)"),
        # Uniform on [0, 0.04]: its 5th and 95th percentiles are 0.002 and 0.038.
        "guarantee.conversion_elasticity": (
            "Conversion elasticity",
            "0 to 0.04, every value equally likely (90% range 0.002 to 0.038)"),
    }
    assert [a.path for a in assumptions] == list(expected)
    assert {a.path: (a.label, a.value_text) for a in assumptions} == expected
    by_path = {a.path: a for a in assumptions}
    # {low, high} are the 5th and 95th percentiles themselves.
    assert by_path["hot.spend_scale"].low == pytest.approx(4.0, rel=1e-9)
    assert by_path["hot.spend_scale"].high == pytest.approx(25.0, rel=1e-9)
    assert by_path["guarantee.conversion_elasticity"].low == pytest.approx(0.002)
    assert by_path["guarantee.conversion_elasticity"].high == pytest.approx(0.038)
    assert [by_path[p].chart_unit for p in ("orders.first_value", "hot.churn.monthly",
                                            "guarantee.conversion_elasticity")] == [
        "money", "share", "ratio"]
    assert all(a.chart is None for a in assumptions)


def test_other_forms_say_their_shape_and_closed_form_90_percent_range() -> None:
    # Triangular(0, 0.5, 1): P5 = sqrt(0.05 * 0.5) = 0.1581, P95 = 1 - 0.1581 = 0.8419.
    text, low, high = describe_assumption(Triangular(0.0, 0.5, 1.0), KINDS["elasticity"], "")
    assert (low, high) == pytest.approx((0.158114, 0.841886), abs=1e-6)
    assert text == "0 to 1, most likely 0.5 (90% range 0.158 to 0.842)"
    # Normal(100, 10) in dollars: P5 = 100 - 1.644854 * 10 = 83.55, P95 = 116.45.
    text, low, high = describe_assumption(Normal(100.0, 10.0), KINDS["amount"], "$ per lead")
    assert (low, high) == pytest.approx((83.5515, 116.4485), abs=1e-3)
    # Cents only under $100, as the app writes per-unit amounts.
    assert text == "about $100 ± $10 per lead (90% range $83.55 to $116 per lead)"
    # Beta(1, 9): CDF 1 - (1 - x)^9, so P5 = 1 - 0.95^(1/9) and P95 = 1 - 0.05^(1/9).
    text, low, high = describe_assumption(Beta(1.0, 9.0), KINDS["rate"], "per month")
    assert (low, high) == pytest.approx((1 - 0.95 ** (1 / 9), 1 - 0.05 ** (1 / 9)), rel=1e-6)
    assert text == "beta(a = 1, b = 9): 90% range 0.568% to 28.31% per month"


def test_pictured_assumptions_get_a_chart_of_their_own_draws() -> None:
    assumptions = sample_assumptions()
    pictured = [a.path for a in assumptions if a.chart is not None]
    assert sorted(pictured) == sorted(PICTURED)


# --------------------------------------------------------------------------------------------
# The assumption picture and chart pictures.


def _datasets(chart: object) -> list[list[dict]]:
    return list(chart.to_dict()["datasets"].values())  # type: ignore[attr-defined]


def test_assumption_chart_marks_the_given_interval_and_shares_sum_to_one() -> None:
    draws = np.linspace(0.0, 1.0, 1001)
    chart = charts.assumption_chart(draws, 0.05, 0.95, "Share", unit="share", bins=10)
    data = _datasets(chart)
    interval = next(rows for rows in data if rows and "low" in rows[0])
    assert (interval[0]["low"], interval[0]["high"]) == (0.05, 0.95)
    ends = next(rows for rows in data if rows and "end" in rows[0])
    assert [row["x"] for row in ends] == [0.05, 0.95]
    bars = next(rows for rows in data if rows and "share" in rows[0])
    assert sum(row["share"] for row in bars) == pytest.approx(1.0)
    # Evenly spread draws on [0, 1] (range folded to their 0.5th-99.5th percentiles): the
    # middle bins each hold a tenth of the span's width of draws.
    assert bars[5]["share"] == pytest.approx(0.099, abs=0.002)


def test_chart_png_draws_a_container_wide_chart_at_the_asked_width() -> None:
    chart = charts.bar_chart(["a", "b"], np.array([1.0, 2.0]), "Plan", "Customers")
    png = charts.chart_png(chart, scale=1.0, width=400)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(io.BytesIO(png)) as image:
        assert image.size[0] == 400
        # White background, not transparency (black in some viewers).
        assert image.convert("RGBA").getpixel((1, 1)) == (255, 255, 255, 255)


# --------------------------------------------------------------------------------------------
# The model.


def test_a_page_answer_refuses_more_than_four_figures_and_an_empty_sentence() -> None:
    figures = [Figure(f"Figure {i}", str(i)) for i in range(5)]
    with pytest.raises(ValueError, match="at most 4 key figures"):
        PageAnswer("overview", "Overview", "A sentence.", figures=figures)
    with pytest.raises(ValueError, match="no decision sentence"):
        PageAnswer("overview", "Overview", "  ")


def test_report_meta_names_the_file_and_the_download() -> None:
    meta = sample_meta()
    lines = dict(meta.reproduce_lines())
    assert lines["Scenario file"] == "baseline.yaml"
    assert lines["Trials (simulated futures)"] == "2,000"
    assert lines["Made on"] == "2026-11-30 09:15 UTC"
    assert report_filename(meta, "pdf") == "funnel-lab-online-shop-6-3-1-2026-11-30.pdf"
    unsaved = ReportMeta("Ünsaved <draft>", "", 1, 100, 12, "http://x")
    assert dict(unsaved.reproduce_lines())["Scenario file"] == "not saved"
    assert report_filename(unsaved, "html").startswith("funnel-lab-nsaved-draft-")


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_app_version_names_the_checked_out_commit() -> None:
    short = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                           text=True, check=False, cwd=BASELINE.parents[1]).stdout.strip()
    if not short:
        pytest.skip("not a git checkout")
    assert short in app_version()


# --------------------------------------------------------------------------------------------
# The three files.


def test_pdf_text_holds_every_sentence_figure_and_assumption(report_parts: tuple) -> None:
    answers, assumptions, meta = report_parts
    reader = PdfReader(io.BytesIO(report_pdf(answers, assumptions, meta)))
    text = _words("\n".join(page.extract_text() for page in reader.pages))
    for answer in answers:
        assert answer.decision in text
        for figure in answer.figures:
            assert figure.value_text in text
            assert figure.label in text
    assert "−$41k" in text  # U+2212, not a hyphen: the embedded font carries it
    assert "Refunds still owed <peak> & fall" in text  # markup characters stay text
    for assumption in assumptions:
        assert f"{assumption.label} {assumption.value_text}" in text
    assert "20261122" in text
    assert "2,000" in text
    assert "2026-11-30 09:15 UTC" in text
    assert "v1.2-7-gabc1234" in text
    assert SHARE_LINK in "".join(text.split())
    # One page per answer after the first, and the appendix: 2 answers -> 3 pages.
    assert len(reader.pages) == 3
    # Every font is embedded (TrueType), so no reader substitutes its own.
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font \
                else font
            assert "/FontFile2" in descendant["/FontDescriptor"].get_object()


def test_pptx_titles_are_the_decisions_with_figures_and_a_chart(report_parts: tuple) -> None:
    answers, assumptions, meta = report_parts
    deck = Presentation(io.BytesIO(report_pptx(answers, assumptions, meta)))
    slides = list(deck.slides)
    # Title, one per answer, assumptions, reproduce.
    assert len(slides) == len(answers) + 3
    assert slides[0].shapes.title.text == "Funnel Lab report: Online shop, 6:3:1"
    for slide, answer in zip(slides[1:], answers, strict=False):
        assert slide.shapes.title.text == answer.decision
        texts = [shape.text_frame.text for shape in slide.shapes if shape.has_text_frame]
        for figure in answer.figures:
            assert figure.value_text in texts
            assert figure.label in texts
        pictures = [shape for shape in slide.shapes if shape.shape_type == 13]
        assert len(pictures) == 1
        assert slide.notes_slide.notes_text_frame.text.endswith(answer.detail)
    for slide in slides:
        for shape in slide.shapes:
            assert shape.left >= 0 and shape.top >= 0
            assert shape.left + shape.width <= deck.slide_width + Emu(1)
            assert shape.top + shape.height <= deck.slide_height + Emu(1)
    assumptions_slide = slides[len(answers) + 1]
    table = next(shape.table for shape in assumptions_slide.shapes if shape.has_table)
    rows = [[cell.text for cell in row.cells] for row in table.rows]
    assert rows[1:] == [[a.label, a.value_text] for a in assumptions]
    assert len([s for s in assumptions_slide.shapes if s.shape_type == 13]) == len(PICTURED)
    reproduce = slides[-1]
    text = "\n".join(shape.text_frame.text for shape in reproduce.shapes if shape.has_text_frame)
    for line in ("Seed: 20261122", "Trials (simulated futures): 2,000",
                 f"Share link: \n{SHARE_LINK}", "Scenario file: baseline.yaml"):
        assert line in text
    links = [run.hyperlink.address for shape in reproduce.shapes if shape.has_text_frame
             for paragraph in shape.text_frame.paragraphs for run in paragraph.runs
             if run.hyperlink.address]
    assert links == [SHARE_LINK]


def test_html_is_self_contained_with_every_answer_and_picture(report_parts: tuple) -> None:
    answers, assumptions, meta = report_parts
    document = report_html(answers, assumptions, meta).decode("utf-8")
    readable = html.unescape(document)
    urls = set(re.findall(r"https?://[^\s\"'<>]+", readable))
    assert urls == {SHARE_LINK}
    for tag in ("<script", "<link", "@import", "url(", "<iframe"):
        assert tag not in document.lower()
    for answer in answers:
        assert html.escape(answer.decision) in document
        for figure in answer.figures:
            assert html.escape(figure.value_text) in document
    assert "Refunds still owed &lt;peak&gt; &amp; fall" in document
    for assumption in assumptions:
        assert html.escape(assumption.value_text) in document
    sources = re.findall(r'<img src="data:image/png;base64,([^"]+)"', document)
    assert len(sources) == len(answers) + len(PICTURED)
    for source in sources:
        with Image.open(io.BytesIO(base64.b64decode(source))) as image:
            assert image.size[0] > 100


def test_a_chart_that_cannot_be_drawn_is_a_clear_report_error() -> None:
    broken = alt.Chart(pd.DataFrame({"x": [1.0]})).mark_point().encode(
        x=alt.X("x:Q", scale={"type": "not-a-scale"}))
    answer = PageAnswer("retention", "Retention", "Keep the split.", chart=broken)
    with pytest.raises(ReportError, match="The Retention chart could not be drawn"):
        report_pdf([answer], [], sample_meta())


def test_a_slide_without_a_chart_shows_its_table_and_says_what_is_left_out() -> None:
    table = pd.DataFrame({"Split": [f"{i * 10}/{100 - i * 10}/0" for i in range(15)],
                          "Beats 60/30/10": [f"{i * 5}%" for i in range(15)]})
    answer = PageAnswer("splits", "Budget split", "Stay with 60/30/10: it is within noise of "
                        "the best split.", table=table)
    deck = Presentation(io.BytesIO(report_pptx([answer], [], sample_meta())))
    slide = list(deck.slides)[1]
    shown = next(shape.table for shape in slide.shapes if shape.has_table)
    rows = [[cell.text for cell in row.cells] for row in shown.rows]
    assert rows[:2] == [["Split", "Beats 60/30/10"], ["0/100/0", "0%"]]
    assert len(rows) == 1 + 12
    texts = [shape.text_frame.text for shape in slide.shapes if shape.has_text_frame]
    assert "3 more rows in the HTML and PDF report." in texts
