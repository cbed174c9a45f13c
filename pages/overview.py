"""Overview: the headline answer for the chosen scenario, each variant against the base plan."""

import numpy as np
import pandas as pd
import streamlit as st

from sim.engine import BASE_LABEL
from sim.metrics import compare_paired, summarize
from ui import format as fmt
from ui.answers import BEYOND_NAMED_SPINNER, overview_answer
from ui.chart_specs import show_chart
from ui.charts import interval_chart
from ui.layout import footer, page_header, sections, show_answer
from ui.runs import run_plans
from ui.state import current
from ui.words import base_plan_label

KEY_METRICS = ("profit", "net_revenue", "clv_new_customer")

context = current()
page_header(context, "Overview")
scenario = context.scenario
results = run_plans(scenario, None, context.seed, context.trials)
base_label = base_plan_label(scenario)
labels = {label: (base_label if label == BASE_LABEL else label) for label in results}
base = results[BASE_LABEL]

# The best named plan first; the pointers to the best split and share follow once found.
show_answer(context, overview_answer(context, pointers=False),
            more=lambda: overview_answer(context), more_words=BEYOND_NAMED_SPINNER)

shown = sections("overview")


def plan_row(label: str, metric: str) -> dict[str, str]:
    """One plan's row of the table: its range and, for a variant, its paired gain."""
    result = results[label]
    summary = summarize(result.metrics[metric])
    row = {"Plan": labels[label], "P10": fmt.metric_value(metric, summary.p10),
           "Median": fmt.metric_value(metric, summary.p50),
           "P90": fmt.metric_value(metric, summary.p90)}
    if label == BASE_LABEL:
        return {**row, "P(beats base)": "—", "Median gain vs base": "—",
                "90% range of the gain": "—"}
    comparison = compare_paired(result.metrics[metric], base.metrics[metric])
    half_width = (comparison.p_beats_high - comparison.p_beats_low) / 2
    return {
        **row,
        "P(beats base)": f"{fmt.share(comparison.p_beats)} (±{fmt.share(half_width, 1)})",
        "Median gain vs base": fmt.metric_value(metric, comparison.diff_p50, signed=True),
        "90% range of the gain": (
            f"{fmt.metric_value(metric, comparison.diff_p5, signed=True)} to "
            f"{fmt.metric_value(metric, comparison.diff_p95, signed=True)}"),
    }


def plans_compared() -> None:
    """Each plan against the base plan on the key metrics, one tab per metric."""
    st.subheader(f"Each plan against the base plan, {fmt.horizon_words(context.horizon)} totals")
    tabs = st.tabs([fmt.metric_heading(metric) for metric in KEY_METRICS])
    for tab, metric in zip(tabs, KEY_METRICS, strict=True):
        with tab:
            st.dataframe(pd.DataFrame([plan_row(label, metric) for label in results]),
                         hide_index=True, width="stretch")
    profit_se = summarize(base.metrics["profit"]).se
    st.caption(
        f"P10 / median / P90 over {context.trials:,} simulated futures. P(beats base) is the "
        "share of futures in which the plan does strictly better than the base plan on the same "
        "draws (paired), ± its 90% Monte Carlo interval; the gain is the plan minus the base "
        "plan in the same future. Monte Carlo error of the base plan's mean profit: "
        f"±{fmt.money(fmt.mc_margin(profit_se))} (90%).")


def profit_across_futures() -> None:
    """The spread of each plan's profit over the futures."""
    st.subheader(f"Profit over {context.horizon} months across futures")
    ranges = []
    for label, result in results.items():
        summary = summarize(result.metrics["profit"])
        ranges.append({"label": labels[label], "p5": summary.p5, "p10": summary.p10,
                       "p50": summary.p50, "p90": summary.p90, "p95": summary.p95})
    show_chart(interval_chart(pd.DataFrame(ranges),
                              f"{fmt.metric_heading('profit')} over {context.horizon} months "
                              "($)"), width="stretch")
    positive = float(np.mean(base.metrics["profit"] > 0))
    st.caption(f"Bar: the middle 80% of futures (P10 to P90); thin line: P5 to P95; dark tick: "
               f"median; dashed line: break-even. The base plan makes a profit in "
               f"{fmt.share(positive)} of futures.")


shown.draw(plans_compared, profit_across_futures)

footer(context)
