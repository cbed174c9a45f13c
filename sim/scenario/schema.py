"""The scenario schema: one business and its plan, as a validated, frozen pydantic model.

Each field carries its label, unit and one-line help (`_f`), which `sim.scenario.catalog` lists
for editors and charts; the field types come from `sim.scenario.kinds`.
"""

from __future__ import annotations

import copy
import difflib
import weakref
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sim.scenario.kinds import (
    Amount,
    Cost,
    Count,
    Days,
    Discount,
    Elasticity,
    Growth,
    Horizon,
    Rate,
    Seed,
    Shape,
    Share,
    Tenure,
    Trials,
    _problem,
)
from sim.values import Fixed

SCHEMA_VERSION = 1


def _f(default: Any, label: str, unit: str, help: str) -> Any:
    """A field with the label, unit and one-line help shown in editors and charts."""
    return Field(default=default, json_schema_extra={"label": label, "unit": unit, "help": help})


#: id(scenario) -> its canonical text, while the scenario exists (Scenario.canonical).
_CANONICAL_TEXT: dict[int, str] = {}

class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Simulation(_Section):
    horizon_months: Horizon = _f(36, "Horizon", "months", "How many months to simulate.")
    trials: Trials = _f(5000, "Trials", "futures", "How many simulated futures (Monte Carlo).")
    seed: Seed = _f(20261122, "Seed", "", "Same seed and trials give the same numbers.")
    flows: Literal["expected", "random"] = _f(
        "expected", "Flows", "",
        "expected: average flows; random: whole customers drawn by chance (small businesses).")


class Finance(_Section):
    discount_rate_annual: Discount = _f(
        Fixed(0.10), "Discount rate", "per year", "Used for NPV, CLV and customer equity.")


class Market(_Section):
    prospects: Count = _f(Fixed(2_000_000.0), "Prospects not yet reached", "people",
                          "People cold traffic can still reach.")
    warm_start: Count = _f(Fixed(20_000.0), "Warm leads at start", "leads",
                           "Leads who know us but have not bought yet.")
    customers_start: Count = _f(Fixed(5_000.0), "Customers at start", "customers",
                                "Active customers at month 0.")
    customers_start_tenure: Tenure = _f(12, "Tenure of starting customers", "months",
                                        "How long the starting customers have been with us.")


class Split(_Section):
    cold: Share = _f(0.6, "Cold traffic share", "share of budget",
                     "Reach people who do not know us yet.")
    warm: Share = _f(0.3, "Warm leads share", "share of budget", "Turn leads into buyers.")
    hot: Share = _f(0.1, "Existing buyers share", "share of budget",
                    "Make buyers buy again and stay.")

    @model_validator(mode="after")
    def _sums_to_one(self) -> Split:
        total = self.cold + self.warm + self.hot
        if abs(total - 1.0) > 1e-6:
            raise _problem(
                f"cold + warm + hot must sum to 1 (within 0.000001), got {total:.6g}")
        return self


class Budget(_Section):
    monthly: Cost = _f(Fixed(50_000.0), "Monthly budget", "$ per month",
                       "Marketing budget in month 0.")
    growth_monthly: Growth = _f(Fixed(0.0), "Budget growth", "per month",
                                "Budget in month t is monthly x (1 + growth)^t.")
    split: Split = Field(default_factory=Split)


class Cold(_Section):
    cost_per_thousand: Amount = _f(Fixed(10.0), "Cost per 1,000 impressions", "$",
                                   "What cold traffic costs (CPM).")
    engagement_rate: Rate = _f(Fixed(0.01), "Engagement rate", "per impression",
                               "Share of impressions that become leads (on fresh prospects).")
    lead_decay_monthly: Rate = _f(Fixed(0.10), "Lead decay", "per month",
                                  "Share of warm leads who go cold each month.")


class Warm(_Section):
    conversion_no_spend: Rate = _f(Fixed(0.002), "Conversion with no warm spend", "per month",
                                   "Share of leads who buy each month without nurturing.")
    conversion_max: Rate = _f(Fixed(0.05), "Conversion ceiling", "per month",
                              "Share of leads who buy each month with unlimited nurturing.")
    spend_scale: Amount = _f(Fixed(3.0), "Warm spend scale", "$ per lead",
                             "Spend per lead that closes 63% of the gap to the ceiling.")


class Sbg(_Section):
    alpha: Shape = _f(Fixed(0.7), "Churn shape alpha", "", "Shifted-beta-geometric alpha.")
    beta: Shape = _f(Fixed(1.2), "Churn shape beta", "", "Shifted-beta-geometric beta.")


class Churn(_Section):
    monthly: Rate | None = _f(None, "Monthly churn", "per month",
                              "Share of customers lost each month with no retention spend.")
    sbg: Sbg | None = None

    @model_validator(mode="before")
    @classmethod
    def _default_monthly(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and not data:
            return {"monthly": 0.10}
        return data

    @model_validator(mode="after")
    def _exactly_one(self) -> Churn:
        if (self.monthly is None) == (self.sbg is None):
            raise _problem(
                "give exactly one of monthly (a constant monthly churn rate) or "
                "sbg: {alpha, beta} (churn that falls with tenure)")
        return self


class Hot(_Section):
    churn: Churn = Field(default_factory=lambda: Churn(monthly=Fixed(0.10)))
    churn_unpreventable: Rate = _f(Fixed(0.3), "Unpreventable churn", "share",
                                   "Part of churn that no retention spend can stop.")
    repeat_no_spend: Rate = _f(Fixed(0.10), "Repeat rate with no spend", "per month",
                               "Share of customers who order again each month unprompted.")
    repeat_max: Rate = _f(Fixed(0.35), "Repeat rate ceiling", "per month",
                          "Share of customers who order again each month at saturation.")
    spend_scale: Amount = _f(Fixed(4.0), "Retention spend scale", "$ per customer",
                             "Spend per customer that closes 63% of the gap to the ceiling.")


class Orders(_Section):
    first_value: Amount = _f(Fixed(60.0), "First order value", "$",
                             "Average value of a first order.")
    repeat_value: Amount = _f(Fixed(100.0), "Repeat order value", "$",
                              "Average value of a repeat order.")
    gross_margin: Rate = _f(Fixed(0.5), "Gross margin", "share of revenue",
                            "Revenue left after the cost of goods.")


class Guarantee(_Section):
    days: Days = _f(30, "Guarantee length", "days", "Money-back guarantee offered.")
    reference_days: Days = _f(30, "Reference length", "days",
                              "Guarantee length at which the return rate below was measured.")
    return_rate_at_reference: Rate = _f(Fixed(0.05), "Return rate at reference", "share of orders",
                                        "Share of orders returned under the reference guarantee.")
    return_elasticity: Elasticity = _f(
        Fixed(0.169), "Return elasticity", "",
        "Returns scale with (days / reference)^elasticity; 0.169 doubles them at 5 years.")
    conversion_elasticity: Elasticity = _f(
        Fixed(0.0), "Conversion elasticity", "",
        "Conversion scales with (days / reference)^elasticity.")
    handling_cost: Cost = _f(Fixed(8.0), "Handling cost", "$ per return",
                             "Cost of processing one return.")
    resale_share: Rate = _f(Fixed(0.5), "Resale share", "share of goods cost",
                            "Part of a returned item's cost recovered by reselling it.")


#: Notes on where a field's value came from (`sources`): characters per note, notes per file.
MAX_SOURCE_CHARS = 300
MAX_SOURCES = 100


class Scenario(BaseModel):
    """One business and its plan (the file format: README "Scenario files"; the model it
    feeds: docs/model.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    schema_version: Literal[1] = Field(default=1, alias="schema")
    name: str = Field(default="Untitled scenario", min_length=1, max_length=120)
    description: str = Field(default="", max_length=2000)
    simulation: Simulation = Field(default_factory=Simulation)
    finance: Finance = Field(default_factory=Finance)
    market: Market = Field(default_factory=Market)
    budget: Budget = Field(default_factory=Budget)
    cold: Cold = Field(default_factory=Cold)
    warm: Warm = Field(default_factory=Warm)
    hot: Hot = Field(default_factory=Hot)
    orders: Orders = Field(default_factory=Orders)
    guarantee: Guarantee = Field(default_factory=Guarantee)
    # Where a field's value came from (dotted path -> note), e.g. a calibration from data;
    # written only when there is a note, so files without notes keep their bytes.
    sources: dict[str, str] = Field(default_factory=dict)
    variants: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @field_validator("sources", mode="before")
    @classmethod
    def _check_sources(cls, raw: Any) -> Any:
        # Imported here: the catalog is built from this model.
        from sim.scenario.catalog import _catalog

        if not isinstance(raw, Mapping):
            raise _problem("expected a mapping of field path: note (where the value came from)")
        if len(raw) > MAX_SOURCES:
            raise _problem(f"at most {MAX_SOURCES} notes, got {len(raw)}")
        fields = {info.path for info in _catalog() if info.kind != "choice"}
        for path, note in raw.items():
            if path not in fields:
                hint = difflib.get_close_matches(str(path), sorted(fields), n=1, cutoff=0.6)
                did = f" (did you mean {hint[0]!r}?)" if hint else ""
                raise _problem(f"{path!r} names no numeric field{did}; a note's key is a "
                               "field's dotted path such as orders.first_value")
            if not isinstance(note, str) or not note.strip():
                raise _problem(f"{path}: the note must be text saying where the value came "
                               "from")
            if len(note) > MAX_SOURCE_CHARS:
                raise _problem(f"{path}: the note has {len(note)} characters; at most "
                               f"{MAX_SOURCE_CHARS}")
        return dict(raw)

    def to_file_dict(self) -> dict[str, Any]:
        """Return the scenario as plain data in schema order, as it is written to a file."""
        data = self.model_dump(by_alias=True, mode="python", exclude_none=True)
        if not data["sources"]:
            del data["sources"]
        data["variants"] = copy.deepcopy(self.variants)
        return data

    def canonical(self) -> str:
        """Return the scenario as its YAML text: a stable key for caches and equality.

        Kept per object (the model is frozen): a page asks for it a dozen times per rerun (cache
        keys of every simulation call), and writing the YAML costs about 20 ms each time.
        """
        key = id(self)
        text = _CANONICAL_TEXT.get(key)
        if text is None:
            # Imported here: the YAML writer itself needs this model.
            from sim.scenario.yaml_io import dump_scenario

            text = dump_scenario(self)
            _CANONICAL_TEXT[key] = text
            # Forget the text when the object goes, before its id can be reused.
            weakref.finalize(self, _CANONICAL_TEXT.pop, key, None)
        return text

    def __hash__(self) -> int:
        return hash(self.canonical())

    def variant_names(self) -> list[str]:
        """Return the variant names in file order."""
        return list(self.variants)

