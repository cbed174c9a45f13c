"""A hand-made report for the report tests: two page answers with real Altair charts, the
baseline scenario's assumptions (two of them pictured) and fixed reproduction details.

The sentences and figures use the characters the app writes (− – × ’ $ %), so a test that
finds them in a PDF or slide proves the fonts carry them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from sim.distributions import sample_inputs
from sim.scenario import load_scenario_file
from ui import charts
from ui.report import (
    Assumption,
    Figure,
    PageAnswer,
    ReportMeta,
    assumptions_from_scenario,
)

SHARE_LINK = ("https://funnel-lab.example.com/guarantee?scenario=baseline&seed=20261122"
              "&trials=2000&guarantee.days=60")
BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.yaml"
PICTURED = ("hot.spend_scale", "cold.engagement_rate")
DRAWS = 2000


def sample_answers() -> list[PageAnswer]:
    """Two answers as the Overview and Guarantee pages would give them."""
    rng = np.random.default_rng(5)
    profit = {"Base plan": rng.normal(190_000, 250_000, 2000),
              "40/30/30 balanced": rng.normal(300_000, 260_000, 2000)}
    overview = PageAnswer(
        page="overview", title="Overview",
        decision=("40/30/30 balanced beats the base plan (60/30/10) on 3-year profit in 68% of "
                  "2,000 simulated futures (median gain +$105k)."),
        detail="Each line is the share of futures; the dashed line is break-even.",
        figures=[Figure("Median 3-year profit", "$192k"), Figure("Chance of a loss", "23%"),
                 Figure("Median gain", "+$105k"), Figure("Futures", "2,000")],
        chart=charts.distribution_chart(profit, "Profit over 3 years ($)", reference=0.0,
                                        reference_label="Break-even"),
        chart_title="3-year profit per plan")
    days = np.array([30.0, 60.0, 90.0, 180.0, 365.0])
    band = {"p10": np.array([-8e3, -2e3, 1e3, 3e3, -5e3]),
            "p50": np.array([0.0, 6e3, 9e3, 12e3, 4e3]),
            "p90": np.array([8e3, 15e3, 19e3, 22e3, 14e3])}
    guarantee = PageAnswer(
        page="guarantee", title="Guarantee",
        decision=("A 60-day guarantee pays on revenue in 71% of futures – break-even needs a "
                  "2.4% conversion lift × 1.2 (the shop’s own estimate)."),
        detail="Refunds still owed <peak> & fall after the guarantee ends.",
        figures=[Figure("Break-even conversion lift", "2.4%"),
                 Figure("Refunds still owed", "−$41k")],
        chart=charts.band_chart(days, {"Profit change": band}, "Guarantee length (days)",
                                "Change in profit ($)", reference=0.0),
        chart_title="Profit change by guarantee length",
        table=pd.DataFrame({"Length": ["30 days", "60 days"],
                            "Pays on revenue": ["—", "71%"],
                            "Refunds still owed": ["$12k", "−$41k"]}))
    return [overview, guarantee]


def sample_assumptions() -> list[Assumption]:
    """The baseline scenario's uncertain inputs, two with a picture of their draws."""
    scenario = load_scenario_file(BASELINE)
    draws = sample_inputs(scenario, DRAWS, scenario.simulation.seed)
    return assumptions_from_scenario(scenario, draws=draws, pictured=PICTURED)


def sample_meta() -> ReportMeta:
    """Reproduction details with a fixed date and version (the builders print them)."""
    return ReportMeta(scenario_name="Online shop, 6:3:1", scenario_file="baseline",
                      seed=20261122, trials=2000, horizon=36, share_link=SHARE_LINK,
                      created=datetime(2026, 11, 30, 9, 15, tzinfo=UTC),
                      app_version="v1.2-7-gabc1234")
