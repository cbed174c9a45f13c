"""Overview: the headline answer for the chosen scenario, each variant against the base plan."""

import numpy as np
import pandas as pd
import streamlit as st

from sim.engine import BASE_LABEL
from sim.metrics import compare_paired, summarize
from ui import format as fmt
from ui.charts import distribution_chart
from ui.layout import answer, footer, page_header
from ui.runs import run_plans
from ui.state import current
from ui.words import base_plan_label, overview_sentence

KEY_METRICS = ("profit", "net_revenue", "clv_new_customer")

context = current()
page_header(context, "Overview")
scenario = context.scenario
results = run_plans(scenario, None, context.seed, context.trials)
base_label = base_plan_label(scenario)
labels = {label: (base_label if label == BASE_LABEL else label) for label in results}
base = results[BASE_LABEL]

answer(overview_sentence(results, base_label, context.trials, context.horizon))

rows = []
for label, result in results.items():
    row: dict[str, object] = {"Plan": labels[label]}
    for metric in KEY_METRICS:
        summary = summarize(result.metrics[metric])
        name = fmt.metric_label(metric)
        row[f"{name} P10"] = fmt.metric_value(metric, summary.p10)
        row[f"{name} median"] = fmt.metric_value(metric, summary.p50)
        row[f"{name} P90"] = fmt.metric_value(metric, summary.p90)
        if label == BASE_LABEL:
            row[f"{name}: P(beats base)"] = "—"
        else:
            comparison = compare_paired(result.metrics[metric], base.metrics[metric])
            row[f"{name}: P(beats base)"] = (
                f"{fmt.share(comparison.p_beats)} "
                f"({fmt.share(comparison.p_beats_low)}–{fmt.share(comparison.p_beats_high)})")
    rows.append(row)

st.subheader(f"Each plan against the base plan, {fmt.horizon_words(context.horizon)} totals")
st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
profit_se = summarize(base.metrics["profit"]).se
st.caption(
    f"P10 / median / P90 over {context.trials:,} simulated futures; P(beats base) is the share "
    "of futures in which the plan does strictly better than the base plan on the same draws "
    "(paired), with its 90% interval in brackets. Monte Carlo error of the base plan's mean "
    f"profit: ±{fmt.money(1.645 * profit_se)} (90%).")

st.subheader(f"Profit over {context.horizon} months: distribution across futures")
samples = {labels[label]: result.metrics["profit"] for label, result in results.items()}
st.altair_chart(distribution_chart(samples, f"Profit over {context.horizon} months ($)",
                                   reference=0.0, reference_label="break-even"),
                width="stretch")
positive = float(np.mean(base.metrics["profit"] > 0))
st.caption(f"The base plan makes a profit in {fmt.share(positive)} of futures. Curves further "
           "right earn more; wider curves are less certain.")

footer(context)
