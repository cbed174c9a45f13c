"""The repository layout that Streamlit depends on."""

from __future__ import annotations

from tests.conftest import REPO_ROOT


def test_no_pages_folder_next_to_app_py() -> None:
    # With a pages/ folder beside app.py, Streamlit 1.67 runs every script in its old
    # pages-folder mode until some run has called st.navigation: the first request of a fresh
    # server to /guarantee (or /overview, /retention...) then runs pages/guarantee.py alone,
    # without app.py's sidebar and menu, and every AppTest run starts that way (checked in a
    # real server and in tests/app/test_retention.py's calibration test).
    assert not (REPO_ROOT / "pages").exists()
    assert (REPO_ROOT / "app_pages" / "overview.py").is_file()
