"""Browser fixtures: one Streamlit server and one headless Chromium for the whole session."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.browser.helpers import (
    CHROMIUM_ARGS,
    CHROMIUM_PATH,
    REPO_ROOT,
    open_page,
    streamlit_server,
)

_BROWSER_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder is a slow browser test, even if its marks were forgotten."""
    for item in items:
        if _BROWSER_DIR in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def app_script() -> Path:
    """The entry script the server runs, as `make run` does: serve.py, which serves app.py
    (override to test the harness on another app)."""
    return REPO_ROOT / "serve.py"


@pytest.fixture(scope="session")
def app_server(app_script: Path, scenario_library: Path) -> Iterator[str]:
    """Base URL (http://127.0.0.1:PORT) of the app serving a temp copy of scenarios/."""
    with streamlit_server(
        app_script,
        cwd=app_script.parent,
        env={"FUNNEL_LAB_SCENARIOS": str(scenario_library)},
    ) as base_url:
        yield base_url


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium driven by Playwright (Playwright never downloads a browser)."""
    if not Path(CHROMIUM_PATH).exists():
        message = f"{CHROMIUM_PATH} is missing (make test installs Debian's chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM_PATH, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def open_app(browser: Browser, app_server: str) -> Iterator[Callable[..., Page]]:
    """Factory `open_app(path_and_query="/", wait=True) -> Page`; contexts close after the test."""
    pages: list[Page] = []

    def _open(path_and_query: str = "/", *, wait: bool = True) -> Page:
        page = open_page(browser, app_server, path_and_query, wait=wait)
        pages.append(page)
        return page

    yield _open
    for page in pages:
        page.context.close()
