"""Compare scenarios: which plan is better, by how much, and how sure are we?"""

import streamlit as st

from ui import compare
from ui import format as fmt
from ui.answers import compare_answer
from ui.chart_specs import show_chart, sized
from ui.charts import fan_chart, interval_chart
from ui.layout import answer, controls, footer, page_header, sections, show_answer
from ui.runs import run_scenario
from ui.state import current

context = current()
page_header(context, "Compare scenarios")
entries, unreadable = compare.library_plans(context)
by_label = {entry.label: entry for entry in entries}
answer_slot = st.container()

with controls():
    chosen = st.multiselect(
        "Plans to compare (the first is the baseline the others are measured against)",
        list(by_label), default=compare.default_plans(entries, context),
        max_selections=compare.MAX_PLANS, key="compare_plans", bind="query-params",
        help="Any file's base plan or variant, 2 to 6. All run on the same seed and trials.")
    metric_col, fan_col = st.columns(2)
    metric = metric_col.selectbox(
        "Judge by", compare.COMPARE_METRICS, format_func=fmt.metric_label,
        index=compare.COMPARE_METRICS.index("profit"), key="compare_metric",
        bind="query-params")
    fan = fan_col.selectbox(
        "Over the months", list(compare.FAN_SERIES),
        format_func=lambda key: compare.FAN_SERIES[key][2], key="compare_fan",
        bind="query-params")
if unreadable:
    st.caption(f"Left out because they do not load: {', '.join(unreadable)} (open them on the "
               "Scenario page to see why).")

chosen_entries = [by_label[label] for label in chosen if label in by_label]
names = compare.short_labels(chosen_entries, context) if chosen_entries else {}
plans = {names[entry.label]: compare.plan_scenario(entry, context) for entry in chosen_entries}
if len(plans) < 2:
    with answer_slot:
        answer("Choose at least two plans to compare (up to six).")
    footer(context, page_path="compare")
    st.stop()

horizon = next(iter(plans.values())).simulation.horizon_months
progress = st.progress(0.0, text="Simulating the plans on the same futures…")
results = {}
for index, (label, scenario) in enumerate(plans.items()):
    results[label] = run_scenario(scenario, context.seed, context.trials, horizon)
    progress.progress((index + 1) / len(plans),
                      text=f"Simulated {index + 1} of {len(plans)} plans")
progress.empty()
first_label = next(iter(results))

with answer_slot:
    show_answer(context, compare_answer(context, chosen=chosen, metric=metric))

horizons = {label: s.simulation.horizon_months for label, s in plans.items()}
if len(set(horizons.values())) > 1:
    st.caption(f"The files have different horizons; every plan is run over {horizon} months, "
               f"the horizon of {first_label}.")

shown = sections("compare")


def difference() -> None:
    """Each plan minus the first, future by future, on the metric judged by."""
    st.subheader(f"Difference from {first_label}: {compare.metric_words(metric, horizon)}")
    differences = compare.difference_rows(results, metric)
    difference_chart = interval_chart(differences, f"{fmt.metric_heading(metric)}: plan minus "
                                      f"{first_label} ($)", unit="money")
    # Room for the axis below the rows, so bars never touch however few plans there are.
    show_chart(sized(difference_chart, 80 + 50 * len(differences)), width="stretch")
    st.caption("Each bar is one plan minus the first plan in the same simulated future "
               "(paired). Bar: the middle 80% of futures; thin line: the 90% interval (P5 to "
               "P95); dark tick: median; dashed line: no difference."
               + (" For CAC, a negative difference is better." if metric == "cac" else ""))


def over_the_months() -> None:
    """The series picked under "Over the months", month by month, for every plan."""
    _, _, fan_title, fan_unit = compare.FAN_SERIES[fan]
    st.subheader(f"{fan_title.split(' (')[0]} over {horizon} months")
    show_chart(fan_chart(compare.fan_bands(results, fan), fan_title, unit=fan_unit),
               width="stretch")


def key_numbers() -> None:
    """Every key number of every plan, with its download."""
    st.subheader("All key numbers")
    table = compare.comparison_table(results)
    st.dataframe(compare.display_table(table), hide_index=True, width="stretch",
                 height=36 * (len(table) + 1) + 4,
                 column_config={"Metric": st.column_config.TextColumn(width="medium"),
                                "Plan": st.column_config.TextColumn(width="medium")})
    first_profit = table[(table.metric == "profit") & (table.plan == first_label)].iloc[0]
    st.caption(
        f"P10 / median / P90 over {context.trials:,} simulated futures (seed {context.seed}), "
        "every plan on the same draws. P(beats the first) counts the futures in which the plan "
        "does strictly better than the first plan (for CAC: lower), ± its 90% Monte Carlo "
        f"interval. Monte Carlo error of {first_label}'s mean profit: "
        f"±{fmt.money(fmt.mc_margin(first_profit.mean_se))} (90%).")
    st.download_button("Download the table (CSV)", data=compare.download_csv(table),
                       file_name=f"compare-{context.stem}-seed{context.seed}-{context.trials}.csv",
                       mime="text/csv", on_click="ignore", key="compare_csv",
                       icon=":material/download:")


shown.draw(difference, over_the_months, key_numbers)

footer(context, page_path="compare")
