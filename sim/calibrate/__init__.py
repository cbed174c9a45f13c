"""Calibration from the business's own data (docs/calibration.md).

- `files`: reading uploaded CSV files into checked rows (one message per problem, by row and
  column), shared by both imports;
- `transactions`: an order export -> customer summaries, the cohort table, order values, the
  monthly repeat and return rates, per-channel value;
- `bgnbd`: the BG/NBD and Gamma-Gamma models fitted by maximum likelihood;
- `history`: a monthly spend sheet -> the funnel's response parameters fitted by replaying the
  engine, a parametric bootstrap and a backtest;
- `ranges`: fits turned into proposed `{low, high}` ranges keyed by scenario dotted paths.

Pure NumPy + SciPy; no streamlit, no printing.
"""
