"""Calibrate from data: an order export and a monthly spend sheet in, ranges and a backtest out."""

import streamlit as st

from sim.calibrate.customers import CLV_MONTHS, ONE_AND_DONE_BELOW
from sim.calibrate.history import SERIES_LABELS
from sim.calibrate.history_fit import DEFAULT_HOLDOUT, MIN_FIT_MONTHS
from ui import calibrate as cal
from ui.chart_specs import show_chart
from ui.layout import answer, controls, footer, page_header
from ui.state import current

context = current()
page_header(context, "Calibrate from data")
answer_slot = st.container()
tx_result = history_result = None

with controls():
    st.markdown(
        "Fit this scenario's ranges to your own numbers. Nothing in the scenario changes until "
        "you tick the ranges you want and click *Use these ranges*; every accepted range keeps "
        "a note of where it came from, saved with the scenario.")
    orders_tab, history_tab = st.tabs(["Order export", "Monthly history"])
    with orders_tab:
        st.markdown(
            "A CSV with one row per order: **customer id, order date, order value**; optionally "
            "the customer's **acquisition channel** and a **returned** flag (1/0). Column names "
            "are matched without regard to case.")
        upload_col, example_col = st.columns([3, 1])
        with upload_col:
            orders = st.file_uploader("Order export (CSV)", type=["csv"], key="calibrate_orders",
                                      max_upload_size=cal.TRANSACTIONS_MB)
            spend = st.file_uploader("Optional: spend per channel (CSV: channel, spend) for "
                                     "CAC", type=["csv"], key="calibrate_spend",
                                     max_upload_size=cal.HISTORY_MB)
        with example_col:
            st.download_button("Example orders", data=cal.example_bytes("transactions"),
                               file_name=cal.EXAMPLE_FILES["transactions"], mime="text/csv",
                               on_click="ignore", key="calibrate_orders_example",
                               icon=":material/download:")
            st.download_button("Example channel spend", data=cal.example_bytes("spend"),
                               file_name=cal.EXAMPLE_FILES["spend"], mime="text/csv",
                               on_click="ignore", key="calibrate_spend_example",
                               icon=":material/download:")
        hold_col, unit_col = st.columns(2)
        holdout_months = hold_col.selectbox(
            "Hold out the last", [0, 3, 6, 12], index=2, key="calibrate_orders_holdout",
            format_func=lambda m: "nothing (fit every order)" if m == 0 else f"{m} months",
            help="Orders after the calibration period test the BG/NBD forecast.")
        unit = unit_col.selectbox("BG/NBD time unit", ["week", "day", "month"],
                                  key="calibrate_unit")
    with history_tab:
        st.markdown(
            "A CSV with one row per month, oldest first: **month, spend_cold, spend_warm, "
            "spend_hot**; optionally impressions, leads, new_customers, active_customers, "
            "repeat_orders and orders_returned (each series lets more of the funnel be fitted). "
            f"Inputs that are not fitted (prospects, lead decay, unpreventable churn, ...) "
            f"come from the saved file {context.stem}.yaml.")
        upload_col, example_col = st.columns([3, 1])
        with upload_col:
            history = st.file_uploader("Monthly history (CSV)", type=["csv"],
                                       key="calibrate_history", max_upload_size=cal.HISTORY_MB)
        with example_col:
            st.download_button("Example history", data=cal.example_bytes("history"),
                               file_name=cal.EXAMPLE_FILES["history"], mime="text/csv",
                               on_click="ignore", key="calibrate_history_example",
                               icon=":material/download:")
        holdout = st.number_input("Months held out for the backtest", min_value=0,
                                  max_value=120, value=DEFAULT_HOLDOUT, step=1,
                                  key="calibrate_holdout",
                                  help=f"The fit uses the other months (at least "
                                       f"{MIN_FIT_MONTHS}).")

if orders is not None:
    outcome = cal.fit_transactions(orders.getvalue(), orders.name, int(holdout_months), unit,
                                   cal.margin_of(context.saved),
                                   spend.getvalue() if spend is not None else None)
    if isinstance(outcome, tuple):
        st.error(f"**{orders.name}** cannot be used; nothing was changed:\n"
                 + "\n".join(f"- {p}" for p in outcome), icon=":material/error:")
    else:
        tx_result = outcome
        c = tx_result.calibration
        s = c.summary
        st.subheader("Customers: repeat purchases and value per order")
        cols = st.columns(4)
        cols[0].metric("Customers", f"{s.customers:,}",
                       help=f"First order on or before {s.until.isoformat()}.")
        cols[1].metric("Bought again", f"{s.repeat_customers:,}",
                       help="Customers with a repeat order in the calibration period.")
        cols[2].metric(f"Mean CLV ({CLV_MONTHS} months)", f"${c.clv.mean():,.2f}",
                       help=f"Orders so far plus BG/NBD x Gamma-Gamma forecast, at the "
                            f"scenario's gross margin {c.margin:.0%}; undiscounted.")
        cols[3].metric("Monthly repeat rate", f"{c.repeat_rate.value:.1%}",
                       help="Share of active customers who order in a month (active: from the "
                            "month after the first order to the month of the last).")
        bg = c.bgnbd
        text = ", ".join(f"{k} = {bg.params[k]:.4g} ± {bg.se[k]:.2g}"
                         for k in ("r", "alpha", "a", "b"))
        st.markdown(f"**BG/NBD** ({s.unit}s): {text}; log-likelihood "
                    f"{bg.log_likelihood:,.2f}.")
        file_col, command_col = st.columns([1, 3], vertical_alignment="center")
        file_col.download_button("Per-customer CSV", data=tx_result.customers_csv,
                                 file_name="customers_clv.csv", mime="text/csv",
                                 on_click="ignore", key="calibrate_customers",
                                 icon=":material/download:",
                                 help="One row per customer: P(alive), expected repeat orders "
                                      "and value per order for the rest of the CLV period, "
                                      "CLV.")
        command_col.caption("Same fit on the command line: `"
                            + cal.cli_command(tx_result, orders.name,
                                              spend.name if spend is not None else None) + "`")
        if c.gamma_gamma is not None:
            gg = c.gamma_gamma
            text = ", ".join(f"{k} = {gg.params[k]:.4g} ± {gg.se[k]:.2g}"
                             for k in ("p", "q", "gamma"))
            st.markdown(f"**Gamma-Gamma** (value per order, {gg.customers:,} repeat customers): "
                        f"{text}.")
        if c.holdout is not None:
            show_chart(cal.holdout_chart(c), width="stretch")
            st.caption(f"Calibration/holdout check as in Fader, Hardie & Lee (2005): customers "
                       f"grouped by their repeat purchases up to {s.until.isoformat()}; mean "
                       f"repeat purchases in the following {s.holdout:.1f} {s.unit}s, actual "
                       "and expected by the fitted BG/NBD.")
        if len(c.channels) > 1 or (c.channels and c.channels[0].channel != "(all)"):
            st.markdown("**By acquisition channel**")
            st.dataframe(cal.channel_table(c), hide_index=True, width="stretch")
            st.caption(f"One-and-done: fewer than {ONE_AND_DONE_BELOW:.0%} of the channel's "
                       "customers bought a second time. CAC: the channel's spend over the "
                       "customers it acquired (given a spend file).")

if history is not None:
    outcome = cal.fit_history(history.getvalue(), history.name, context.saved, int(holdout))
    if isinstance(outcome, tuple):
        st.error(f"**{history.name}** cannot be used; nothing was changed:\n"
                 + "\n".join(f"- {p}" for p in outcome), icon=":material/error:")
    else:
        history_result = outcome
        test = history_result.calibration.backtest
        if not history_result.calibration.fit.converged:
            st.warning("The fit stopped before meeting its tolerance: the ranges below are "
                       "the best found; check the backtest before using them.",
                       icon=":material/warning:")
        st.subheader("Backtest: the fitted model replays the history")
        names = list(test.actual)
        cols = st.columns(len(names))
        for col, name in zip(cols, names, strict=True):
            score = test.mape_holdout[name] if test.holdout else test.mape_fit[name]
            col.metric(f"{SERIES_LABELS[name]}: MAPE", "—" if score != score else f"{score:.1%}",
                       help=f"Fitted months: {test.mape_fit[name]:.1%}." if test.holdout
                       else None)
        tabs = st.tabs([SERIES_LABELS[name] for name in names])
        for tab, name in zip(tabs, names, strict=True):
            with tab:
                show_chart(cal.backtest_chart(history_result, name), width="stretch")
        st.caption("Dots: actual months. Line: the engine replayed month by month with the "
                   "fitted values and each month's spends; band: P5-P95 over the bootstrap's "
                   "parameters. MAPE: mean absolute percentage error over the held-out months "
                   "(grey), which the fit never saw.")
        table = cal.parameter_table(history_result)
        st.dataframe(table, hide_index=True, width="stretch", height=35 * (len(table) + 1) + 3)

entries = [(origin, proposal) for origin, result in (("orders", tx_result),
                                                      ("history", history_result))
           if result is not None for proposal in result.proposals]
if entries and not context.present:
    st.subheader("Proposed ranges")
    applied = st.session_state.pop(cal.APPLIED_KEY, None)
    if applied:
        st.success(applied, icon=":material/check_circle:")
    widths = [4, 1.2, 1.6, 2.6, 2.6]
    head = st.columns(widths)
    for col, title in zip(head, ["Field", "From", "Fitted", "Proposed 90% range",
                                 "In the scenario now"], strict=True):
        col.markdown(f"**{title}**")
    defaults = cal.default_ticks(entries)
    ticked = set()
    for origin, proposal in entries:
        key = cal.choice_key(origin, proposal, entries)
        row = st.columns(widths)
        if row[0].checkbox(proposal.label, value=defaults[key], key=key,
                           help=f"{proposal.path}. Source: {proposal.source}"
                                + (f" {proposal.caveat}" if proposal.caveat else "")):
            ticked.add(key)
        row[1].markdown("orders" if origin == "orders" else "history")
        row[2].markdown(cal.number(proposal.estimate))
        row[3].markdown(f"{cal.number(proposal.low)} – {cal.number(proposal.high)}"
                        + (" ⚠" if proposal.caveat else ""))
        row[4].markdown(cal.current_value(context.scenario, proposal.path))
    caveats = list(dict.fromkeys(f"- **{p.label}** ({o}): {p.caveat}" for o, p in entries
                                 if p.caveat))
    if caveats:
        st.caption("⚠ Before you accept:\n" + "\n".join(caveats))
    overrides, problems = cal.accept_overrides(context, entries, ticked)
    if ticked and not problems:
        problems = cal.check_overrides(context, overrides)
    if problems:
        st.error("These ranges cannot be used together in this scenario; nothing was changed:\n"
                 + "\n".join(f"- {p}" for p in problems), icon=":material/error:")
    st.button(f"Use these ranges ({len(ticked)})", type="primary", key="calibrate_apply",
              icon=":material/check:", disabled=not ticked or bool(problems),
              on_click=cal.apply,
              args=(overrides, f"{len(ticked)} ranges are now in the scenario, each with a note "
                    "of its source. Every page uses them; save on the Scenario page to keep "
                    "them."))

with answer_slot:
    answer(cal.answer_sentence(tx_result, history_result))

footer(context, page_path="calibrate")
