"""AppTest fixtures shared by the page tests: the app on a fresh scenario library, opened on a
page the way a link opens it (query parameters first, then the page through app.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import REPO_ROOT
from ui.navigation import SECTIONS

APP = str(REPO_ROOT / "app.py")


def new_app(timeout: float = 240) -> AppTest:
    """The whole app (app.py and its navigation); `timeout` in seconds per run."""
    return AppTest.from_file(APP, default_timeout=timeout)


@pytest.fixture
def app(fresh_scenario_library: Path) -> AppTest:
    """The whole app on a private copy of scenarios/."""
    return new_app()


def open_page(at: AppTest, page: str, **params: str | list[str]) -> AppTest:
    """Open `page` (e.g. "pages/guarantee.py") through app.py with these query parameters,
    as a link would, and fail the test if the page raised."""
    for key, value in params.items():
        at.query_params[key] = value
    # A first run registers app.py's pages, so switch_page finds them by script path (the files
    # are also named after their links, see tests/unit/test_layout.py).
    at.run()
    at.switch_page(page)
    at.run()
    assert not at.exception, at.exception
    return at


def open_section(at: AppTest, page: str, label: str) -> AppTest:
    """Pick the section tab `label` of `page` (its file name, e.g. "guarantee"), as a click on
    the tab does, and fail the test if the page raised."""
    key, labels = SECTIONS[page]
    assert label in labels, labels
    at.session_state[key] = label
    at.run()
    assert not at.exception, at.exception
    return at


def decision_text(at: AppTest) -> str:
    """The page's decision sentence (the answer container, ui.layout.answer)."""
    texts = [m.value for m in at.container("answer").markdown]
    assert len(texts) == 1, texts
    return texts[0]


def detail_text(at: AppTest) -> str:
    """The answer's smaller detail line."""
    return " ".join(m.value for m in at.container("answer_detail").markdown)


def share_link_text(at: AppTest) -> str:
    """The footer's share link (ui.layout.footer writes it as one inline code span)."""
    links = [m.value.strip("`") for m in at.container("share").markdown
             if m.value.startswith("`")]
    assert len(links) == 1, links
    return links[0]
