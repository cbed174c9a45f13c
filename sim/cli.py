"""Command-line interface: validate scenario files, run plans and compare them on shared futures.

    python -m sim validate FILE...
    python -m sim run FILE [--variant NAME | --all-variants] [--trials N] [--seed S]
                           [--horizon MONTHS] [--format table|json|csv] [--digits N]
                           [--out PATH]
    python -m sim compare FILE[#VARIANT] FILE[#VARIANT]... [--trials N] [--seed S]
                           [--horizon MONTHS] [--format table|json|csv] [--digits N]
                           [--out PATH]
    python -m sim calibrate transactions FILE [--until DATE] [--unit day|week|month]
                           [--margin SHARE] [--channel-spend CSV] [--customers-out PATH]
                           [--format table|json]
    python -m sim calibrate history FILE [--holdout MONTHS] [--scenario FILE]
                           [--format table|json]

Exit codes: 0 done, 2 bad input (one line per problem, never a traceback), 1 an unexpected
failure. Output is a pure function of the arguments and the files: keys keep a fixed order, so
the same command gives the same bytes. JSON and CSV carry every number at full precision (the
shortest text that reads back as the same float, Python's repr), unless `--digits N` asks for N
significant digits; tables round for reading. Labels, units and which direction is better come
from the metric registry (sim/registry.py); for a metric where neither direction is better
(marketing spend) the paired comparison has no P(beats) (null), only the differences.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from sim import registry
from sim.engine import BASE_LABEL, METRIC_NAMES, SimResult, simulate_plans
from sim.metrics import Comparison, Summary, compare_paired, monthly_bands, summarize
from sim.scenario import (
    Scenario,
    ScenarioError,
    apply_overrides,
    load_scenario_file,
    renamed_variant,
    variant_scenario,
    without_variants,
)

#: Monthly series reported by `run` as P10/P50/P90 bands (names of sim.registry.SERIES).
MONTHLY_REPORTED: tuple[str, ...] = (
    "net_revenue", "profit", "new_customers", "active_customers", "refunds", "open_liability",
)
#: Metrics shown in the compare table (JSON and CSV carry every metric).
COMPARE_TABLE_METRICS: tuple[str, ...] = (
    "net_revenue", "profit", "npv", "new_customers", "cac", "repeat_revenue_share",
    "clv_new_customer", "customer_equity_end", "ltv_to_cac", "open_guarantee_liability",
)
SUMMARY_KEYS: tuple[str, ...] = ("mean", "se", "p5", "p10", "p50", "p90", "p95")
VERSUS_KEYS: tuple[str, ...] = (
    "p_beats", "p_beats_low", "p_beats_high", "p_tie", "diff_mean", "diff_p5", "diff_p50",
    "diff_p95",
)
#: Comparison fields that need a direction (null where neither direction is better).
DIRECTED_KEYS = frozenset({"p_beats", "p_beats_low", "p_beats_high"})
#: Most significant digits `--digits` takes (17 always reads back as the same float).
MAX_DIGITS = 17
#: Runs shorter than this draw no progress bar.
PROGRESS_DELAY_SECONDS = 2.0


class UsageError(ValueError):
    """A command line that names something that does not exist (one line, exit 2)."""


# --------------------------------------------------------------------------------------------
# Numbers: full precision (or N significant digits) for machine formats, readable text for
# tables.


def machine_number(x: float | None, digits: int | None = None) -> float | None:
    """Return x for JSON and CSV: the same float (None for NaN/inf, -0.0 as 0.0), or rounded to
    `digits` significant digits when given."""
    if x is None:
        return None
    x = float(x)
    if not math.isfinite(x):
        return None
    if digits is not None:
        x = float(f"{x:.{digits}g}")
    return x + 0.0  # + 0.0 turns -0.0 into 0.0 and changes no other float


def _csv_number(x: float | None) -> str:
    """Return a number already passed through machine_number as CSV text (repr: exact)."""
    return "" if x is None else repr(x)


def format_value(x: float | None, unit: str) -> str:
    """Return a number for a table in a registry unit: money and counts with thousands
    separators, shares as %."""
    if x is None or not math.isfinite(x):
        return "n/a"
    if unit in ("money", "money_per_customer"):
        return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:,.2f}"
    if unit == "count":
        return f"{x:,.0f}"
    if unit == "share":
        return f"{100 * x:.1f}%"
    if unit == "months":
        return f"{x:.1f}"
    return f"{x:,.2f}"


def format_difference(x: float | None, unit: str) -> str:
    """Return a signed difference for a table; rate differences in percentage points."""
    if x is None or not math.isfinite(x):
        return "n/a"
    text = f"{100 * x:.1f} pts" if unit == "share" else format_value(x, unit)
    return text if text.startswith("-") else "+" + text


# --------------------------------------------------------------------------------------------
# Progress bar (stderr, only on a terminal, only for runs longer than a couple of seconds).


class ProgressBar:
    """Callable for the engine's `progress`; draws on `stream` once `delay` seconds passed."""

    def __init__(self, stream: TextIO, delay: float = PROGRESS_DELAY_SECONDS, width: int = 30):
        self.stream = stream
        self.delay = delay
        self.width = width
        self.enabled = bool(getattr(stream, "isatty", lambda: False)())
        self.started = time.monotonic()
        self.last_drawn = 0.0
        self.drawn = False

    def __call__(self, fraction: float) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.started < self.delay or now - self.last_drawn < 0.1:
            return
        self.last_drawn = now
        filled = round(self.width * min(max(fraction, 0.0), 1.0))
        bar = "#" * filled + "." * (self.width - filled)
        self.stream.write(f"\r[{bar}] {100 * fraction:3.0f}%")
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        """Erase the bar if one was drawn."""
        if self.drawn:
            self.stream.write("\r" + " " * (self.width + 8) + "\r")
            self.stream.flush()


# --------------------------------------------------------------------------------------------
# Plans.


@dataclass(frozen=True)
class Plan:
    """One plan to simulate: its label, the runnable scenario, its file's name and variant."""

    label: str
    scenario: Scenario
    scenario_name: str
    variant: str | None


def _settings_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """Return the dotted overrides for --trials/--seed/--horizon, as typed (checked by schema)."""
    overrides: dict[str, Any] = {}
    for option, path in (("trials", "simulation.trials"), ("seed", "simulation.seed"),
                         ("horizon", "simulation.horizon_months")):
        raw = getattr(args, option)
        if raw is not None:
            overrides[path] = _parse_number(raw)
    return overrides


def _digits(text: str) -> int:
    """Read --digits: a whole number from 1 to MAX_DIGITS (argparse reports anything else)."""
    try:
        digits = int(text)
    except ValueError:
        digits = 0
    if not 1 <= digits <= MAX_DIGITS:
        raise argparse.ArgumentTypeError(
            f"must be a whole number from 1 to {MAX_DIGITS}, got {text}")
    return digits


def _parse_number(text: str) -> int | float | str:
    """Read an option's text as a number where it is one; the schema says what is wrong."""
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            continue
    return text


def _with_settings(scenario: Scenario, args: argparse.Namespace) -> Scenario:
    """Apply --trials/--seed/--horizon to a scenario, reporting problems as the options."""
    overrides = _settings_overrides(args)
    if not overrides:
        return scenario
    try:
        return apply_overrides(scenario, overrides)
    except ScenarioError as error:
        options = {"simulation.trials": "--trials", "simulation.seed": "--seed",
                   "simulation.horizon_months": "--horizon"}
        problems = []
        for problem in error.problems:
            path, _, message = problem.partition(": ")
            problems.append(f"{options[path]}: {message}" if path in options else problem)
        raise ScenarioError(problems) from None


def _run_plans(plans: Sequence[Plan], settings: Scenario,
               stderr: TextIO) -> dict[str, SimResult]:
    """Simulate the plans on the same futures, with the trials, seed and horizon of `settings`."""
    bar = ProgressBar(stderr)
    try:
        return simulate_plans(
            {plan.label: plan.scenario for plan in plans},
            trials=settings.simulation.trials, seed=settings.simulation.seed,
            horizon=settings.simulation.horizon_months, progress=bar)
    finally:
        bar.close()


# --------------------------------------------------------------------------------------------
# Reports as plain data (the JSON form; CSV and tables are drawn from it).


def _summary_dict(summary: Summary, digits: int | None) -> dict[str, float | None]:
    plain = summary.as_dict()
    return {key: machine_number(plain[key], digits) for key in SUMMARY_KEYS}


def _versus_dict(comparison: Comparison, directed: bool,
                 digits: int | None) -> dict[str, float | None]:
    plain = comparison.as_dict()
    return {key: machine_number(plain[key], digits)
            if directed or key not in DIRECTED_KEYS else None for key in VERSUS_KEYS}


def _metric_names(result: SimResult) -> list[str]:
    return [name for name in METRIC_NAMES if name in result.metrics]


def run_report(plan: Plan, result: SimResult, digits: int | None = None) -> dict[str, Any]:
    """Return one plan's run as plain data: settings, metric summaries and monthly bands, at
    full precision unless `digits` (significant digits) is given."""
    monthly = {}
    for name in MONTHLY_REPORTED:
        bands = monthly_bands(result.monthly[name])
        monthly[name] = {band: [machine_number(v, digits) for v in values.tolist()]
                         for band, values in bands.items()}
    return {
        "scenario": plan.scenario_name,
        "variant": plan.variant,
        "seed": result.seed,
        "trials": result.trials,
        "horizon_months": result.horizon,
        "metrics": {name: _summary_dict(summarize(result.metrics[name]), digits)
                    for name in _metric_names(result)},
        "monthly": monthly,
    }


def compare_report(plans: Sequence[Plan], results: Mapping[str, SimResult],
                   digits: int | None = None) -> dict[str, Any]:
    """Return the paired comparison of every plan against the first one, as plain data, at
    full precision unless `digits` (significant digits) is given."""
    baseline = plans[0]
    base_result = results[baseline.label]
    report_plans = []
    for plan in plans:
        result = results[plan.label]
        names = _metric_names(result)
        versus = None
        if plan is not baseline:
            versus = {}
            for name in names:
                info = registry.metric(name)
                comparison = compare_paired(result.metrics[name], base_result.metrics[name],
                                            higher_is_better=info.higher_is_better)
                versus[name] = _versus_dict(comparison, info.better != "neither", digits)
        report_plans.append({
            "label": plan.label,
            "scenario": plan.scenario_name,
            "variant": plan.variant,
            "metrics": {name: _summary_dict(summarize(result.metrics[name]), digits)
                        for name in names},
            "vs_baseline": versus,
        })
    return {
        "baseline": baseline.label,
        "seed": base_result.seed,
        "trials": base_result.trials,
        "horizon_months": base_result.horizon,
        "plans": report_plans,
    }


# --------------------------------------------------------------------------------------------
# Rendering.


def to_json(data: Any) -> str:
    """Return data as JSON text with a fixed key order and a final newline."""
    return json.dumps(data, sort_keys=False, allow_nan=False, ensure_ascii=False, indent=2) + "\n"


def _csv_text(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def run_csv(reports: Sequence[Mapping[str, Any]]) -> str:
    """Return one CSV row per plan and metric with the summary columns."""
    rows = []
    for report in reports:
        for name, summary in report["metrics"].items():
            rows.append([report["scenario"], report["variant"] or "", name,
                         *(_csv_number(summary[key]) for key in SUMMARY_KEYS)])
    return _csv_text(["scenario", "variant", "metric", *SUMMARY_KEYS], rows)


def compare_csv(report: Mapping[str, Any]) -> str:
    """Return one CSV row per plan and metric: summaries, then the paired columns."""
    rows = []
    for plan in report["plans"]:
        for name, summary in plan["metrics"].items():
            versus = (plan["vs_baseline"] or {}).get(name, {})
            rows.append([plan["label"], plan["scenario"], plan["variant"] or "", name,
                         *(_csv_number(summary[key]) for key in SUMMARY_KEYS),
                         *(_csv_number(versus.get(key)) for key in VERSUS_KEYS)])
    return _csv_text(["plan", "scenario", "variant", "metric", *SUMMARY_KEYS, *VERSUS_KEYS],
                     rows)


def _aligned(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Return text lines: first column left-aligned, the others right-aligned."""
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    lines = []
    for row in (header, *rows):
        cells = [row[0].ljust(widths[0])] + [cell.rjust(w) for cell, w in zip(row[1:],
                                                                            widths[1:],
                                                                            strict=True)]
        lines.append("  ".join(cells).rstrip())
    return lines


def _mean_se(summary: Mapping[str, float | None], unit: str) -> str:
    return f"{format_value(summary['mean'], unit)} ± {format_value(summary['se'], unit)}"


def run_table(reports: Sequence[Mapping[str, Any]]) -> str:
    """Return the runs as readable text tables, one per plan."""
    blocks = []
    for report in reports:
        title = report["scenario"] + (f" — {report['variant']}" if report["variant"] else "")
        rows = []
        for name, summary in report["metrics"].items():
            label, unit = registry.metric(name).label, registry.metric(name).unit
            rows.append([label, *(format_value(summary[key], unit)
                                  for key in ("p10", "p50", "p90")), _mean_se(summary, unit)])
        lines = [title,
                 f"{report['trials']:,} futures, {report['horizon_months']} months, "
                 f"seed {report['seed']}", ""]
        lines += _aligned(["Metric", "P10", "P50", "P90", "Mean ± se"], rows)
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def _heading_note(info: registry.MetricInfo) -> str:
    """Return what a compare-table heading says besides the name: the direction, and how
    refunds still owed after the horizon enter a money total (docs/model.md#metrics)."""
    better = {"higher": "higher is better", "lower": "lower is better",
              "neither": "neither direction is better"}[info.better]
    if info.unit == "money" and info.owed_refunds_counted is False:
        return f"{better}; refunds still owed after the horizon not deducted"
    if info.unit == "money" and info.owed_refunds_counted and info.is_total:
        return f"{better}; {registry.OWED_DEDUCTED}"
    return better


def compare_table(report: Mapping[str, Any]) -> str:
    """Return the comparison as readable text: per key metric, one row per plan."""
    lines = [f"{len(report['plans'])} plans on the same {report['trials']:,} futures, "
             f"{report['horizon_months']} months, seed {report['seed']}; "
             f"baseline: {report['baseline']}",
             "P(beats): share of futures where the plan does better than the baseline "
             "[90% interval]; difference: plan - baseline, median [P5, P95]."]
    for name in COMPARE_TABLE_METRICS:
        if name not in report["plans"][0]["metrics"]:
            continue
        info = registry.metric(name)
        unit = info.unit
        rows = []
        for plan in report["plans"]:
            summary = plan["metrics"][name]
            versus = (plan["vs_baseline"] or {}).get(name)
            if versus is None:
                beats, diff = "baseline", ""
            else:
                beats = (f"{format_value(versus['p_beats'], 'share')} "
                         f"[{format_value(versus['p_beats_low'], 'share')}, "
                         f"{format_value(versus['p_beats_high'], 'share')}]")
                diff = (f"{format_difference(versus['diff_p50'], unit)} "
                        f"[{format_difference(versus['diff_p5'], unit)}, "
                        f"{format_difference(versus['diff_p95'], unit)}]")
            rows.append([plan["label"], *(format_value(summary[key], unit)
                                          for key in ("p10", "p50", "p90")),
                         _mean_se(summary, unit), beats, diff])
        lines += ["", f"{info.title} ({_heading_note(info)})"]
        lines += _aligned(["Plan", "P10", "P50", "P90", "Mean ± se", "P(beats)", "Difference"],
                          rows)
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# Output.


def write_atomically(path: str, text: str) -> None:
    """Write text to path through a temporary file in the same folder and os.replace."""
    target = Path(path)
    try:
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, removed on failure
            "w", encoding="utf-8", newline="", dir=target.parent, prefix=f".{target.name}.",
            suffix=".tmp", delete=False)
    except OSError as error:
        # Name the file that was asked for, not the temporary one.
        raise OSError(error.errno, f"cannot write: {error.strerror}", str(target)) from None
    try:
        with handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, target)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise


def _emit(text: str, out: str | None, stdout: TextIO) -> None:
    if out is None:
        stdout.write(text)
        stdout.flush()
    else:
        write_atomically(out, text)


# --------------------------------------------------------------------------------------------
# Commands.


def _load(path: str) -> Scenario:
    """Load one file; its problems are reported as "FILE: dotted.path: message"."""
    try:
        return load_scenario_file(path)
    except ScenarioError as error:
        raise ScenarioError([f"{path}: {problem}" for problem in error.problems]) from None


def _variant(scenario: Scenario, path: str, name: str) -> Scenario:
    """Return a named variant; an unknown name is reported with the file and its variants."""
    try:
        return variant_scenario(scenario, name)
    except ScenarioError as error:
        raise ScenarioError([f"{path}: {problem}" for problem in error.problems]) from None


def _current_name(scenario: Scenario, path: str, name: str, stderr: TextIO) -> str:
    """Return a variant's name as the file has it now: the old name of a renamed shipped variant
    ("4:3:3 balanced", sim/scenario/renamed.py) is followed to its new one, with a note."""
    new = renamed_variant(name, scenario.variant_names())
    if new is None:
        return name
    stderr.write(f"{path}: variant {name!r} is now called {new!r}; running it\n")
    return new


def cmd_validate(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """Check every file; print "FILE: ok" or one line per problem. Return 0 or 2."""
    status = 0
    for path in args.files:
        try:
            load_scenario_file(path)
        except ScenarioError as error:
            status = 2
            for problem in error.problems:
                stdout.write(f"{path}: {problem}\n")
        else:
            stdout.write(f"{path}: ok\n")
    return status


def cmd_run(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """Run the base plan, one variant or all of them; write the report. Return 0."""
    scenario = _with_settings(_load(args.file), args)
    if args.variant is not None:
        name = _current_name(scenario, args.file, args.variant, stderr)
        plans = [Plan(name, _variant(scenario, args.file, name), scenario.name, name)]
    else:
        names = scenario.variant_names() if args.all_variants else []
        plans = [Plan(BASE_LABEL, without_variants(scenario), scenario.name, None)]
        plans += [Plan(name, variant_scenario(scenario, name), scenario.name, name)
                  for name in names]
    results = _run_plans(plans, scenario, stderr)
    reports = [run_report(plan, results[plan.label], args.digits) for plan in plans]
    if args.format == "json":
        text = to_json(reports if args.all_variants else reports[0])
    elif args.format == "csv":
        text = run_csv(reports)
    else:
        text = run_table(reports)
    _emit(text, args.out, stdout)
    return 0


def _split_plan_argument(argument: str) -> tuple[str, str | None]:
    """Split FILE#VARIANT; a path that exists as typed is a file even if it holds '#'."""
    if "#" not in argument or Path(argument).exists():
        return argument, None
    path, _, variant = argument.rpartition("#")
    return path, variant


def cmd_compare(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """Compare plans on the same futures against the first one; write the report. Return 0."""
    if len(args.plans) < 2:
        raise UsageError("compare needs at least two plans (FILE or FILE#VARIANT); the first "
                         "is the baseline")
    loaded: dict[str, Scenario] = {}
    plans: list[Plan] = []
    labels: set[str] = set()
    split = [_split_plan_argument(argument) for argument in args.plans]
    # Plans of one file read best by their own names; across files the argument says which.
    one_file = len({path for path, _ in split}) == 1
    for argument, (path, variant) in zip(args.plans, split, strict=True):
        if path not in loaded:
            loaded[path] = _load(path)
        scenario = loaded[path]
        if variant is not None:
            variant = _current_name(scenario, path, variant, stderr)
        runnable = (without_variants(scenario) if variant is None
                    else _variant(scenario, path, variant))
        name = (variant or BASE_LABEL) if one_file else argument
        label, copy = name, 2
        while label in labels:  # the same plan given twice still needs its own label
            label = f"{name} ({copy})"
            copy += 1
        labels.add(label)
        plans.append(Plan(label, runnable, scenario.name, variant))
    settings = _with_settings(loaded[split[0][0]], args)
    results = _run_plans(plans, settings, stderr)
    report = compare_report(plans, results, args.digits)
    if args.format == "json":
        text = to_json(report)
    elif args.format == "csv":
        text = compare_csv(report)
    else:
        text = compare_table(report)
    _emit(text, args.out, stdout)
    return 0


# --------------------------------------------------------------------------------------------
# Entry point.


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of `python -m sim`."""
    parser = argparse.ArgumentParser(
        prog="python -m sim",
        description="Funnel Lab: validate scenario files, run plans and compare them on the "
                    "same simulated futures.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    validate = commands.add_parser("validate", help="check scenario files",
                                   description="Check scenario files; exit 2 on any problem.")
    validate.add_argument("files", nargs="+", metavar="FILE")
    validate.set_defaults(handler=cmd_validate)

    def add_settings(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--trials", metavar="N", help="simulated futures (100 to 200,000)")
        sub.add_argument("--seed", metavar="S", help="random seed (0 to 4,294,967,295)")
        sub.add_argument("--horizon", metavar="MONTHS", help="months to simulate (1 to 120)")
        sub.add_argument("--format", choices=("table", "json", "csv"), default="table")
        sub.add_argument("--digits", metavar="N", type=_digits, default=None,
                         help="round JSON and CSV numbers to N significant digits (1 to "
                              f"{MAX_DIGITS}); default: full precision")
        sub.add_argument("--out", metavar="PATH",
                         help="write the report to PATH (atomically) instead of stdout")

    run = commands.add_parser("run", help="run one scenario's plans",
                              description="Run the base plan (default), one variant or all.")
    run.add_argument("file", metavar="FILE")
    which = run.add_mutually_exclusive_group()
    which.add_argument("--variant", metavar="NAME", help="run this variant instead of the base")
    which.add_argument("--all-variants", action="store_true",
                       help="run the base plan and every variant on the same futures")
    add_settings(run)
    run.set_defaults(handler=cmd_run)

    compare = commands.add_parser(
        "compare", help="compare plans on the same futures",
        description="Compare plans paired on the same futures; the first is the baseline. "
                    "Seed, trials and horizon come from the first file unless given.")
    compare.add_argument("plans", nargs="+", metavar="FILE[#VARIANT]")
    add_settings(compare)
    compare.set_defaults(handler=cmd_compare)
    # Imported here: sim/calibrate/cli.py builds on this module's helpers.
    from sim.calibrate.cli import add_calibrate

    add_calibrate(commands)
    return parser


def _discard_stdout(stdout: TextIO) -> None:
    """Point a closed standard output at /dev/null so the exit-time flush stays quiet."""
    if stdout is sys.stdout:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def main(argv: Sequence[str] | None = None, stdout: TextIO | None = None,
         stderr: TextIO | None = None) -> int:
    """Run the command line and return the exit code (0 ok, 2 bad input, 1 unexpected)."""
    stdout = sys.stdout if stdout is None else stdout
    stderr = sys.stderr if stderr is None else stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse has printed its usage line and message
        return exit_.code if isinstance(exit_.code, int) else 2
    handler: Callable[[argparse.Namespace, TextIO, TextIO], int] = args.handler
    try:
        return handler(args, stdout, stderr)
    except ScenarioError as error:
        for problem in error.problems:
            stderr.write(f"error: {problem}\n")
        return 2
    except BrokenPipeError:
        # The reader stopped early (`| head`): nothing to report, and nothing more to write.
        _discard_stdout(stdout)
        return 1
    except OSError as error:
        where = f"{error.filename}: " if error.filename else ""
        stderr.write(f"error: {where}{error.strerror or error}\n")
        return 2
    except ValueError as error:
        stderr.write(f"error: {error}\n")
        return 2
    except KeyboardInterrupt:
        stderr.write("error: interrupted\n")
        return 130
    except Exception as error:  # one line instead of a traceback
        stderr.write(f"error: unexpected {type(error).__name__}: {error}\n")
        return 1


