"""What a report says, without Streamlit: each page's answer, the assumptions and how to
reproduce them.

Pages (and the presenter deck) fill `PageAnswer`s with the sentence, figures and chart they
already show; `assumptions_from_scenario` lists every uncertain input in words and units;
`ReportMeta` names the scenario, seed, trials, date, app version and share link. The builders in
`ui.report.html`, `ui.report.pdf` and `ui.report.slides` turn the three into files.
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd

from sim.distributions import numeric_fields, quantile
from sim.scenario import Kind, Scenario, field_info
from sim.values import Beta, Interval90, Normal, Triangular, Uniform, Value, is_uncertain
from ui import charts
from ui import format as fmt

#: Width (px) report charts are drawn at, then scaled to the page: narrow enough that their
#: 14 px text stays legible on paper; HTML and PDF share it, so each chart is drawn once.
CHART_WIDTH = 760
#: Width (px) of an assumption's small picture in the appendix.
ASSUMPTION_WIDTH = 300
#: Key figures a page answer may carry (a slide has room for four).
MAX_FIGURES = 4
#: Shown when the code is not a git checkout (for example an unpacked archive).
UNKNOWN_VERSION = "unknown (not a git checkout)"
#: Media types of the three report files, for download buttons.
MIME_TYPES: dict[str, str] = {
    "html": "text/html",
    "pdf": "application/pdf",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
_REPO_ROOT = Path(__file__).resolve().parents[2]


class ReportError(ValueError):
    """A report could not be made; the message says which part and why (shown on the page)."""


def picture(chart: alt.TopLevelMixin, where: str, scale: float = 2.0, *,
            width: int | None = None, height: int | None = None,
            font_size: int | None = None) -> bytes:
    """Return the chart as PNG bytes (ui.charts.chart_png); a chart that cannot be drawn
    raises ReportError naming `where` it belongs ("the Guarantee chart")."""
    try:
        return charts.chart_png(chart, scale, width=width, height=height, font_size=font_size)
    except Exception as error:  # vl-convert and Altair raise assorted types for a bad spec
        raise ReportError(f"{where} could not be drawn as a picture: {error}") from error


@dataclass(frozen=True)
class Figure:
    """One key figure as the page shows it: label ("Median profit gain") and value text
    ("+$1.24M"), already formatted."""

    label: str
    value_text: str


@dataclass(frozen=True)
class PageAnswer:
    """What one page says: its decision sentence, the detail under it, up to four key figures,
    one chart (an Altair chart from ui.charts, or None) and an optional table (text cells as
    the page shows them; a non-default index is kept as the first column)."""

    page: str
    title: str
    decision: str
    detail: str = ""
    figures: Sequence[Figure] = ()
    chart: alt.TopLevelMixin | None = None
    chart_title: str = ""
    table: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        if len(self.figures) > MAX_FIGURES:
            raise ValueError(f"a page answer holds at most {MAX_FIGURES} key figures, "
                             f"got {len(self.figures)} for {self.page!r}")
        if not self.decision.strip():
            raise ValueError(f"the page answer for {self.page!r} has no decision sentence")


@dataclass(frozen=True)
class Assumption:
    """One uncertain input of the scenario in words.

    value_text: the range with units ("$6.00 to $14.00 (90% range)"); low and high: its 5th and
    95th percentiles in the field's own units (a rate as 0.05); chart_unit: how ui.charts
    formats it ("money", "share", "count" or "ratio"); chart: an assumption_chart of its draws,
    or None when it is listed without a picture.
    """

    path: str
    label: str
    value_text: str
    low: float
    high: float
    chart_unit: str
    chart: alt.TopLevelMixin | None = None


@lru_cache(maxsize=1)
def app_version() -> str:
    """Return the code version that made the numbers: `git describe --always --dirty` of the
    app's checkout (a commit id, "-dirty" when files were changed), since the app is run from
    source and a commit, unlike a version constant, names exactly the code that ran."""
    git = shutil.which("git")
    if git is None:
        return UNKNOWN_VERSION
    try:
        done = subprocess.run(  # noqa: S603 (fixed arguments, no user input)
            [git, "describe", "--always", "--dirty", "--tags"], cwd=_REPO_ROOT,
            capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return UNKNOWN_VERSION
    text = done.stdout.strip()
    return text if done.returncode == 0 and text else UNKNOWN_VERSION


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ReportMeta:
    """How to reproduce a report: scenario (name and library file stem, or "" when unsaved),
    seed, trials, horizon in months, when it was made, the app version and the share link."""

    scenario_name: str
    scenario_file: str
    seed: int
    trials: int
    horizon: int
    share_link: str
    created: datetime = field(default_factory=_now)
    app_version: str = field(default_factory=app_version)

    @property
    def created_text(self) -> str:
        """The creation time as '2026-11-30 14:05 UTC' (the zone's name when known)."""
        zone = self.created.tzname() or ""
        return f"{self.created:%Y-%m-%d %H:%M} {zone}".strip()

    @property
    def file_text(self) -> str:
        """The scenario file as the library names it ('baseline.yaml'), or 'not saved'."""
        return f"{self.scenario_file}.yaml" if self.scenario_file else "not saved"

    def reproduce_lines(self) -> list[tuple[str, str]]:
        """Return (label, text) rows that say how to get the same numbers again."""
        return [("Scenario", self.scenario_name), ("Scenario file", self.file_text),
                ("Seed", str(self.seed)), ("Trials (simulated futures)", f"{self.trials:,}"),
                ("Horizon", f"{self.horizon} months"), ("Made on", self.created_text),
                ("App version", self.app_version), ("Share link", self.share_link)]


def report_filename(meta: ReportMeta, extension: str) -> str:
    """Return a download name: 'funnel-lab-online-shop-6-3-1-2026-11-30.pdf'."""
    slug = re.sub(r"[^a-z0-9]+", "-", meta.scenario_name.lower()).strip("-") or "scenario"
    return f"funnel-lab-{slug[:60].rstrip('-')}-{meta.created:%Y-%m-%d}.{extension}"


# --------------------------------------------------------------------------------------------
# Assumptions in words.


def chart_unit_of(kind: str, unit: str) -> str:
    """Return how ui.charts formats a field's numbers: 'share', 'money', 'count' or
    'ratio' (from its kind name and unit)."""
    if kind in ("rate", "discount", "growth"):
        return "share"
    if unit.startswith("$"):
        return "money"
    return "count" if kind == "count" else "ratio"


def _percent(value: float) -> str:
    """A rate as a percentage with no more decimals than it needs (0.005 -> 0.5%, 0.07 -> 7%,
    0.0412 -> 4.12%)."""
    top = 3 if abs(value) < 0.01 else 2
    target = round(value * 100, top)
    digits = next(d for d in range(top + 1) if abs(round(value * 100, d) - target) < 1e-9)
    return fmt.share(value, digits)


def _number(value: float, chart_unit: str) -> str:
    if chart_unit == "share":
        return _percent(value)
    if chart_unit == "money":
        # Whole dollars as typed ($6, $130); cents only when the value has them ($6.50).
        whole = float(value).is_integer() or abs(value) >= 1e4
        return fmt.money(value) if whole else fmt.money2(value)
    if chart_unit == "count":
        return fmt.count(value)
    # Elasticities and shapes: three significant digits (0.169, 0.002), never rounded to 0.00.
    return f"{value:,.3g}"


def _unit_words(unit: str, chart_unit: str) -> str:
    """The unit said after a number: '$ per customer' -> 'per customer' (the $ is in the
    number), 'share of orders' -> 'of orders' when the number is a percentage."""
    words = unit[1:].strip() if unit.startswith("$") else unit
    if chart_unit == "share":
        words = re.sub(r"^share\b\s*", "", words)
    return f" {words}" if words else ""


def describe_assumption(value: Value, kind: Kind, unit: str) -> tuple[str, float, float]:
    """Return an uncertain value in words with units, and its 5th and 95th percentiles.

    '$4.00 to $25.00 per customer (90% range)'; other forms say their shape and then their 90%
    range: '0.00 to 0.04, every value equally likely (90% range 0.00 to 0.04)'.
    """
    low, high = (float(x) for x in quantile(value, kind, np.array([0.05, 0.95])))
    chart_unit = chart_unit_of(kind.name, unit)
    units = _unit_words(unit, chart_unit)

    def say(x: float) -> str:
        return _number(x, chart_unit)

    span = f"90% range {say(low)} to {say(high)}{units}"
    if isinstance(value, Interval90):
        text = f"{say(value.low)} to {say(value.high)}{units} (90% range)"
    elif isinstance(value, Uniform):
        text = (f"{say(value.min)} to {say(value.max)}{units}, every value equally likely "
                f"({span})")
    elif isinstance(value, Triangular):
        text = (f"{say(value.min)} to {say(value.max)}{units}, most likely {say(value.mode)} "
                f"({span})")
    elif isinstance(value, Normal):
        text = f"about {say(value.mean)} ± {say(value.sd)}{units} ({span})"
    elif isinstance(value, Beta):
        text = f"beta(a = {value.a:g}, b = {value.b:g}): {span}"
    else:
        raise TypeError(f"not an uncertain value: {value!r}")
    return text, low, high


def assumptions_from_scenario(scenario: Scenario,
                              draws: Mapping[str, np.ndarray] | None = None,
                              pictured: Sequence[str] | None = None) -> list[Assumption]:
    """Return every uncertain input of the scenario, in schema order, in words and units.

    draws: path -> the input's simulated values (e.g. a SimResult's `inputs`); when given, the
    inputs named in `pictured` (default: every input with draws) get an assumption_chart, for
    example the top of the Sensitivity tornado.
    """
    wanted = set(pictured) if pictured is not None else set(draws or {})
    assumptions: list[Assumption] = []
    for path, (value, kind) in numeric_fields(scenario).items():
        if not is_uncertain(value):
            continue
        info = field_info(path)
        text, low, high = describe_assumption(value, kind, info.unit)
        unit = chart_unit_of(kind.name, info.unit)
        chart = None
        if draws is not None and path in wanted and path in draws:
            unit_words = info.unit if info.unit and not info.unit.startswith("share") else ""
            label = f"{info.label} ({unit_words})" if unit_words else info.label
            chart = charts.assumption_chart(draws[path], low, high, label, unit)
        assumptions.append(Assumption(path, info.label, text, low, high, unit, chart))
    return assumptions


def table_cells(table: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    """Return a page's table as text: header and rows, a named or non-default index as the
    first column, missing values as blanks (the three report builders share this)."""
    if not isinstance(table.index, pd.RangeIndex) or table.index.name is not None:
        table = table.reset_index()
    header = [str(name) for name in table.columns]

    def cell(value: object) -> str:
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            return ""
        return str(value)

    rows = [[cell(value) for value in row] for row in table.itertuples(index=False)]
    return header, rows
