"""The whole-deck report (issue 15): built from the ui.answers registry with the context a page
resolves from its link, the PDF's text and the PPTX's slide titles hold every page's decision
sentence and figures, and those are the sentences the pages themselves show for that link."""

from __future__ import annotations

import io

import pytest
from pptx import Presentation
from pypdf import PdfReader

from tests.app.conftest import new_app, open_page
from ui.answers import SLIDES, build_deck
from ui.deck import report_bytes
from ui.library import read_entry
from ui.state import PageContext

TRIALS = 500
SEED = 7


def _words(text: str) -> str:
    return " ".join(text.split())


def _context() -> PageContext:
    saved = read_entry("baseline").scenario
    return PageContext("baseline", saved, saved, {}, SEED, TRIALS, False)


@pytest.fixture(scope="module")
def deck() -> list:
    return build_deck(_context())


def test_deck_has_one_answer_per_slide_in_order(deck: list) -> None:
    assert [answer.page for answer in deck] == [slide.name for slide in SLIDES]
    assert [answer.page for answer in deck][:2] == ["overview", "budget_split"]
    assert all(len(answer.figures) <= 4 and answer.decision for answer in deck)


def test_pdf_and_pptx_hold_every_decision_and_figure(deck: list) -> None:
    context = _context()
    pdf = PdfReader(io.BytesIO(report_bytes("pdf", deck, context, "http://x/?seed=7")))
    text = _words("\n".join(page.extract_text() for page in pdf.pages))
    slides = Presentation(io.BytesIO(report_bytes("pptx", deck, context, "http://x/?seed=7")))
    titles = [slide.shapes.title.text for slide in slides.slides if slide.shapes.title]
    for answer in deck:
        assert _words(answer.decision) in text, answer.page
        assert answer.decision in titles, answer.page
        for figure in answer.figures:
            assert figure.value_text in text, (answer.page, figure)


@pytest.mark.parametrize("page", ["overview", "compare", "guarantee", "assumptions"])
def test_pages_show_the_registry_sentence_for_the_same_link(fresh_scenario_library, page,
                                                            deck: list) -> None:
    at = open_page(new_app(),
                   f"pages/{page}.py", trials=str(TRIALS), seed=str(SEED))
    shown = " ".join(m.value for m in at.markdown)
    answer = next(answer for answer in deck if answer.page == page)
    assert answer.decision in shown
    values = [m.value for m in at.metric]
    for figure in answer.figures if page == "overview" else ():
        assert figure.value_text in values


def test_one_click_downloads_and_a_report_that_cannot_be_made_says_why(
        fresh_scenario_library, monkeypatch) -> None:
    from ui import deck
    from ui.report import ReportError

    def refuse(*_args) -> bytes:
        raise ReportError("the chart renderer is missing")

    # Keep what each download button runs when clicked (Streamlit calls it on the click).
    makers: dict[str, object] = {}
    original = deck.report_maker

    def keep(kind, answers, context, share_link, failures, key):
        makers[key] = original(kind, answers, context, share_link, failures, key)
        return makers[key]

    monkeypatch.setitem(deck._BUILDERS, "pdf", refuse)
    monkeypatch.setattr(deck, "report_maker", keep)
    at = open_page(new_app(), "pages/overview.py", trials=str(TRIALS), seed=str(SEED))
    # One button per file, each a download button: no "make it first" step.
    labels = [w.proto.label for w in at.get("download_button")
              if w.proto.id.endswith(("report_page_html", "report_page_pdf",
                                      "report_page_pptx"))]
    assert sorted(labels) == ["HTML", "PDF", "PowerPoint"]
    assert not [b for b in at.button if (b.key or "").startswith("report_")]
    html = makers["report_page_html"]()
    assert html.lstrip().lower().startswith(b"<!doctype html")
    assert b"Overview" in html
    with pytest.raises(ReportError):
        makers["report_page_pdf"]()
    at.run()
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    assert "could not be made: PDF (download report): the chart renderer is missing" in errors
