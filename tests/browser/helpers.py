"""Browser-test harness: start the Streamlit app, open pages in Chromium, wait, screenshot.

Used by tests/browser/conftest.py; tests import the helpers from here
(`from tests.browser.helpers import wait_for_app, screenshot`).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, Page

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS_DIR = REPO_ROOT / "tests" / "artifacts"
CHROMIUM_PATH = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]
VIEWPORT = {"width": 1400, "height": 1000}
HEALTH_TIMEOUT_S = 60.0

# True when the page shows a finished run: script idle, connected, no loading placeholders and
# no "Running..." icon. Checked several times in a row because a rerun can start just after.
_SETTLED_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app) return false;
  const state = app.getAttribute('data-test-script-state');
  if (state === 'compilationError') return true;
  if (state !== 'notRunning') return false;
  if (app.getAttribute('data-test-connection-state') !== 'CONNECTED') return false;
  return !document.querySelector(
    '[data-testid="stSkeleton"], [data-testid="stAppSkeleton"],'
    + ' [data-testid="stStatusWidgetRunningIcon"]');
}"""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _log_tail(log_path: Path, lines: int = 40) -> str:
    text = log_path.read_text(errors="replace") if log_path.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


def _wait_healthy(base_url: str, proc: subprocess.Popen, log_path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"streamlit exited with code {proc.returncode} before it was healthy:\n"
                + _log_tail(log_path)
            )
        try:
            with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2) as resp:  # noqa: S310 (loopback URL we built)
                if resp.read().decode().strip() == "ok":
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    raise TimeoutError(
        f"streamlit at {base_url} not healthy after {timeout:.0f} s:\n" + _log_tail(log_path)
    )


def _stop_group(proc: subprocess.Popen) -> None:
    """Stop the server and everything it started (it leads its own process group)."""
    if proc.poll() is not None:
        return
    for sig, wait_s in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            continue


@contextmanager
def streamlit_server(
    app_path: Path,
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = HEALTH_TIMEOUT_S,
) -> Iterator[str]:
    """Run `streamlit run app_path` headless on a free loopback port; yield its base URL.

    `cwd` defaults to the app's folder (so its .streamlit/config.toml applies); `env` entries
    are added to the current environment. The process group is ended on exit; the server log
    is quoted in the error if it fails to start.
    """
    app_path = Path(app_path).resolve()
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(app_path),
        "--server.headless", "true",
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--browser.gatherUsageStats", "false",
        # Tests never edit sources while running; no watcher means no "source changed" prompt.
        "--server.fileWatcherType", "none",
    ]  # fmt: skip
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    with tempfile.TemporaryDirectory(prefix="streamlit-log-") as log_dir:
        log_path = Path(log_dir) / "server.log"
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                cmd,
                cwd=cwd or app_path.parent,
                env=full_env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            _wait_healthy(base_url, proc, log_path, timeout)
            yield base_url
        finally:
            _stop_group(proc)


def wait_for_app(page: Page, timeout: float = 60_000, stable_checks: int = 3) -> None:
    """Wait (timeout in ms) until the app has finished its run and shows no loading state.

    The settled state must hold for `stable_checks` checks 200 ms apart, because a widget
    change or query-param sync can start a new run right after one ends.
    """
    deadline = time.monotonic() + timeout / 1000
    while True:
        remaining_ms = max(1.0, (deadline - time.monotonic()) * 1000)
        page.wait_for_function(_SETTLED_JS, timeout=remaining_ms, polling=100)
        for _ in range(stable_checks - 1):
            page.wait_for_timeout(200)
            if not page.evaluate(_SETTLED_JS):
                break
        else:
            state = page.get_attribute('[data-testid="stApp"]', "data-test-script-state")
            if state == "compilationError":
                raise AssertionError("the app script failed to compile (see the server log)")
            return
        if time.monotonic() >= deadline:
            raise TimeoutError(f"app did not settle within {timeout:.0f} ms")


def app_errors(page: Page) -> list[str]:
    """Texts of the exception boxes the app shows (empty when the run raised nothing)."""
    return page.locator('[data-testid="stException"]').all_inner_texts()


def metric_value(page: Page, label: str) -> str:
    """The shown value of the st.metric card whose label is exactly `label`."""
    card = page.locator("[data-testid='stMetric']").filter(
        has=page.locator("[data-testid='stMetricLabel']").get_by_text(label, exact=True))
    return card.locator("[data-testid='stMetricValue']").inner_text().strip()


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page PNG as tests/artifacts/<name>.png and return its path."""
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def open_page(
    browser: Browser, base_url: str, path_and_query: str = "/", *, wait: bool = True
) -> Page:
    """Open base_url + path_and_query in a fresh context (1400x1000); wait for the app by default.

    Close it with `page.context.close()` (the `open_app` fixture does that for you).
    """
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.goto(base_url.rstrip("/") + "/" + path_and_query.lstrip("/"))
    if wait:
        wait_for_app(page)
    return page


def computed_runs(counted: Path) -> list[tuple[str, str]]:
    """The cached computations a server logged so far, one (function, key of its arguments)
    each, in order (ui.runs.cached_run with FUNNEL_LAB_COUNT_RUNS set to `counted`)."""
    if not counted.exists():
        return []
    return [(name, key) for name, key, *_ in
            (line.split("\t") for line in counted.read_text().splitlines())]


def wait_for_quiet_runs(counted: Path, quiet_s: float, limit_s: float,
                        ready: Callable[[list[str]], bool] = lambda names: True,
                        ) -> list[tuple[str, str]]:
    """Wait until the server has computed nothing new for `quiet_s` seconds and `ready(names of
    the computations so far)` holds; return the computations. Fails after `limit_s` seconds."""
    deadline = time.monotonic() + limit_s
    seen, quiet_since = -1, time.monotonic()
    while time.monotonic() < deadline:
        runs = computed_runs(counted)
        if len(runs) != seen:
            seen, quiet_since = len(runs), time.monotonic()
        elif ready([name for name, _ in runs]) and time.monotonic() - quiet_since > quiet_s:
            return runs
        time.sleep(0.5)
    raise AssertionError(f"still computing after {limit_s:.0f} s: "
                         f"{sorted({name for name, _ in computed_runs(counted)})}")
