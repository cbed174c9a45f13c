"""Budget split: is 6:3:1 right for this business, and which split is better?"""

import pandas as pd
import streamlit as st

from sim.metrics import compare_paired, monthly_bands, summarize
from sim.scenario import ScenarioError
from sim.splits import (
    OBJECTIVES,
    RULE_631,
    Bounds,
    add_split_variant,
    objective_values,
    parse_split_list,
)
from ui import format as fmt
from ui.charts import fan_chart, split_map_chart
from ui.layout import controls, footer, page_header, show_answer
from ui.library import LibraryError, read_entry, save_scenario
from ui.splits import (
    GRID,
    GRID_STEP,
    HORIZONS,
    MAP_TRIALS_CHOICES,
    MAP_TRIALS_DEFAULT,
    METRIC_WORDS,
    OBJECTIVE_LABELS,
    RULE_LABEL,
    TABLE_METRICS,
    best_cell,
    cli_command,
    crossover_month,
    cumulative_bands,
    cumulative_difference,
    horizon_optima,
    label,
    map_cells,
    named_splits,
    objective_name,
    optimise,
    p_beats_text,
    pick_options,
    pick_words,
    run_named,
    split_grid,
    split_table,
)
from ui.state import current
from ui.topic_answers import budget_split_answer

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
        index=MAP_TRIALS_CHOICES.index(MAP_TRIALS_DEFAULT), format_func=fmt.count,
        key="split_trials", bind="query-params",
        help="The map runs all 231 splits, so it uses the first futures of the sidebar's "
             "trials; the table and the answer use all of them.")
    custom_text = row[2].text_input(
        "Add splits (cold-warm-hot, in %)", key="split_custom", bind="query-params",
        placeholder="40-30-30, 50-25-25",
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
    pick_key = row[0].selectbox(
        "Split in the answer (against 6:3:1)", choices, format_func=pick_words,
        key="split_pick", bind="query-params")
    variant_name = row[1].text_input(
        "Name for the saved variant", key="split_variant_name", max_chars=80,
        placeholder="leave empty for a name like '45:30:25 split'")
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
objective_words = objective_name(objective_key)
metric = objective.metric
map_trials = min(int(map_trials_choice), context.trials)
grid = split_grid(scenario, context.seed, map_trials, horizon)
values = grid[metric]
best = best_cell(values, objective, bounds)
optimum = optimise(scenario, context.seed, map_trials, horizon, objective_key, bounds)
pick_split = optimum.result.split
rows, skipped = named_splits(scenario, custom, pick_split, objective_key)
by_key = {named.key: named for named in rows}
results = run_named(scenario, rows, context.seed, context.trials)
chosen = by_key.get(pick_key, by_key["best"])
if pick_key == "base" and "base" not in by_key:
    chosen = by_key["rule"]
comparison = compare_paired(results[chosen.key].metrics[metric],
                            results["rule"].metrics[metric])
shown_name = label(chosen.split) if chosen.key in ("best", "base") or chosen.key.startswith(
    "custom:") else f"{chosen.name} ({label(chosen.split)})"
with answer_slot:
    show_answer(context, budget_split_answer(
        context, objective_key=objective_key, map_trials=map_trials_choice, bounds=bounds,
        custom=custom, pick_key=pick_key), metrics=False)
    half = (comparison.p_beats_high - comparison.p_beats_low) / 2
    error = (f"±{fmt.money(fmt.mc_margin(comparison.diff_se))} on the mean gain and "
             f"±{fmt.share(half, 1)} on the share of futures"
             if comparison.p_tie < 1 else "none: the two are the same split")
    command = (None if context.overrides else
               cli_command(context.stem, context.saved, rows, chosen, context.seed,
                           context.trials))
    st.caption(
        f"From {context.trials:,} simulated futures (seed {context.seed}), paired: each split "
        f"meets 6:3:1 in the same futures. Monte Carlo error (90%): {error}. The map, the "
        f"optimiser and the horizon table use the first {map_trials:,} of these futures."
        + (f" Re-derive it: `{command}`" if command else ""))

with figures_slot:
    columns = st.columns(4)
    columns[0].metric("Split in the answer", label(chosen.split), help=chosen.name)
    columns[1].metric(f"Mean gain in {METRIC_WORDS[metric]}",
                      fmt.money(comparison.diff_mean, signed=True),
                      help="The split in the answer minus 6:3:1, averaged over the futures.")
    columns[2].metric("Beats 6:3:1 in", "tie" if comparison.p_tie >= 1
                      else fmt.share(comparison.p_beats),
                      help="Share of simulated futures in which it does strictly better.")
    columns[3].metric("Optimiser's pick is stable in", fmt.share(optimum.stability.win_share),
                      help=f"Share of {optimum.stability.resamples} bootstrap resamples of the "
                           "futures in which the optimiser's pick is still the best split.")

# ------------------------------------------------------------------ save the chosen split
if save_clicked:
    entry = read_entry(context.stem)
    name = (variant_name or "").strip() or f"{label(chosen.split)} split"
    if entry.scenario is None:
        st.error(f"{context.stem}.yaml cannot be read, so nothing was saved: "
                 + "; ".join(entry.problems))
    else:
        try:
            updated = add_split_variant(entry.scenario, name, chosen.split)
            path = save_scenario(context.stem, updated, expected_mtime_ns=entry.modified_ns,
                                 expected_sha256=entry.sha256)
        except (ScenarioError, LibraryError, ValueError) as problem:
            reasons = problem.problems if isinstance(problem, ScenarioError) else [str(problem)]
            st.error("Nothing was saved: " + "; ".join(reasons))
        else:
            st.session_state[_SAVED_KEY] = (
                f"Saved variant “{name}” (split {label(chosen.split)}) in {path.name}. It is "
                "now listed in the table below and on the other pages.")
            st.rerun()

# ------------------------------------------------------------------ table of named splits
st.subheader(f"6:3:1 against the named splits, {fmt.horizon_words(horizon)} totals")
tabs = st.tabs([fmt.metric_label(name) for name in TABLE_METRICS])
for tab, name in zip(tabs, TABLE_METRICS, strict=True):
    with tab:
        st.dataframe(split_table(rows, results, name), hide_index=True, width="stretch")
notes = [f"P10 / median / P90 over {context.trials:,} simulated futures. P(beats 6:3:1) is the "
         "share of futures in which the split does strictly better than 6:3:1 in the same "
         "future, ± its 90% Monte Carlo interval; a split equal to 6:3:1 in every future is a "
         "tie, not a win."]
if skipped:
    notes.append(f"Variants that keep the base split ({', '.join(skipped)}) are compared on the "
                 "Overview page.")
st.caption(" ".join(notes))

# ------------------------------------------------------------------ the map
st.subheader(f"Every split on a {GRID_STEP}% grid: median {METRIC_WORDS[metric]} over "
             f"{horizon} months")
cells = map_cells(values, objective, bounds, best)
markers = pd.DataFrame([
    {"cold": RULE_631.cold, "warm": RULE_631.warm, "kind": "6:3:1", "label": "6:3:1"},
    {"cold": GRID[best].cold, "warm": GRID[best].warm,
     "kind": f"Best cell ({objective_words.lower()})",
     "label": f"best {label(GRID[best])}"},
])
if pick_split != GRID[best]:
    markers = pd.concat([markers, pd.DataFrame([{
        "cold": pick_split.cold, "warm": pick_split.warm, "kind": "Optimiser's pick (refined)",
        "label": label(pick_split)}])], ignore_index=True)
tie_words = "Tied with the best cell (it wins there in under 80% of futures)"
map_column, info_column = st.columns([3, 2])
with map_column:
    st.altair_chart(split_map_chart(cells, f"Median {METRIC_WORDS[metric]} ($)", markers=markers,
                                    flag_label=tie_words), width="stretch")
tied_count = int(cells["flag"].sum()) - 1
rule_index = GRID.index(RULE_631)
rule_vs_best = compare_paired(values[best], values[rule_index])
with info_column:
    st.markdown(
        f"**How to read it.** Each square is one split: cold traffic share across, warm leads "
        f"share up, existing buyers get the rest (top-left corner: all warm; bottom-left: all "
        f"hot). Colour: median {METRIC_WORDS[metric]} over {horizon} months in "
        f"{map_trials:,} futures, the same futures for every square.")
    st.markdown(
        f"**Best cell:** {label(GRID[best])} "
        f"({objective_words.lower()} "
        f"{fmt.money(float(cells['objective'][best]))}). "
        f"It beats 6:3:1 in {fmt.share(rule_vs_best.p_beats)} of futures. "
        f"{tied_count} other cells are statistically tied with it (dots): the best cell wins "
        "against them in fewer than 80% of futures, so the data cannot separate them.")
    if not bounds.is_open():
        st.markdown("Pale squares lie outside your bounds; the best cell is the best within "
                    "them.")

# ------------------------------------------------------------------ optimiser
st.subheader("Optimiser: the best split within your bounds")
result = optimum.result
gain = compare_paired(result.evaluated[result.split], optimum.reference)
stability = optimum.stability
st.markdown(
    f"- **Best split for {objective_words.lower()}: {label(result.split)}** "
    f"({fmt.money(result.value)}; 6:3:1: "
    f"{fmt.money(float(objective_values(optimum.reference, objective)))}). "
    f"Searched the {GRID_STEP}% grid within your bounds (best cell {label(result.coarse)}), "
    "then moved 2 and 1 points between buckets while that improved it, on the same futures.\n"
    f"- **Gain over 6:3:1:** {fmt.money(gain.diff_mean, signed=True)} {METRIC_WORDS[metric]} "
    f"on average (Monte Carlo error ±{fmt.money(fmt.mc_margin(gain.diff_se))}); 90% range across "
    f"futures {fmt.money(gain.diff_p5, signed=True)} to {fmt.money(gain.diff_p95, signed=True)}"
    f"; beats 6:3:1 in {p_beats_text(gain)} of futures.\n"
    f"- **Stability:** in {fmt.share(stability.win_share)} of {stability.resamples} bootstrap "
    "resamples of the futures it is still the best of the "
    f"{len(optimum.candidates)} candidate splits; in {fmt.share(stability.near_share)} the "
    "winner is within 5 points of it in every bucket. "
    + ("A stable choice." if stability.near_share >= 0.9 else
       "Neighbouring splits are close: treat the exact numbers as a region, not a point."))

# ------------------------------------------------------------------ horizons
st.subheader("Best split by horizon")
horizons = sorted(set(HORIZONS) | {horizon})
others = [h for h in horizons if h != horizon]
by_horizon, references = (horizon_optima(scenario, context.seed, map_trials, others,
                                         objective_key, bounds) if others else ({}, {}))
by_horizon[horizon] = result
references[horizon] = optimum.reference
horizon_rows = []
for h in horizons:
    found = by_horizon[h]
    versus = compare_paired(found.evaluated[found.split], references[h])
    horizon_rows.append({
        "Horizon": f"{h} months" + (" (this scenario)" if h == horizon else ""),
        "Best split": label(found.split),
        objective_words: fmt.money(found.value),
        "6:3:1": fmt.money(float(objective_values(references[h], objective))),
        "Mean gain over 6:3:1": fmt.money(versus.diff_mean, signed=True),
        "90% range of the gain": (f"{fmt.money(versus.diff_p5, signed=True)} to "
                                  f"{fmt.money(versus.diff_p95, signed=True)}"),
        "P(beats 6:3:1)": p_beats_text(versus),
    })
st.dataframe(pd.DataFrame(horizon_rows), hide_index=True, width="stretch")
st.caption(f"Each horizon is optimised on its own ({METRIC_WORDS[metric]} totalled over that "
           f"many months), on the same {map_trials:,} futures; the scenario's horizon uses the "
           "map above. Short horizons favour splits that win customers fast; long ones reward "
           "keeping them.")

pair = {f"{RULE_LABEL}": results["rule"],
        f"{label(chosen.split)} ({'optimiser' if chosen.key == 'best' else chosen.name})":
            results[chosen.key]}
st.markdown(f"**Cumulative profit, {label(chosen.split)} against 6:3:1**")
st.altair_chart(fan_chart(cumulative_bands(pair), "Cumulative profit ($)"), width="stretch")
difference = cumulative_difference(results[chosen.key], results["rule"])
st.markdown(f"**Cumulative profit of {label(chosen.split)} minus 6:3:1, in the same futures**")
st.altair_chart(fan_chart({f"{label(chosen.split)} minus 6:3:1": monthly_bands(difference)},
                          "Cumulative difference ($)"), width="stretch")
month = crossover_month(difference)
end = summarize(difference[:, -1])
if comparison.p_tie >= 1:
    st.caption("The split in the answer is 6:3:1 itself, so the two lines coincide.")
elif month is None:
    st.caption(f"In the median future {label(chosen.split)} is still behind 6:3:1 in "
               f"cumulative profit after {horizon} months (median difference "
               f"{fmt.money(end.p50, signed=True)}). Lines: medians; bands: P10-P90 of "
               f"{min(context.trials, difference.shape[0]):,} futures.")
else:
    st.caption(f"In the median future {label(chosen.split)} overtakes 6:3:1 in cumulative "
               f"profit in month {month} and stays ahead (median difference after {horizon} "
               f"months {fmt.money(end.p50, signed=True)}). Lines: medians; bands: P10-P90 of "
               f"{min(context.trials, difference.shape[0]):,} futures.")

footer(context, page_path="budget-split")
