"""Page benchmark (`make bench-pages`; prints a table, asserts nothing).

For each page of the app, and for a blank Streamlit page (a title, one line and one number
input: the floor Streamlit itself sets), in headless Chromium at 1400x1000, one session at a
time, on servers this script starts on loopback and stops:

- cold: first open after its own server started (imports, simulation, charts), in a new
  browser (empty HTTP cache). The servers run without the start-up warm-up thread
  (FUNNEL_LAB_WARM_UP=0; `--warm-up` turns it on): cold is then a page nothing was computed
  for, and the warm-up's work does not share the cores with the warm measures;
- first link: the first open of the page in a new browser on another server started for it
  with the warm-up on, once that server is idle (the warm-up has finished: the morning's
  first link, opened some time after the server started). The blank page's server has no
  warm-up; its first link is its first open once idle;
- (then the script waits until the server is idle, at most IDLE_TIMEOUT_S; the wait is
  printed)
- warm, same browser: the same address opened again in a new tab of that browser (a new
  session; the simulation is cached, and so are Streamlit's JavaScript chunks: a presenter
  re-opening a link, or anyone moving to a second page);
- warm, new browser: the same address in another new browser context (empty HTTP cache: the
  page downloads and compiles the chart and table code the blank page never needs; someone
  opening the shared link for the first time);
- each warm measure is the best of WARM_REPEATS opens;
- change: one control changed on the warm same-browser page (a typed split, a slider step,
  a pick), timed from the change itself (the servers run with the background computation of a
  page's likely next views, ui/prefetch.py, as `make run` does: FUNNEL_LAB_PREFETCH=0 in the
  environment turns it off); a drop-down list is opened before the timer starts
  (opening it changes nothing; until the eighth session the open was timed too, about 0.3 s
  of Playwright clicks and the list's animation).

"Finished" is the browser tests' settled state (tests/browser/helpers.py: script not running,
no skeletons or running icon) with the page's main answer on screen, timed from navigation (or
from the control change) to the first moment of a settled state that then holds for 400 ms.
Cold and warm ratios are to the blank page's same measure, measured in the same run. The
change ratio is to the blank page's warm finished time in a new browser, the floor as issue 16
defines it ("a blank Streamlit page finishes in about 1.5 s"; "a control change at most 0.7x"
of it); the blank page's own change time is printed for context. The runs column counts the
script runs the browser saw while a page opened (query-parameter writes rerun it); the server
CPU column is the Streamlit process's CPU seconds for the warm same-browser view and for the
change (psutil), next to their wall times.
Page names as arguments measure only those pages (the blank page is always measured, and so
is a reference page that is not the app's: the blank page with one chart and one table, to
show the floor of any page with a chart).
"""

from __future__ import annotations

import math
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.browser.helpers import (
    _SETTLED_JS,
    CHROMIUM_ARGS,
    CHROMIUM_PATH,
    REPO_ROOT,
    VIEWPORT,
    streamlit_server,
)

#: Longest wait for one page to finish, in seconds (a failure is reported, not hung on).
PAGE_TIMEOUT_S = 120.0
#: Goals from issue 16, as ratios to the blank page (warm: both ways of opening).
GOALS = {"cold": 2.5, "first_link": 2.5, "warm": 1.5, "warm_new": 1.5, "change": 0.7}
#: Column headings of the measures.
HEADINGS = {"cold": "cold", "first_link": "first link", "warm": "warm same br.",
            "warm_new": "warm new br.", "change": "change"}
#: The blank page's measure each page measure is divided by (change: see the docstring).
FLOOR_OF = {"cold": "cold", "first_link": "first_link", "warm": "warm", "warm_new": "warm_new",
            "change": "warm_new"}

BLANK_APP = """import streamlit as st

st.title("Blank page")
with st.container(key="answer"):
    st.write("One line of text.")
st.number_input("A number", value=1, key="number")
"""

#: The blank page with one Altair line chart (60 points) and one five-row table (the app
#: draws its charts as Vega-Lite specs, ui.chart_specs.show_chart, and its tables with st.table).
REFERENCE_APP = """import altair as alt
import pandas as pd
import streamlit as st

st.title("One chart and one table")
scale = st.number_input("A number", value=1, key="number")
frame = pd.DataFrame({"month": range(60), "profit": [scale * m * m for m in range(60)]})
with st.container(key="answer"):
    st.write("One line of text.")
    st.vega_lite_chart(alt.Chart(frame).mark_line().encode(x="month:Q", y="profit:Q")
                       .to_dict(), width="stretch")
    st.table(frame.head(5))
"""


def _type(label: str, text: str) -> Callable[[Page], None]:
    def act(page: Page) -> None:
        box = page.get_by_label(label, exact=True)
        box.fill(text)
        box.press("Enter")
    return act


def _slider_step(name: str | None, key: str = "ArrowRight") -> Callable[[Page], None]:
    """Move a slider (the first one when `name` is None) by one step with the keyboard."""
    def act(page: Page) -> None:
        thumb = (page.get_by_role("slider", name=name) if name
                 else page.get_by_role("slider")).first
        thumb.focus()
        thumb.press(key)
    return act


def _open_box(box_selector: str) -> Callable[[Page], None]:
    """Open a drop-down list (before the timer starts: opening it changes nothing)."""
    def act(page: Page) -> None:
        page.locator(box_selector).first.click()
        page.get_by_role("option").first.wait_for()
    return act


def _pick(option: str) -> Callable[[Page], None]:
    """Pick an option of the drop-down list `_open_box` opened: the change itself."""
    def act(page: Page) -> None:
        page.get_by_role("option", name=option).click()
    return act


@dataclass(frozen=True)
class Target:
    """A page: its address, the selector of its main answer and one control change
    (`prepare`, untimed, readies the control: opens a drop-down list)."""

    name: str
    path: str
    answer: str
    change: Callable[[Page], None]
    change_words: str
    prepare: Callable[[Page], None] | None = None


PAGES: tuple[Target, ...] = (
    # The overview has no control of its own: the sidebar's seed (a new simulation).
    Target("overview", "/overview", ".st-key-answer", _type("Seed", "20261123"),
           "sidebar seed +1 (new simulation)"),
    Target("budget-split", "/budget-split", ".st-key-answer",
           _type("Add splits (cold/warm/hot, in %)", "40/30/30"), "typed split 40/30/30"),
    Target("guarantee", "/guarantee", ".st-key-answer",
           _slider_step(None, "ArrowLeft"),
           "length slider one step"),
    Target("retention", "/retention", ".st-key-answer",
           _slider_step("Look at a share for existing buyers (hot)"), "hot-share slider step"),
    Target("compare", "/compare", ".st-key-answer", _pick("NPV of profit"),
           "judge by NPV of profit", _open_box(".st-key-compare_metric")),
    Target("sensitivity", "/sensitivity", ".st-key-answer", _pick("NPV of profit"),
           "metric NPV of profit", _open_box("[data-testid='stSelectbox']:has-text('Metric')")),
    Target("scenario", "/scenario", "input[aria-label='Scenario name']",
           _type("Scenario name", "Bench shop"), "scenario name typed"),
)
BLANK = Target("blank Streamlit page", "/", ".st-key-answer", _type("A number", "2"),
               "number 1 -> 2")
#: Not a page of the app: the floor of any page that shows a chart, in the same run.
REFERENCE = Target("one chart + one table", "/", ".st-key-answer", _type("A number", "2"),
                   "number 1 -> 2 (new chart data)")

# Counts the script runs of a page from its first paint (query-parameter writes rerun it).
_COUNT_RUNS_JS = """
window.__benchRuns = 0;
new MutationObserver((changes) => {
  for (const change of changes) {
    if (change.attributeName === 'data-test-script-state'
        && change.target.getAttribute('data-test-script-state') === 'running') {
      window.__benchRuns += 1;
    }
  }
}).observe(document, {attributes: true, subtree: true,
                      attributeFilter: ['data-test-script-state']});
// Messages from the server: a rerun so quick that the page never shows "running" still sends
// some (the blank page's change otherwise waited out the 5 s below).
window.__benchMessages = 0;
const BenchSocket = window.WebSocket;
window.WebSocket = class extends BenchSocket {
  constructor(...args) {
    super(...args);
    this.addEventListener('message', () => { window.__benchMessages += 1; });
  }
};
"""

_WATCH_RUNS_JS = """() => {
  window.__benchSawRun = false;
  const messages = window.__benchMessages;
  const answered = () => {
    if (window.__benchMessages > messages) window.__benchSawRun = true;
    else setTimeout(answered, 10);
  };
  answered();
  const app = document.querySelector('[data-testid="stApp"]');
  new MutationObserver(() => {
    if (app.getAttribute('data-test-script-state') === 'running') window.__benchSawRun = true;
  }).observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""


def _finished(page: Page, answer: str, start: float, need_run: bool) -> float:
    """Seconds from `start` until the page is settled with `answer` present, the settled state
    then holding for 400 ms; with `need_run`, a run must have started after `start`."""
    done = (f"() => ({_SETTLED_JS})() && !!document.querySelector({answer!r})"
            + (" && window.__benchSawRun" if need_run else ""))
    deadline = start + PAGE_TIMEOUT_S
    while True:
        remaining_ms = max(1.0, (deadline - time.perf_counter()) * 1000)
        page.wait_for_function(done, timeout=remaining_ms, polling=50)
        settled_at = time.perf_counter()
        page.wait_for_timeout(400)
        if page.evaluate(done):
            return settled_at - start


CHANGE_TIMEOUT_MS = 30_000
#: Idle server: under this many CPU seconds per second, twice in a row; waited for at most
#: IDLE_TIMEOUT_S.
IDLE_CPU_SHARE, IDLE_TIMEOUT_S = 0.05, 120.0
#: Each warm measure is the best of this many opens (other work on the machine only adds).
WARM_REPEATS = 3


def _new_browser(browser: Browser) -> BrowserContext:
    """A new browser context: its own empty HTTP cache, like another person's browser."""
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(_COUNT_RUNS_JS)
    context.set_default_timeout(PAGE_TIMEOUT_S * 1000)
    return context


def _open(context: BrowserContext, url: str, target: Target) -> tuple[Page, float]:
    """Open `url` in a new tab of `context`; seconds to the finished page."""
    page = context.new_page()
    start = time.perf_counter()
    page.goto(url)
    return page, _finished(page, target.answer, start, need_run=False)


def _server_process(base_url: str) -> psutil.Process | None:
    """The Streamlit server this script started for `base_url` (None if not found)."""
    port = base_url.rsplit(":", 1)[1]
    for child in psutil.Process().children(recursive=True):
        try:
            if "streamlit" in child.cmdline() and port in child.cmdline():
                return child
        except psutil.Error:
            continue
    return None


def _cpu(process: psutil.Process | None) -> float:
    """CPU seconds (user + system) the server process has used so far (nan if unknown)."""
    if process is None:
        return math.nan
    try:
        times = process.cpu_times()
    except psutil.Error:
        return math.nan
    return times.user + times.system


def _cpu_with_workers(process: psutil.Process | None) -> float:
    """CPU seconds of the server and its child processes (the returns desk's worker runs the
    desk while the server thread that asked for it waits), as far as they can be read."""
    if process is None:
        return math.nan
    try:
        children = process.children(recursive=True)
    except psutil.Error:
        children = []
    # A worker that ended between the listing and the reading counts as nothing.
    return _cpu(process) + sum(spent for spent in map(_cpu, children) if not math.isnan(spent))


def _wait_idle(process: psutil.Process | None) -> float:
    """Wait until the server and its workers use under IDLE_CPU_SHARE of a core for two
    seconds in a row (the warm-up thread has finished); return the seconds waited."""
    start = time.perf_counter()
    quiet = 0
    while process is not None and quiet < 2 and time.perf_counter() - start < IDLE_TIMEOUT_S:
        before = _cpu_with_workers(process)
        time.sleep(1.0)
        quiet = quiet + 1 if _cpu_with_workers(process) - before < IDLE_CPU_SHARE else 0
    return time.perf_counter() - start


def measure(browser: Browser, app: Path, target: Target, env: dict[str, str]) -> dict[str, float]:
    """Cold, warm (same and new browser) and control-change seconds of one page on a server
    started for it, with the server's CPU seconds of the warm same-browser view and change."""
    with streamlit_server(app, cwd=app.parent, env=env) as base_url:
        url = base_url + target.path
        server = _server_process(base_url)
        presenter = _new_browser(browser)
        page, cold = _open(presenter, url, target)
        cold_runs = page.evaluate("() => window.__benchRuns")
        page.close()
        idle_wait = _wait_idle(server)
        warm_new = math.inf
        for _ in range(WARM_REPEATS):
            other = _new_browser(browser)
            warm_new = min(warm_new, _open(other, url, target)[1])
            other.close()
        warm, page = math.inf, None
        for _ in range(WARM_REPEATS):  # the last tab stays open for the change
            if page is not None:
                page.close()
            cpu_before = _cpu(server)
            page, seconds = _open(presenter, url, target)
            if seconds < warm:
                warm, warm_cpu = seconds, _cpu(server) - cpu_before
        warm_runs = page.evaluate("() => window.__benchRuns")
        row = {"cold": cold, "warm": warm, "warm_new": warm_new, "change": math.nan,
               "runs_cold": cold_runs, "runs_warm": warm_runs, "cpu_warm": warm_cpu,
               "cpu_change": math.nan, "idle_wait": idle_wait}
        page.set_default_timeout(CHANGE_TIMEOUT_MS)
        try:
            if target.prepare is not None:
                target.prepare(page)
            page.evaluate(_WATCH_RUNS_JS)
            cpu_before = _cpu(server)
            start = time.perf_counter()
            target.change(page)
        except PlaywrightTimeout as error:  # cold and warm still count; the change is missing
            print(f"  {target.name}: the control could not be used: {str(error).splitlines()[0]}")
            presenter.close()
            return row
        # A change that starts no run within 5 s is timed to the settled page.
        try:
            page.wait_for_function("() => window.__benchSawRun", timeout=5000, polling=20)
            row["change"] = _finished(page, target.answer, start, need_run=True)
        except PlaywrightTimeout:  # no run started
            row["change"] = _finished(page, target.answer, start, need_run=False)
        row["cpu_change"] = _cpu(server) - cpu_before
        presenter.close()
    return row


def first_link(browser: Browser, app: Path, target: Target, env: dict[str, str]) -> float:
    """Seconds to the finished page opened first, in a new browser, on a server started with
    the warm-up once that server has gone idle (its warm-up finished)."""
    with streamlit_server(app, cwd=app.parent,
                          env={**env, "FUNNEL_LAB_WARM_UP": "1"}) as base_url:
        _wait_idle(_server_process(base_url))
        context = _new_browser(browser)
        try:
            return _open(context, base_url + target.path, target)[1]
        finally:
            context.close()


def main(names: list[str]) -> None:
    """Measure the blank page and the named pages (all by default); print the table.
    `--warm-up` among the names runs the servers with the start-up warm-up thread."""
    warm_up = "--warm-up" in names
    names = [name for name in names if name != "--warm-up"]
    chosen = [page for page in PAGES if not names or page.name in names]
    if not Path(CHROMIUM_PATH).exists():
        print(f"{CHROMIUM_PATH} is missing: no browser to measure with")
        return
    rows: dict[str, dict[str, float] | str] = {}
    with tempfile.TemporaryDirectory(prefix="bench-pages-") as folder:
        blank_app = Path(folder) / "blank.py"
        blank_app.write_text(BLANK_APP)
        reference_app = Path(folder) / "reference.py"
        reference_app.write_text(REFERENCE_APP)
        library = Path(folder) / "scenarios"
        shutil.copytree(REPO_ROOT / "scenarios", library)
        env = {"FUNNEL_LAB_SCENARIOS": str(library),
               "FUNNEL_LAB_WARM_UP": "1" if warm_up else "0"}
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM_PATH, headless=True,
                                                 args=CHROMIUM_ARGS)
            try:
                for app, target in ((blank_app, BLANK), (reference_app, REFERENCE),
                                    *((REPO_ROOT / "serve.py", page) for page in chosen)):
                    try:
                        row = rows[target.name] = measure(browser, app, target, env)
                        try:
                            row["first_link"] = first_link(browser, app, target, env)
                        except Exception as error:  # the other measures still count
                            row["first_link"] = math.nan
                            print(f"  {target.name}: no first link: {error}".splitlines()[0])
                    except Exception as error:  # reported in the table, not raised
                        lines = str(error).splitlines()
                        rows[target.name] = (f"failed: {type(error).__name__}: {lines[0]} "
                                             f"{lines[-1] if len(lines) > 1 else ''}")[:240]
                    print(f"  measured {target.name}: {rows[target.name]}", flush=True)
            finally:
                browser.close()
    floor = rows[BLANK.name]
    if not isinstance(floor, dict):
        print(f"the blank page could not be measured: {floor}")
        return
    print(f"\nSeconds to the finished page (ratio to the blank page); machine: "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; start-up warm-up "
          f"{'on' if warm_up else 'off'}; prefetch "
          f"{'off' if os.environ.get('FUNNEL_LAB_PREFETCH') == '0' else 'on'}")
    print(f"warm same br.: a new tab of the browser that opened the page cold (JavaScript "
          f"cached); warm new br.: a new browser (empty cache); best of {WARM_REPEATS} each. "
          "change: ratio to the blank page's warm new-browser time")
    print(f"{'page':<22}" + "".join(f"{HEADINGS[k]:>16}" for k in GOALS)
          + "  runs c/w  server CPU s warm/change  idle wait s  change made")
    print(f"{'goal (ratio)':<22}" + "".join(f"{'<= ' + str(g) + 'x':>16}"
                                             for g in GOALS.values()))
    for target in (BLANK, REFERENCE, *chosen):
        row = rows[target.name]
        if not isinstance(row, dict):
            print(f"{target.name:<22}{row}")
            continue
        cells = "".join(f"{row[k]:>8.2f} ({row[k] / floor[FLOOR_OF[k]]:4.1f}x)" for k in GOALS)
        runs = f"{row['runs_cold']:.0f}/{row['runs_warm']:.0f}"
        cpu = f"{row['cpu_warm']:.2f}/{row['cpu_change']:.2f}"
        print(f"{target.name:<22}{cells}  {runs:>8}  {cpu:>22}  {row['idle_wait']:>11.0f}  "
              f"{target.change_words}")
    met = {k: sum(isinstance(rows[t.name], dict)
                  and rows[t.name][k] / floor[FLOOR_OF[k]] <= goal for t in chosen)
           for k, goal in GOALS.items()}
    print("pages meeting the goal: " + ", ".join(f"{HEADINGS[k]} {met[k]}/{len(chosen)}"
                                                 for k in GOALS))
    print(f"change floor: blank page warm in a new browser {floor['warm_new']:.2f} s "
          f"(the blank page's own change: {floor['change']:.2f} s)")

if __name__ == "__main__":
    main(sys.argv[1:])
