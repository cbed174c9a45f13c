"""The command line: validate, run and compare (mostly in-process through `main(argv)`)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from sim import cli, registry
from sim.cli import ProgressBar, machine_number, main
from sim.engine import BASE_LABEL, plan_scenarios, simulate, simulate_plans
from sim.metrics import compare_paired, monthly_bands, summarize
from sim.scenario import load_scenario_file, without_variants

REPO_ROOT = Path(__file__).resolve().parents[2]

METRICS_15 = [
    "net_revenue", "gross_revenue", "profit", "npv", "new_customers", "cac",
    "active_customers_end", "repeat_revenue_share", "leaky_bucket_ratio", "early_repeat_rate",
    "clv_new_customer", "customer_equity_end", "ltv_to_cac", "payback_month",
    "open_guarantee_liability",
]
SUMMARY_KEYS = ["mean", "se", "p5", "p10", "p50", "p90", "p95"]

SHOP_YAML = """\
schema: 1
name: CLI test shop
simulation: {horizon_months: 12, trials: 200, seed: 7}
budget: {monthly: 50000, split: {cold: 0.6, warm: 0.3, hot: 0.1}}
cold: {cost_per_thousand: {low: 6, high: 14}, engagement_rate: {low: 0.005, high: 0.02}}
hot: {churn: {monthly: {low: 0.07, high: 0.13}}}
orders: {first_value: {low: 45, high: 80}}
guarantee: {return_rate_at_reference: {low: 0.03, high: 0.07}}
variants:
  "Acquisition first 8:2:0": {budget: {split: {cold: 0.8, warm: 0.2, hot: 0.0}}}
  "Five-year guarantee": {guarantee: {days: 1825}}
"""

# Every input fixed: all trials are the same future, so summaries have closed forms.
FIXED_YAML = """\
name: Fixed shop
simulation: {horizon_months: 12, trials: 100, seed: 3}
budget: {monthly: 40000, growth_monthly: 0.0}
"""

BAD_YAML = """\
name: Bad shop
cold: {engagment_rate: 0.01}
guarantee: {days: 5000}
"""


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    path = tmp_path / "shop.yaml"
    path.write_text(SHOP_YAML, encoding="utf-8")
    return path


def run_cli(*argv: object) -> tuple[int, str, str]:
    """Run `main` in-process; return (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    code = main([str(a) for a in argv], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


# --------------------------------------------------------------------------------------------
# validate


def test_validate_ok(shop: Path) -> None:
    code, out, err = run_cli("validate", shop)
    assert (code, out, err) == (0, f"{shop}: ok\n", "")


def test_validate_reports_every_problem_with_file_and_dotted_path(shop: Path,
                                                                  tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD_YAML, encoding="utf-8")
    code, out, _ = run_cli("validate", shop, bad)
    lines = out.splitlines()
    assert code == 2
    assert lines[0] == f"{shop}: ok"
    assert lines[1] == (f"{bad}: cold.engagment_rate: unknown key; did you mean "
                        "'engagement_rate'? allowed here: cost_per_thousand, engagement_rate, "
                        "lead_decay_monthly")
    assert lines[2] == (f"{bad}: guarantee.days: must be a whole number of days from 1 to "
                        "3,650, got 5000")
    assert len(lines) == 3


def test_validate_missing_file_exits_2(tmp_path: Path) -> None:
    code, out, _ = run_cli("validate", tmp_path / "nope.yaml")
    assert code == 2
    assert out.startswith(f"{tmp_path / 'nope.yaml'}: (file): cannot read nope.yaml")


# --------------------------------------------------------------------------------------------
# run


def test_run_json_schema_and_metric_names(shop: Path) -> None:
    code, out, err = run_cli("run", shop, "--format", "json")
    assert (code, err) == (0, "")
    report = json.loads(out)
    assert list(report) == ["scenario", "variant", "seed", "trials", "horizon_months", "metrics",
                            "monthly"]
    assert report["scenario"] == "CLI test shop"
    assert report["variant"] is None
    assert (report["seed"], report["trials"], report["horizon_months"]) == (7, 200, 12)
    assert list(report["metrics"])[:15] == METRICS_15
    for summary in report["metrics"].values():
        assert list(summary) == SUMMARY_KEYS
    for name in ("net_revenue", "profit", "new_customers", "active_customers", "refunds"):
        bands = report["monthly"][name]
        assert list(bands) == ["p10", "p50", "p90"]
        assert all(len(bands[band]) == 12 for band in bands)
        assert all(lo <= mid <= hi for lo, mid, hi in zip(*bands.values(), strict=True))


def test_run_json_numbers_equal_the_python_api_to_the_last_bit(shop: Path) -> None:
    """`run --format json` carries every summary and monthly band exactly as sim.engine and
    sim.metrics compute them: same float, bit for bit, not six significant digits."""
    _, out, _ = run_cli("run", shop, "--format", "json")
    report = json.loads(out)
    scenario = load_scenario_file(shop)
    result = simulate(without_variants(scenario))
    compared = 0
    for name, got in report["metrics"].items():
        expected = summarize(result.metrics[name]).as_dict()
        for key, value in got.items():
            if expected[key] is None or expected[key] != expected[key]:
                assert value is None
                continue
            assert float(value).hex() == float(expected[key]).hex(), (name, key)
            compared += 1
    for name, bands in report["monthly"].items():
        expected_bands = monthly_bands(result.monthly[name])
        for band, values in bands.items():
            assert [v.hex() for v in map(float, values)] == [
                float(v).hex() for v in expected_bands[band]], (name, band)
    assert compared >= 17 * 7  # every metric's summary, not a few
    # At least one number needs more than six significant digits: rounding would show.
    assert any(len(repr(float(v)).replace(".", "").lstrip("0-")) > 7
               for summary in report["metrics"].values() for v in summary.values() if v)


def test_csv_numbers_are_exact_and_digits_rounds(shop: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run_cli("run", shop, "--format", "json")
    exact = json.loads(out)["metrics"]["profit"]
    _, text, _ = run_cli("run", shop, "--format", "csv")
    row = next(r for r in csv.DictReader(io.StringIO(text)) if r["metric"] == "profit")
    assert [float(row[key]) for key in SUMMARY_KEYS] == [exact[key] for key in SUMMARY_KEYS]
    _, text, _ = run_cli("run", shop, "--format", "csv", "--digits", "3")
    row = next(r for r in csv.DictReader(io.StringIO(text)) if r["metric"] == "profit")
    assert [float(row[key]) for key in SUMMARY_KEYS] == [
        float(f"{exact[key]:.3g}") for key in SUMMARY_KEYS]
    _, out, _ = run_cli("compare", shop, f"{shop}#Five-year guarantee", "--format", "json",
                        "--digits", "2")
    diff = json.loads(out)["plans"][1]["vs_baseline"]["profit"]["diff_p50"]
    assert diff == float(f"{diff:.2g}")
    capsys.readouterr()
    code, out, _ = run_cli("run", shop, "--digits", "18")
    assert (code, out) == (2, "")
    # argparse writes its usage line and message to the process's stderr.
    assert "--digits: must be a whole number from 1 to 17, got 18" in capsys.readouterr().err


def test_compare_has_no_p_beats_where_neither_direction_is_better(shop: Path) -> None:
    _, out, _ = run_cli("compare", shop, f"{shop}#Acquisition first 8:2:0", "--format", "json")
    versus = json.loads(out)["plans"][1]["vs_baseline"]
    assert registry.metric("marketing_spend").better == "neither"
    spend = versus["marketing_spend"]
    assert (spend["p_beats"], spend["p_beats_low"], spend["p_beats_high"]) == (None, None, None)
    assert spend["p_tie"] == 1.0  # the same budget: equal in every future
    assert versus["profit"]["p_beats"] is not None


def test_run_fixed_inputs_match_closed_forms(tmp_path: Path) -> None:
    path = tmp_path / "fixed.yaml"
    path.write_text(FIXED_YAML, encoding="utf-8")
    _, out, _ = run_cli("run", path, "--format", "json")
    metrics = json.loads(out)["metrics"]
    # Every trial is the same future: no spread, and spend is budget x months.
    assert metrics["marketing_spend"]["mean"] == 40_000 * 12
    profit = metrics["profit"]
    assert profit["se"] <= 1e-9 * abs(profit["mean"])  # zero up to summation rounding
    assert profit["p5"] == profit["p50"] == profit["p95"]
    # The mean of 100 equal floats can differ from them in the last bit (summation rounding).
    assert profit["mean"] == pytest.approx(profit["p50"], rel=1e-14)
    # A 30-day guarantee at its own reference length refunds everything within the horizon.
    assert metrics["open_guarantee_liability"]["p95"] == 0.0


def test_run_same_args_give_identical_bytes(shop: Path) -> None:
    args = ("run", shop, "--all-variants", "--format", "json", "--seed", "1")
    first, second = run_cli(*args), run_cli(*args)
    assert first[0] == 0
    assert first[1] == second[1]


def test_run_all_variants_lists_base_first_on_the_same_settings(shop: Path) -> None:
    _, out, _ = run_cli("run", shop, "--all-variants", "--format", "json", "--seed", "11",
                        "--trials", "150", "--horizon", "6")
    reports = json.loads(out)
    assert [r["variant"] for r in reports] == [None, "Acquisition first 8:2:0",
                                               "Five-year guarantee"]
    assert {(r["seed"], r["trials"], r["horizon_months"]) for r in reports} == {(11, 150, 6)}
    assert all(len(r["monthly"]["profit"]["p50"]) == 6 for r in reports)
    # No spend on existing buyers: the 8:2:0 plan has less repeat revenue than 6:3:1.
    base, acquisition = reports[0]["metrics"], reports[1]["metrics"]
    assert (acquisition["repeat_revenue_share"]["p50"] < base["repeat_revenue_share"]["p50"])
    # A five-year guarantee leaves refunds open at the horizon; the 30-day one does not.
    assert reports[0]["metrics"]["open_guarantee_liability"]["p95"] == 0.0
    assert reports[2]["metrics"]["open_guarantee_liability"]["p5"] > 0.0


def test_run_one_variant_matches_its_all_variants_entry(shop: Path) -> None:
    _, one, _ = run_cli("run", shop, "--variant", "Five-year guarantee", "--format", "json")
    _, every, _ = run_cli("run", shop, "--all-variants", "--format", "json")
    assert json.loads(one) == json.loads(every)[2]


def test_run_table_and_csv(shop: Path) -> None:
    _, table, _ = run_cli("run", shop)
    assert "CLI test shop" in table
    assert "600,000" in table  # marketing spend: 50,000 x 12 months
    label = registry.metric("repeat_revenue_share").label
    assert any(line.startswith(label) and line.endswith("%") for line in table.splitlines())
    _, text, _ = run_cli("run", shop, "--all-variants", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == ["scenario", "variant", "metric", *SUMMARY_KEYS]
    assert len(rows) == 3 * len({row["metric"] for row in rows})
    spend = [row for row in rows if row["metric"] == "marketing_spend"]
    assert [float(row["p50"]) for row in spend] == [600_000.0] * 3


@pytest.mark.parametrize(("option", "value", "message"), [
    ("--trials", "50", "error: --trials: must be a whole number from 100 to 200,000, got 50"),
    ("--trials", "2.5", "error: --trials: must be a whole number from 100 to 200,000, got 2.5"),
    ("--seed", "-1", "error: --seed: must be a whole number from 0 to 4,294,967,295, got -1"),
    ("--horizon", "121",
     "error: --horizon: must be a whole number of months from 1 to 120, got 121"),
])
def test_bad_settings_exit_2_with_one_line(shop: Path, option: str, value: str,
                                           message: str) -> None:
    code, out, err = run_cli("run", shop, option, value)
    assert (code, out, err) == (2, "", message + "\n")


def test_unknown_variant_exits_2_listing_variants(shop: Path) -> None:
    code, _, err = run_cli("run", shop, "--variant", "Nope")
    assert code == 2
    assert err == (f"error: {shop}: variants: no variant named 'Nope'; this scenario has: "
                   "Acquisition first 8:2:0, Five-year guarantee\n")
    code, _, err = run_cli("compare", shop, f"{shop}#Nope")
    assert code == 2
    assert "Acquisition first 8:2:0, Five-year guarantee" in err


def test_an_old_variant_name_runs_the_renamed_variant() -> None:
    """A command saved before the shipped variants were renamed (issue 13) runs the same plan,
    says so, and gives the numbers of the new name."""
    baseline = REPO_ROOT / "scenarios" / "baseline.yaml"
    settings = ("--trials", 200, "--format", "json")
    code, out, err = run_cli("compare", baseline, f"{baseline}#4:3:3 balanced", *settings)
    assert code == 0
    assert err.count("variant '4:3:3 balanced' is now called '40/30/30 balanced'") == 1
    _, again, _ = run_cli("compare", baseline, f"{baseline}#40/30/30 balanced", *settings)
    assert json.loads(out) == json.loads(again)
    code, out, err = run_cli("run", baseline, "--variant", "4:3:3 balanced", *settings)
    assert code == 0 and json.loads(out)["variant"] == "40/30/30 balanced"
    assert "is now called '40/30/30 balanced'" in err


def test_hostile_file_exits_2(tmp_path: Path) -> None:
    alias = tmp_path / "alias.yaml"
    alias.write_text("name: &shop Shop\ndescription: *shop\n", encoding="utf-8")
    code, out, err = run_cli("run", alias)
    assert (code, out) == (2, "")
    assert err == (f"error: {alias}: (file): line 1: anchors (&name) are not allowed; write "
                   "the value out\n")
    huge = tmp_path / "huge.yaml"
    huge.write_text("name: x\n" + "# padding\n" * 30_000, encoding="utf-8")
    code, _, err = run_cli("run", huge)
    assert code == 2
    assert "the limit is 256 KB" in err


def test_out_writes_atomically_and_prints_nothing(shop: Path, tmp_path: Path) -> None:
    target = tmp_path / "reports" / "run.json"
    target.parent.mkdir()
    code, out, err = run_cli("run", shop, "--format", "json", "--out", target)
    assert (code, out, err) == (0, "", "")
    assert target.read_text(encoding="utf-8") == run_cli("run", shop, "--format", "json")[1]
    assert [p.name for p in target.parent.iterdir()] == ["run.json"]  # no temp file left
    code, _, err = run_cli("run", shop, "--out", tmp_path / "missing" / "run.txt")
    assert code == 2
    assert err.startswith(f"error: {tmp_path / 'missing' / 'run.txt'}: cannot write")


def test_unexpected_failure_exits_1_with_one_line(shop: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(cli, "simulate_plans", broken)
    assert run_cli("run", shop) == (1, "", "error: unexpected RuntimeError: boom\n")


# --------------------------------------------------------------------------------------------
# compare


def test_compare_matches_compare_paired_on_simulate_plans(shop: Path) -> None:
    code, out, err = run_cli("compare", shop, f"{shop}#Five-year guarantee",
                             f"{shop}#Acquisition first 8:2:0", "--format", "json")
    assert (code, err) == (0, "")
    report = json.loads(out)
    assert list(report) == ["baseline", "seed", "trials", "horizon_months", "plans"]
    assert (report["baseline"], report["seed"], report["trials"]) == (BASE_LABEL, 7, 200)
    assert [p["label"] for p in report["plans"]] == [BASE_LABEL, "Five-year guarantee",
                                                     "Acquisition first 8:2:0"]
    assert report["plans"][0]["vs_baseline"] is None

    results = simulate_plans(plan_scenarios(load_scenario_file(shop)))
    base = results[BASE_LABEL].metrics
    for plan in report["plans"][1:]:
        mine = results[plan["label"]].metrics
        for metric, higher_is_better in (("profit", True), ("cac", False)):
            expected = compare_paired(mine[metric], base[metric], higher_is_better)
            got = plan["vs_baseline"][metric]
            assert list(got) == ["p_beats", "p_beats_low", "p_beats_high", "p_tie", "diff_mean",
                                 "diff_p5", "diff_p50", "diff_p95"]
            for key, value in got.items():
                assert value == getattr(expected, key)  # full precision: the same float
            wins = got["p_beats"] * 200  # a share of 200 futures: a whole number of wins
            assert wins == pytest.approx(round(wins), abs=1e-3)
            assert 0.0 <= got["p_beats_low"] <= got["p_beats"] <= got["p_beats_high"] <= 1.0


def test_compare_a_plan_with_itself_is_a_tie(shop: Path) -> None:
    _, out, _ = run_cli("compare", shop, shop, "--format", "json")
    plans = json.loads(out)["plans"]
    assert [p["label"] for p in plans] == [BASE_LABEL, f"{BASE_LABEL} (2)"]
    profit = plans[1]["vs_baseline"]["profit"]
    assert (profit["p_beats"], profit["p_tie"]) == (0.0, 1.0)
    assert profit["diff_p5"] == profit["diff_p95"] == 0.0


def test_compare_takes_settings_from_the_first_file(shop: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.yaml"
    other.write_text(SHOP_YAML.replace("trials: 200, seed: 7", "trials: 5000, seed: 99")
                     .replace("name: CLI test shop", "name: Other shop"), encoding="utf-8")
    _, out, _ = run_cli("compare", shop, other, "--format", "json")
    report = json.loads(out)
    assert (report["seed"], report["trials"]) == (7, 200)
    assert [p["label"] for p in report["plans"]] == [str(shop), str(other)]
    assert [p["scenario"] for p in report["plans"]] == ["CLI test shop", "Other shop"]
    # Same plan, same futures: the other file's base ties with ours everywhere.
    assert report["plans"][1]["vs_baseline"]["net_revenue"]["p_tie"] == 1.0
    _, out, _ = run_cli("compare", other, shop, "--format", "json", "--trials", "120",
                        "--seed", "5")
    report = json.loads(out)
    assert (report["seed"], report["trials"]) == (5, 120)


def test_compare_table_and_csv(shop: Path) -> None:
    code, table, _ = run_cli("compare", shop, f"{shop}#Five-year guarantee")
    assert code == 0
    assert "baseline: Base plan" in table
    assert "\nCAC (lower is better)\n" in table
    assert "\nProfit (higher is better; refunds still owed deducted)\n" in table
    assert any(line.startswith("Five-year guarantee") and "%" in line
               for line in table.splitlines())
    _, text, _ = run_cli("compare", shop, f"{shop}#Five-year guarantee", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0])[:4] == ["plan", "scenario", "variant", "metric"]
    assert "p_beats" in rows[0] and rows[0]["p_beats"] == ""  # the baseline has no P(beats)
    assert {row["plan"] for row in rows} == {BASE_LABEL, "Five-year guarantee"}


def test_compare_needs_two_plans(shop: Path) -> None:
    code, _, err = run_cli("compare", shop)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: compare needs at least two plans")


# --------------------------------------------------------------------------------------------
# helpers


def test_machine_number() -> None:
    assert machine_number(1234567.89) == 1234567.89
    assert machine_number(0.1 + 0.2) == 0.30000000000000004  # not rounded away
    assert machine_number(1234567.89, digits=6) == 1234570.0
    assert machine_number(2 / 3, digits=3) == 0.667
    assert machine_number(-0.0) == 0.0 and str(machine_number(-0.0)) == "0.0"
    assert machine_number(float("nan")) is None and machine_number(float("inf")) is None


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_draws_only_on_a_terminal_after_the_delay() -> None:
    terminal = _Terminal()
    bar = ProgressBar(terminal, delay=0.0)
    bar(0.5)
    bar.close()
    assert "[" + "#" * 15 + "." * 15 + "]  50%" in terminal.getvalue()
    assert terminal.getvalue().endswith("\r")
    quiet = _Terminal()
    bar = ProgressBar(quiet, delay=60.0)
    bar(0.5)
    bar.close()
    assert quiet.getvalue() == ""
    log = io.StringIO()
    bar = ProgressBar(log, delay=0.0)
    bar(0.5)
    bar.close()
    assert log.getvalue() == ""


# --------------------------------------------------------------------------------------------
# as a real process


def _python_m_sim(*argv: object) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "sim", *map(str, argv)], cwd=REPO_ROOT,
                          capture_output=True, timeout=120, check=False)


def test_process_output_is_byte_identical_and_stderr_clean(shop: Path) -> None:
    # Another process (its own hash seed, fresh imports) must give this process's bytes.
    args = ("run", shop, "--all-variants", "--format", "json", "--seed", "1")
    done = _python_m_sim(*args)
    assert done.returncode == 0
    assert done.stderr == b""  # not a terminal: no progress bar
    assert done.stdout == run_cli(*args)[1].encode("utf-8")


def test_process_bad_trials_is_one_line_without_traceback(shop: Path) -> None:
    done = _python_m_sim("run", shop, "--trials", "99")
    assert done.returncode == 2
    assert done.stdout == b""
    assert done.stderr.decode() == (
        "error: --trials: must be a whole number from 100 to 200,000, got 99\n")


def test_validate_a_file_with_a_nul_byte_exits_2_with_a_clear_message(tmp_path: Path) -> None:
    """Issue 14: a NUL byte used to escape as 'unexpected ReaderError' with exit code 1."""
    path = tmp_path / "nul.yaml"
    path.write_bytes(b"a: \x00\n")
    code, out, err = run_cli("validate", path)
    assert code == 2
    assert "nul.yaml: (file): line 1, column 4" in out and "NUL" in out
    assert "unexpected" not in out + err
