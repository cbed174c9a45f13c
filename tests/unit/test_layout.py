"""The repository layout that Streamlit depends on: page scripts in pages/, each run by app.py."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO_ROOT

PAGES_DIR = REPO_ROOT / "pages"


def _menu() -> dict[str, str]:
    """Script path -> url_path of the st.Page(...) entries in app.py, in menu order."""
    tree = ast.parse((REPO_ROOT / "app.py").read_text(encoding="utf-8"))
    return {
        node.args[0].value: next(kw.value.value for kw in node.keywords if kw.arg == "url_path")
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        and node.func.attr == "Page" and node.args and isinstance(node.args[0], ast.Constant)
    }


def _menu_paths() -> list[str]:
    return list(_menu())


def test_page_scripts_live_in_a_top_level_pages_folder() -> None:
    assert not (REPO_ROOT / "app_pages").exists()
    assert sorted(_menu_paths()) == sorted(
        f"pages/{path.name}" for path in PAGES_DIR.glob("*.py") if path.name != "__init__.py")
    assert "pages/guarantee.py" in _menu_paths()


def test_each_page_file_is_named_after_its_link() -> None:
    # On a fresh server Streamlit's pages-folder mode looks up /<link> as pages/<link>.py; when
    # no file has that name it shows "Page not found" over the right page (seen with
    # /budget-split and pages/budget_split.py).
    # The default page is served at / only; its file is named after the hidden /overview alias
    # that app.py keeps for old links (its url_path "home" is never a link).
    for path, url_path in _menu().items():
        expected = "overview" if url_path == "home" else url_path
        assert Path(path).stem == expected, f"{path} is linked as /{url_path}"
    source = (REPO_ROOT / "app.py").read_text(encoding="utf-8")
    assert 'url_path="overview", visibility="hidden"' in source


def _first_statement(path: Path) -> ast.stmt:
    """The first statement of a script that calls anything (imports and constants skipped)."""
    body = ast.parse(path.read_text(encoding="utf-8")).body
    return next(stmt for stmt in body
                if not isinstance(stmt, ast.Import | ast.ImportFrom)
                and any(isinstance(node, ast.Call) for node in ast.walk(stmt)))


def test_every_page_starts_with_current_so_it_runs_inside_app_py() -> None:
    # With a pages/ folder beside app.py, Streamlit 1.67 runs a page file alone on a fresh
    # server's first request and in every AppTest run; current() then runs app.py instead
    # (ui/navigation.py). Anything a page draws before current() would be drawn twice.
    for path in sorted(PAGES_DIR.glob("*.py")):
        stmt = _first_statement(path)
        call = stmt.value if isinstance(stmt, ast.Assign | ast.Expr) else None
        assert isinstance(call, ast.Call), f"{path.name}: {ast.unparse(stmt)}"
        assert isinstance(call.func, ast.Name) and call.func.id == "current", (
            f"{path.name}: the first statement must call ui.state.current()")


def test_app_py_runs_the_chosen_page_through_run_page() -> None:
    # ui.navigation.run_page marks the run as app.py's; a bare navigation.run() would make
    # every page run app.py again inside itself.
    source = (REPO_ROOT / "app.py").read_text(encoding="utf-8")
    assert "run_page(navigation)" in source
    assert ".run()" not in source


def test_each_page_with_sections_names_them_and_their_link_parameter_is_the_pages() -> None:
    """ui.navigation.SECTIONS lists the pages whose sections are lazy tabs: a page that calls
    sections("<link>") must be listed under its own link, and the tab's link parameter must
    carry the page's prefix, or a link opened on another page first would drop it
    (ui.state.check_page_params)."""
    from ui.navigation import SECTIONS
    from ui.state import PAGE_PARAM_PREFIXES

    calls = {}
    for path in sorted(PAGES_DIR.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id == "sections"):
                calls[path.stem] = node.args[0].value
    assert calls == {page: page for page in SECTIONS}
    assert set(calls) == {"budget-split", "compare", "guarantee", "overview", "retention",
                          "sensitivity"}
    for key, labels in SECTIONS.values():
        assert key.startswith(PAGE_PARAM_PREFIXES) and key.endswith("_section"), key
        assert len(labels) == len(set(labels)) >= 2, labels
