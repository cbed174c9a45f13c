"""A fresh server's first request still shows the whole app, although the page scripts live in
pages/ (Streamlit's pages-folder mode runs a page file alone until st.navigation has run once;
ui/navigation.py runs app.py in its place). Each case starts its own server: the session
server of conftest.py has already left that mode after its first request."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tests.browser.helpers import REPO_ROOT, app_errors, open_page, streamlit_server, wait_for_app


def _menu_titles() -> list[str]:
    """The titles of app.py's st.Page entries shown in the menu (hidden aliases left out)."""
    tree = ast.parse((REPO_ROOT / "app.py").read_text(encoding="utf-8"))
    return [kw.value.value for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "Page"
            and not any(k.arg == "visibility" for k in node.keywords)
            for kw in node.keywords if kw.arg == "title"]


@pytest.mark.parametrize(("path", "title"), [("/guarantee", "Guarantee"),
                                             ("/budget-split", "Budget split"),
                                             ("/overview", "Overview")])
def test_first_request_of_a_fresh_server_shows_menu_sidebar_and_page(
        browser: Browser, scenario_library: Path, path: str, title: str) -> None:
    with streamlit_server(REPO_ROOT / "app.py",
                          env={"FUNNEL_LAB_SCENARIOS": str(scenario_library)}) as base_url:
        page = open_page(browser, base_url, f"{path}?trials=300&seed=5", wait=False)
        try:
            wait_for_app(page, timeout=180_000)
            sidebar = page.locator('[data-testid="stSidebar"]')
            menu = sidebar.locator('[data-testid="stSidebarNav"] a').all_inner_texts()
            # Each link reads "<icon name>\n\n<title>"; the pages-folder menu would read
            # "app", "budget split", ... from the file names instead.
            assert [text.split("\n")[-1].strip() for text in menu] == _menu_titles()
            assert "Guarantee" in _menu_titles()
            assert sidebar.get_by_role("heading", name="Funnel Lab").is_visible()
            assert page.locator("h1").all_inner_texts() == [title]
            # No "Page not found" dialog: /overview is a hidden alias of the default page "/".
            assert page.locator('[role="dialog"]').count() == 0
            assert app_errors(page) == []
            # The link's seed reached app.py's sidebar (the page ran with this run's context).
            seed = sidebar.locator('input[aria-label="Seed"]')
            assert seed.input_value() == "5"
        finally:
            page.context.close()
