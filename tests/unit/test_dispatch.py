"""Engine dispatch (sim/dispatch.py): "auto" runs the compiled engine only for expected flows
and only once it is loaded, so the numbers never depend on when a run happens; the warm-up
(ui/warmup.py) never raises; the split map says how many futures it used (ui/splits.py)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote_plus

import numpy as np
import pytest

from sim import compiled, dispatch
from sim.dispatch import choose_engine
from sim.engine import METRIC_NAMES, MONTHLY_NAMES, SimResult, plan_scenarios, simulate
from sim.metrics import compare_paired
from sim.scenario import Scenario, apply_overrides, load_scenario_file
from ui import splits as ui_splits
from ui import warmup
from ui.navigation import SECTIONS

EXPECTED = Scenario()
RANDOM = apply_overrides(Scenario(), {"simulation.flows": "random"})
REPO = Path(__file__).resolve().parents[2]
SHIPPED = sorted((REPO / "scenarios").glob("*.yaml"))


@pytest.fixture(autouse=True)
def _auto_as_in_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    """The app's "auto" (tests/conftest.py makes it the NumPy engine for the other tests)."""
    monkeypatch.delenv("FUNNEL_LAB_ENGINE", raising=False)


def _ready(monkeypatch: pytest.MonkeyPatch, ready: bool) -> None:
    monkeypatch.setattr(dispatch, "compiled_ready", lambda: ready)


def assert_identical(a: SimResult, b: SimResult) -> None:
    for name in METRIC_NAMES:
        assert np.array_equal(a.metrics[name], b.metrics[name], equal_nan=True), name
    for name in MONTHLY_NAMES:
        assert np.array_equal(a.monthly[name], b.monthly[name], equal_nan=True), name


def test_auto_uses_the_compiled_engine_only_when_it_is_ready(
        monkeypatch: pytest.MonkeyPatch) -> None:
    _ready(monkeypatch, False)
    assert choose_engine(EXPECTED) == "numpy"
    _ready(monkeypatch, True)
    assert choose_engine(EXPECTED) == "compiled"
    assert choose_engine(EXPECTED, "auto") == "compiled"


def test_the_tests_setting_makes_auto_the_numpy_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    _ready(monkeypatch, True)
    monkeypatch.setenv("FUNNEL_LAB_ENGINE", "numpy")
    assert choose_engine(EXPECTED) == "numpy"
    assert choose_engine(EXPECTED, "compiled") == "compiled"


def test_auto_never_runs_random_flows_compiled(monkeypatch: pytest.MonkeyPatch) -> None:
    _ready(monkeypatch, True)
    assert choose_engine(RANDOM) == "numpy"
    _ready(monkeypatch, False)
    assert choose_engine(RANDOM) == "numpy"


def test_an_engine_asked_by_name_is_used_and_a_wrong_name_is_refused(
        monkeypatch: pytest.MonkeyPatch) -> None:
    _ready(monkeypatch, False)
    assert choose_engine(RANDOM, "compiled") == "compiled"
    _ready(monkeypatch, True)
    assert choose_engine(EXPECTED, "numpy") == "numpy"
    with pytest.raises(ValueError, match="engine must be one of"):
        choose_engine(EXPECTED, "fast")  # type: ignore[arg-type]


def test_simulate_runs_the_chosen_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = compiled.simulate_compiled

    def spy(*args: object, **kwargs: object) -> SimResult:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(compiled, "simulate_compiled", spy)
    _ready(monkeypatch, False)
    simulate(EXPECTED, trials=50, horizon=6)
    assert calls == []
    _ready(monkeypatch, True)
    simulate(EXPECTED, trials=50, horizon=6)
    assert calls == [1]
    simulate(RANDOM, trials=50, horizon=6)
    assert calls == [1]


@pytest.mark.skipif(not compiled.AVAILABLE, reason="Numba is not installed")
@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_expected_flows_give_the_same_numbers_whichever_engine_runs(path: Path) -> None:
    # What "auto" may switch between during a server's life. Sums may round in another order
    # (the last bits; profit, a difference of large sums, to about 1e-11 of itself), far below
    # what a page shows and below the paired comparisons' tie tolerance (1e-9): a plan compared
    # with its run on the other engine is a tie in every future, so no answer can change.
    for plan in plan_scenarios(load_scenario_file(path)).values():
        fast = simulate(plan, trials=1000, engine="compiled")
        reference = simulate(plan, trials=1000, engine="numpy")
        for name in METRIC_NAMES:
            got, want = fast.metrics[name], reference.metrics[name]
            assert np.array_equal(np.isnan(got), np.isnan(want)), name
            assert np.allclose(got, want, rtol=1e-9, atol=0, equal_nan=True), name
            if np.isfinite(want).any():
                assert compare_paired(got, want).p_tie == 1.0, name
        for name in MONTHLY_NAMES:
            assert np.allclose(fast.monthly[name], reference.monthly[name], rtol=1e-9,
                               atol=1e-6, equal_nan=True), name


def test_random_flows_give_the_numpy_numbers_when_the_compiled_engine_is_ready(
        monkeypatch: pytest.MonkeyPatch) -> None:
    reference = simulate(RANDOM, trials=300, horizon=12, engine="numpy")
    _ready(monkeypatch, True)
    assert_identical(simulate(RANDOM, trials=300, horizon=12), reference)


def _warm_up_here(monkeypatch: pytest.MonkeyPatch, opened: Callable[..., bool]) -> None:
    """Make warmup.warm_up runnable in a test: a runtime, no pauses, `opened` opening pages."""
    monkeypatch.setattr(warmup.runtime, "exists", lambda: True)
    monkeypatch.setattr(warmup, "open_page", opened)
    monkeypatch.setattr(warmup, "PAUSE_S", 0.0)
    monkeypatch.setattr(warmup, "_kernel_started", False)
    monkeypatch.setattr(warmup, "_kernel_done", warmup.threading.Event())


def test_warm_up_logs_a_failure_and_never_raises(monkeypatch: pytest.MonkeyPatch,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    def broken() -> bool:
        raise RuntimeError("no compiler here")

    def refused(*args: object) -> bool:
        raise OSError("disk full")

    _warm_up_here(monkeypatch, refused)
    monkeypatch.setattr(warmup, "load_compiled", broken)
    warmup.warm_up(None)  # type: ignore[arg-type]  # no loop: open_page is replaced
    assert "the compiled engine did not load" in caplog.text
    assert "warm-up stopped" in caplog.text


def test_warm_up_opens_every_page_of_the_first_three_readable_library_scenarios(
        monkeypatch: pytest.MonkeyPatch, fresh_scenario_library: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    (fresh_scenario_library / "broken.yaml").write_text("budget: [unclosed\n")
    # A fourth readable scenario, last in the library's order: beyond WARM_SCENARIOS.
    (fresh_scenario_library / "zz_more.yaml").write_bytes(SHIPPED[0].read_bytes())
    opened: list[tuple[str, str]] = []

    def record(loop: object, link: str, query: str, timeout_s: float) -> bool:
        opened.append((link, query))
        return link != "guarantee"  # one page that does not finish in time

    _warm_up_here(monkeypatch, record)
    monkeypatch.setattr(warmup, "load_compiled", lambda: False)
    warmup.warm_up(None)  # type: ignore[arg-type]
    links = warmup.page_links()
    # Each page's default link, then each of its other sections (ui.navigation.SECTIONS).
    expected = []
    for path in SHIPPED:
        for link in links:
            expected.append((link, f"scenario={path.stem}"))
            key, labels = SECTIONS.get(link or "overview", ("", ()))  # "" is the Overview
            expected += [(link, f"scenario={path.stem}&{key}={quote_plus(label)}")
                         for label in labels[1:]]
    assert opened == expected
    assert ("guarantee", "scenario=baseline&guarantee_section=A%2FB+test+planner") in opened
    assert ("", "scenario=baseline&overview_section=Profit+across+futures") in opened
    # The timed-out page is reported, and the warm-up went on to the next page.
    assert ("warm-up: /guarantee?scenario=baseline did not finish within 240 s"
            in caplog.text)
    assert "warm-up stopped" not in caplog.text


def test_the_warm_up_opens_each_page_of_the_menu_once_the_overview_first() -> None:
    """page_links reads pages/; app.py's menu must list the same links (its default page's
    url_path, "home", is served at /, which is the link "")."""
    menu = re.findall(r'url_path="([^"]+)"', (REPO / "app.py").read_text(encoding="utf-8"))
    links = warmup.page_links()
    assert links[0] == ""
    assert len(links) == len(set(links))
    assert set(links) == {"" if path == "home" else path for path in menu} - {"overview"}


def test_the_map_uses_all_futures_only_with_the_compiled_engine(
        monkeypatch: pytest.MonkeyPatch) -> None:
    everything = ui_splits.MAP_TRIALS_ALL
    monkeypatch.setattr(ui_splits, "compiled_within", lambda timeout_s: False)
    _ready(monkeypatch, True)
    assert ui_splits.map_futures(EXPECTED, 5000, everything) == 5000
    assert ui_splits.map_futures(EXPECTED, 20_000, everything) == 10_000  # monthly series kept
    assert ui_splits.map_futures(EXPECTED, 5000, 1000) == 1000
    assert ui_splits.map_futures(RANDOM, 5000, everything) == 500
    _ready(monkeypatch, False)
    assert ui_splits.map_futures(EXPECTED, 5000, everything) == 500
    assert ui_splits.map_futures(EXPECTED, 300, everything) == 300
    assert ui_splits.map_futures(EXPECTED, 5000, 2000) == 2000  # asked for: the NumPy engine
    assert "first 500 of these futures (the compiled engine" in ui_splits.map_futures_words(
        500, 5000, everything)
    assert ui_splits.map_futures_words(300, 300, everything).endswith("use all of them.")


def test_the_server_starts_loading_the_engine_unless_the_numpy_engine_is_asked_for(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the warm-up (FUNNEL_LAB_WARM_UP=0) nothing else would load the kernel, and
    every page would run the NumPy engine for the life of the server."""
    loads: list[str] = []
    monkeypatch.setattr(warmup, "load_compiled", lambda: loads.append("load") or True)
    monkeypatch.setattr(warmup, "_kernel_started", False)
    monkeypatch.setattr(warmup, "_kernel_done", warmup.threading.Event())
    monkeypatch.setenv("FUNNEL_LAB_ENGINE", "numpy")
    assert warmup.start_engine() is False
    assert not warmup._kernel_done.wait(0.2) and loads == []
    monkeypatch.setenv("FUNNEL_LAB_WARM_UP", "0")
    monkeypatch.delenv("FUNNEL_LAB_ENGINE")
    assert warmup.start_engine() is True
    assert warmup._kernel_done.wait(10.0) and loads == ["load"]
    assert warmup.start_engine() is True and loads == ["load"]  # loaded once per process
