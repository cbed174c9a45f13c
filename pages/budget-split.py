"""Budget split: is the 6:3:1 rule right for this business, and which split is better?"""

import streamlit as st

from sim.metrics import monthly_bands
from sim.splits import OBJECTIVES, Bounds, parse_split_list
from ui import format as fmt
from ui.chart_specs import show_chart
from ui.charts import fan_chart, split_map_chart
from ui.layout import controls, footer, page_header, sections, show_answer
from ui.split_report import (
    answer_note,
    best_cell_words,
    crossover_words,
    horizon_table,
    map_markers,
    optimiser_words,
    results_pair,
    save_split,
)
from ui.splits import (
    GRID,
    GRID_STEP,
    HORIZONS,
    MAP_TRIALS_CHOICES,
    MAP_TRIALS_DEFAULT,
    METRIC_WORDS,
    OBJECTIVE_LABELS,
    RULE_SPLIT,
    TABLE_METRICS,
    best_cell,
    canonical_pick_key,
    cumulative_bands,
    cumulative_difference,
    horizon_optima,
    label,
    map_cells,
    map_trials_words,
    pick_options,
    pick_words,
    split_grid,
    split_table,
)
from ui.state import current
from ui.topic_answers import budget_split_answer, split_found

_SAVED_KEY = "_split_saved_message"

context = current()
page_header(context, "Budget split")
scenario = context.scenario
horizon = context.horizon
answer_slot = st.container()
figures_slot = st.container()

with controls():
    row = st.columns(3)
    objective_key = row[0].selectbox(
        "Optimise for", list(OBJECTIVE_LABELS), format_func=OBJECTIVE_LABELS.get,
        key="split_objective", bind="query-params",
        help="What the best split maximises. P10 of profit suits a cautious board: it is the "
             "profit in the worst 10% of futures.")
    map_trials_choice = row[1].selectbox(
        "Futures for the map and optimiser", MAP_TRIALS_CHOICES,
        index=MAP_TRIALS_CHOICES.index(MAP_TRIALS_DEFAULT), format_func=map_trials_words,
        key="split_trials", bind="query-params",
        help="The map runs all 231 splits on the first futures of the sidebar's trials (all "
             "of them by default, at most 10,000); the table and the answer use all of them.")
    custom_text = row[2].text_input(
        "Add splits (cold/warm/hot, in %)", key="split_custom", bind="query-params",
        placeholder="40/30/30, 50/25/25",
        help="Percent of the budget on cold traffic, warm leads and existing buyers; each "
             "split must add up to 100. Separate several with commas.")
    custom, custom_problems = parse_split_list(custom_text or "")
    row = st.columns(3)
    ranges = {}
    for column, (bucket, words) in zip(row, (
            ("cold", "Cold traffic"), ("warm", "Warm leads"), ("hot", "Existing buyers (hot)")),
            strict=True):
        ranges[bucket] = column.slider(
            f"{words}: allowed share (%)", 0, 100, (0, 100), step=GRID_STEP,
            key=f"split_{bucket}", bind="query-params",
            help="The optimiser only picks splits within these bounds (for example hot at "
                 "most 30%); the map shows cells outside them pale.")
    row = st.columns([2, 2, 1], vertical_alignment="bottom")
    choices = pick_options(scenario, custom)
    linked = st.query_params.get("split_pick", "")
    if canonical_pick_key(linked) != linked:  # an older link wrote custom:40-30-30
        st.query_params["split_pick"] = canonical_pick_key(linked)
        st.session_state["split_pick"] = canonical_pick_key(linked)
    pick_key = row[0].selectbox(
        f"Split in the answer (against {RULE_SPLIT})", choices, format_func=pick_words,
        key="split_pick", bind="query-params")
    variant_name = row[1].text_input(
        "Name for the saved variant", key="split_variant_name", max_chars=80,
        placeholder="leave empty for a name like '45/30/25 split'")
    save_clicked = row[2].button(
        f"Save to {context.stem}.yaml", key="split_save", icon=":material/save:",
        help="Adds the split in the answer to the scenario file as a variant (only the split; "
             "changes made through a link are not saved).")

if _SAVED_KEY in st.session_state:
    st.success(st.session_state.pop(_SAVED_KEY))
if custom_problems:
    st.warning("Some added splits were left out:\n" + "\n".join(
        f"- {problem}" for problem in custom_problems))
bounds = Bounds(ranges["cold"], ranges["warm"], ranges["hot"])
bound_problems = bounds.problems()
if bound_problems:
    st.error("No split fits these bounds, so the optimiser searches every split instead: "
             + "; ".join(bound_problems) + ".")
    bounds = Bounds()

objective = OBJECTIVES[objective_key]
metric = objective.metric
found = split_found(context, objective_key=objective_key, map_trials=map_trials_choice,
                    bounds=bounds, custom=custom, pick_key=pick_key)
map_trials, optimum, rows, skipped = found.searched, found.optimum, found.rows, found.skipped
results, chosen, shown_name, comparison = (found.results, found.chosen, found.shown,
                                           found.comparison)
with answer_slot:
    show_answer(context, budget_split_answer(
        context, objective_key=objective_key, map_trials=map_trials_choice, bounds=bounds,
        custom=custom, pick_key=pick_key), metrics=False)
    st.caption(answer_note(context, comparison, rows, chosen, map_trials, map_trials_choice))

with figures_slot:
    columns = st.columns(4)
    columns[0].metric("Split in the answer", label(chosen.split), help=chosen.name)
    columns[1].metric(f"Mean gain in {METRIC_WORDS[metric]}",
                      fmt.money(comparison.diff_mean, signed=True),
                      help=f"The split in the answer minus {RULE_SPLIT}, averaged over the "
                           "futures.")
    columns[2].metric(f"Beats {RULE_SPLIT} in", "tie" if comparison.p_tie >= 1
                      else fmt.share(comparison.p_beats),
                      help="Share of simulated futures in which it does strictly better.")
    columns[3].metric("Optimiser's pick is stable in", fmt.share(optimum.stability.win_share),
                      help=f"Share of {optimum.stability.resamples} bootstrap resamples of the "
                           "futures in which the optimiser's pick is still the best split.")

# ------------------------------------------------------------------ save the chosen split
if save_clicked:
    name = (variant_name or "").strip() or f"{label(chosen.split)} split"
    saved_message, save_problem = save_split(context.stem, name, chosen.split)
    if save_problem:
        st.error(save_problem)
    else:
        st.session_state[_SAVED_KEY] = saved_message
        st.rerun()

shown = sections("budget-split")


# ------------------------------------------------------------------ table of named splits
def named_splits() -> None:
    """The 6:3:1 rule against the scenario's named and added splits, one tab per metric."""
    st.subheader(f"The 6:3:1 rule ({RULE_SPLIT}) against the named splits, "
                 f"{fmt.horizon_words(horizon)} totals")
    tabs = st.tabs([fmt.metric_heading(name) for name in TABLE_METRICS])
    for tab, name in zip(tabs, TABLE_METRICS, strict=True):
        with tab:
            st.dataframe(split_table(rows, results, name), hide_index=True, width="stretch")
    notes = [f"P10 / median / P90 over {context.trials:,} simulated futures. P(beats "
             f"{RULE_SPLIT}) is the share of futures in which the split does strictly better "
             f"than {RULE_SPLIT} in the same future, ± its 90% Monte Carlo interval; a split "
             f"equal to {RULE_SPLIT} in every future is a tie, not a win."]
    if skipped:
        notes.append(f"Variants that keep the base split ({', '.join(skipped)}) are compared "
                     "on the Overview page.")
    st.caption(" ".join(notes))


# ------------------------------------------------------------------ the map and the optimiser
def every_split() -> None:
    """Every split of the grid as a map, and the optimiser's pick within the bounds."""
    st.subheader(f"Every split on a {GRID_STEP}% grid: median {METRIC_WORDS[metric]} over "
                 f"{horizon} months")
    values = split_grid(scenario, context.seed, map_trials, horizon)[metric]
    best = best_cell(values, objective, bounds)
    cells = map_cells(values, objective, bounds, best)
    markers = map_markers(GRID[best], optimum.result.split, objective_key)
    tie_words = "Tied with the best cell (it wins there in under 80% of futures)"
    # Below 1000 px the two columns stack (ui.layout's CSS) so the map keeps its full width.
    with st.container(key="split_map"):
        map_column, info_column = st.columns([3, 2])
    with map_column:
        show_chart(split_map_chart(cells, f"Median {METRIC_WORDS[metric]} ($)",
                                   markers=markers, flag_label=tie_words), width="stretch")
    with info_column:
        st.markdown(
            f"**How to read it.** Each square is one split: cold traffic share across, warm "
            f"leads share up, existing buyers get the rest (top-left corner: all warm; "
            f"bottom-left: all hot). Colour: median {METRIC_WORDS[metric]} over {horizon} "
            f"months in {map_trials:,} futures, the same futures for every square.")
        st.markdown(best_cell_words(values, cells, best, objective_key))
        if not bounds.is_open():
            st.markdown("Pale squares lie outside your bounds; the best cell is the best "
                        "within them.")
    st.subheader("Optimiser: the best split within your bounds")
    st.markdown(optimiser_words(optimum, objective_key))


# ------------------------------------------------------------------ horizons
def by_horizon() -> None:
    """The optimiser run again for each of the other horizons (worked out when opened)."""
    others = sorted(set(HORIZONS) - {horizon})
    st.subheader("Best split by horizon")
    # Only when this section is opened: the other horizons' optimisations take seconds the
    # first time (README, "Performance"). horizon_optima shows its own progress.
    optima, references = horizon_optima(scenario, context.seed, map_trials, others,
                                        objective_key, bounds)
    optima[horizon] = optimum.result
    references[horizon] = optimum.reference
    st.dataframe(horizon_table(optima, references, horizon, objective_key),
                 hide_index=True, width="stretch")
    st.caption(f"Each horizon is optimised on its own ({METRIC_WORDS[metric]} totalled over "
               f"that many months), on the same {map_trials:,} futures; the scenario's horizon "
               "uses the map's futures. Short horizons favour splits that win customers fast; "
               "long ones reward keeping them.")


# ------------------------------------------------------------------ cumulative profit
def cumulative_profit() -> None:
    """Cumulative profit of the split in the answer against the rule, month by month."""
    pair = results_pair(results, chosen)
    st.subheader(f"Cumulative profit, {label(chosen.split)} against {RULE_SPLIT}")
    show_chart(fan_chart(cumulative_bands(pair), "Cumulative profit ($)"), width="stretch")
    difference = cumulative_difference(results[chosen.key], results["rule"])
    st.markdown(f"**Cumulative profit of {label(chosen.split)} minus {RULE_SPLIT}, in the same "
                "futures**")
    show_chart(fan_chart({f"{label(chosen.split)} minus {RULE_SPLIT}":
                          monthly_bands(difference)}, "Cumulative difference ($)"),
               width="stretch")
    st.caption(crossover_words(chosen.split, difference, comparison, horizon))


shown.draw(named_splits, every_split, by_horizon, cumulative_profit)

footer(context, page_path="budget-split")
