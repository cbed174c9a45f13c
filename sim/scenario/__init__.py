"""The scenario: one business and its plan, as a validated, frozen model.

This package is the single place that reads, checks, changes and writes scenarios. Its
modules, by job:

- `kinds`: what values a field accepts (`Kind`, `KINDS`) and how a bad value is reported;
- `schema`: the pydantic model (`Scenario` and its sections), each field with label and unit;
- `catalog`: `field_catalog` lists every field with its label, unit and help;
- `messages`: validation errors as ``dotted.path: what is wrong and what is allowed``;
- `yaml_io`: `load_scenario_text` / `load_scenario_file` read YAML safely (size cap, no aliases
  or anchors, no duplicate keys, no tags, bounded nesting); `dump_scenario` writes keys in
  schema order with a header comment, so that save -> load -> save is byte-identical;
- `overrides`: `build_scenario`, `apply_overrides` (dotted overrides such as
  ``{"guarantee.days": 365}``, as share links use), `variant_scenario`, `changed_fields`;
- `renamed`: `RENAMED_VARIANTS`, the shipped variants' old names (ratio notation) and new ones.

Every problem is reported as ``dotted.path: what is wrong and what is allowed`` and nothing is
changed when a problem is found: callers get a `ScenarioError` listing all of them. Import from
`sim.scenario`; the names below are its public interface.
"""

from sim.scenario.catalog import FieldInfo, field_catalog, field_info
from sim.scenario.kinds import (
    KINDS,
    Amount,
    Cost,
    Count,
    Days,
    Discount,
    Elasticity,
    Growth,
    Horizon,
    Kind,
    Rate,
    ScenarioError,
    Seed,
    Shape,
    Share,
    Tenure,
    Trials,
    parse_value,
)
from sim.scenario.messages import MAX_PROBLEMS
from sim.scenario.overrides import (
    apply_overrides,
    build_scenario,
    changed_fields,
    dotted_to_nested,
    flat_fields,
    merge_overrides,
    variant_scenario,
    without_variants,
)
from sim.scenario.renamed import RENAMED_VARIANTS, renamed_variant
from sim.scenario.schema import (
    MAX_SOURCE_CHARS,
    MAX_SOURCES,
    SCHEMA_VERSION,
    Budget,
    Churn,
    Cold,
    Finance,
    Guarantee,
    Hot,
    Market,
    Orders,
    Sbg,
    Scenario,
    Simulation,
    Split,
    Warm,
)
from sim.scenario.yaml_io import (
    FOLD_TEXT_AT,
    HEADER,
    MAX_FILE_BYTES,
    MAX_NESTING,
    dump_scenario,
    load_scenario_file,
    load_scenario_text,
    parse_scalar,
    parse_yaml,
)

__all__ = [
    "FOLD_TEXT_AT",
    "HEADER",
    "KINDS",
    "MAX_FILE_BYTES",
    "MAX_NESTING",
    "MAX_PROBLEMS",
    "MAX_SOURCES",
    "MAX_SOURCE_CHARS",
    "RENAMED_VARIANTS",
    "SCHEMA_VERSION",
    "Amount",
    "Budget",
    "Churn",
    "Cold",
    "Cost",
    "Count",
    "Days",
    "Discount",
    "Elasticity",
    "FieldInfo",
    "Finance",
    "Growth",
    "Guarantee",
    "Horizon",
    "Hot",
    "Kind",
    "Market",
    "Orders",
    "Rate",
    "Sbg",
    "Scenario",
    "ScenarioError",
    "Seed",
    "Shape",
    "Share",
    "Simulation",
    "Split",
    "Tenure",
    "Trials",
    "Warm",
    "apply_overrides",
    "build_scenario",
    "changed_fields",
    "dotted_to_nested",
    "dump_scenario",
    "field_catalog",
    "field_info",
    "flat_fields",
    "load_scenario_file",
    "load_scenario_text",
    "merge_overrides",
    "parse_scalar",
    "parse_value",
    "parse_yaml",
    "renamed_variant",
    "variant_scenario",
    "without_variants",
]
