"""Write the example files of the Calibrate page from stated parameters, so their truth is known.

    python scenarios/examples/make_examples.py

- transactions_example.csv: orders of 1,500 customers whose first orders fall in 2024, observed
  to 2025-12-31, drawn from the BG/NBD and Gamma-Gamma models with TRANSACTION_TRUTH (weeks)
  per acquisition channel; each order is returned with probability RETURN_RATE.
- channel_spend_example.csv: the acquisition spend per channel in 2024 (CHANNEL_SPEND).
- history_example.csv: 36 months drawn from the engine itself (`sim.calibrate.history.replay`
  with random flows) at HISTORY_TRUTH, with the scenario schema's defaults for every other
  input, over spends drawn once around $30,000 cold, $15,000 warm and $5,000 hot a month.

Same seed, same files (README.md in this folder states the parameters).
"""

from __future__ import annotations

import csv
import datetime as dt
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from sim.calibrate.history import SERIES, History, base_values, draw_histories  # noqa: E402
from sim.scenario import Scenario  # noqa: E402

SEED = 20261130
#: BG/NBD (r, alpha in weeks, a, b), Gamma-Gamma (p, q, gamma in $) and customers per channel.
TRANSACTION_TRUTH: dict[str, dict[str, float]] = {
    "search": {"customers": 700, "r": 0.6, "alpha": 6.0, "a": 0.8, "b": 3.0,
               "p": 6.0, "q": 4.0, "gamma": 40.0},
    "social": {"customers": 500, "r": 0.1, "alpha": 20.0, "a": 3.0, "b": 1.0,
               "p": 6.0, "q": 4.0, "gamma": 25.0},
    "referral": {"customers": 300, "r": 0.8, "alpha": 5.0, "a": 0.5, "b": 4.0,
                 "p": 6.0, "q": 4.0, "gamma": 50.0},
}
RETURN_RATE = 0.05
FIRST_DAY, LAST_DAY = dt.date(2024, 1, 1), dt.date(2025, 12, 31)
ACQUISITION_DAYS = 366
CHANNEL_SPEND = {"search": 21_000, "social": 9_000, "referral": 3_000}
#: Engine inputs of the history (the rest: the schema's defaults).
HISTORY_TRUTH: dict[str, float] = {
    "cold.engagement_rate": 0.012, "warm.conversion_no_spend": 0.004,
    "warm.conversion_max": 0.04, "warm.spend_scale": 0.3, "market.warm_start": 25_000.0,
    "hot.churn.monthly": 0.08, "market.customers_start": 4_000.0,
    "hot.repeat_no_spend": 0.12, "hot.repeat_max": 0.30, "hot.spend_scale": 1.0,
    "guarantee.return_rate_at_reference": 0.06,
}
HISTORY_MONTHS = 36
COST_PER_THOUSAND = 10.0


def _customer_orders(rng: np.random.Generator, truth: dict[str, float], first: float,
                     end: float) -> list[tuple[float, float]]:
    """One customer's (week, value) orders: BG/NBD purchase times, Gamma-Gamma values."""
    rate = rng.gamma(truth["r"], 1.0 / truth["alpha"])
    dropout = rng.beta(truth["a"], truth["b"])
    mean_scale = rng.gamma(truth["q"], 1.0 / truth["gamma"])  # nu: values ~ Gamma(p, nu)
    times = [first]
    while True:
        times.append(times[-1] + rng.exponential(1.0 / rate))
        if times[-1] > end:
            times.pop()
            break
        if rng.random() < dropout:
            break
    return [(t, rng.gamma(truth["p"], 1.0 / mean_scale)) for t in times]


def write_transactions(rng: np.random.Generator) -> None:
    end_week = (LAST_DAY - FIRST_DAY).days / 7.0
    rows = []
    number = 0
    for channel, truth in TRANSACTION_TRUTH.items():
        for _ in range(int(truth["customers"])):
            number += 1
            first = rng.integers(0, ACQUISITION_DAYS) / 7.0
            for week, value in _customer_orders(rng, truth, first, end_week):
                day = FIRST_DAY + dt.timedelta(days=int(week * 7.0))
                returned = int(rng.random() < RETURN_RATE)
                rows.append((day, f"C{number:05d}", f"{value:.2f}", channel, returned))
    rows.sort(key=lambda row: (row[1], row[0]))
    with open(HERE / "transactions_example.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["customer_id", "order_date", "order_value", "channel", "returned"])
        writer.writerows([(who, day.isoformat(), value, channel, returned)
                          for day, who, value, channel, returned in rows])
    with open(HERE / "channel_spend_example.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["channel", "spend"])
        writer.writerows(CHANNEL_SPEND.items())


def write_history(rng: np.random.Generator) -> None:
    months = HISTORY_MONTHS
    spend = np.round(np.column_stack([
        30_000 * rng.uniform(0.3, 1.7, months), 15_000 * rng.uniform(0.2, 2.0, months),
        5_000 * rng.uniform(0.1, 3.0, months)]))
    impressions = np.round(spend[:, 0] / COST_PER_THOUSAND * 1000.0)
    labels = tuple(f"{2023 + m // 12}-{m % 12 + 1:02d}" for m in range(months))
    design = History(labels, spend, impressions, {name: np.zeros(months) for name in SERIES})
    truth = {**base_values(Scenario()), **HISTORY_TRUTH}
    drawn = draw_histories(design, truth, 1, SEED)[0]
    with open(HERE / "history_example.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["month", "spend_cold", "spend_warm", "spend_hot", "impressions",
                         *SERIES])
        for m in range(months):
            writer.writerow([labels[m], *(f"{v:.0f}" for v in spend[m]),
                             f"{impressions[m]:.0f}", *(f"{v:.0f}" for v in drawn[m])])


def main() -> None:
    rng = np.random.default_rng(SEED)
    write_transactions(rng)
    write_history(rng)


if __name__ == "__main__":
    main()
