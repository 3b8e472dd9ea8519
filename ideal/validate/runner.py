"""Run an expectation suite (YAML, ideal/validate/suites/) with Great Expectations.

The frame handed to GX is the submission plus a few derived columns (the parsed number,
the period's first month, whether a count is whole) so every rule is a plain GX
expectation. Failures come back as one row per (rule, source row), capped per rule so a
file that fails everywhere stays fast (GX is much slower listing every failing index).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from importlib.resources import files

import pandas as pd
import yaml

from ideal import reference

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
logging.getLogger("great_expectations").setLevel(logging.WARNING)

SUITES = files("ideal.validate") / "suites"
ROWS_PER_RULE = 50
FINDING_COLUMNS = ["severity", "rule", "column", "row", "value", "message"]


@dataclass
class ValidationReport:
    findings: pd.DataFrame
    rows_total: int
    unexpected: dict[str, int] = field(default_factory=dict)  # rule -> failing row count

    @property
    def errors(self) -> pd.DataFrame:
        return self.findings[self.findings["severity"] == "error"]

    @property
    def warnings(self) -> pd.DataFrame:
        return self.findings[self.findings["severity"] == "warning"]

    @property
    def n_errors(self) -> int:
        return sum(n for r, n in self.unexpected.items() if self._severity[r] == "error")

    @property
    def n_warnings(self) -> int:
        return sum(n for r, n in self.unexpected.items() if self._severity[r] == "warning")

    @property
    def ok(self) -> bool:
        return self.n_errors == 0

    _severity: dict[str, str] = field(default_factory=dict, repr=False)


@lru_cache(maxsize=None)
def rules() -> dict[str, dict]:
    """rule -> {title, fix} in English (msgids of the translation catalogues)."""
    with (files("ideal.validate") / "rules.yaml").open("r", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def load_suite(name: str = "template") -> dict:
    with (SUITES / f"{name}.yaml").open("r", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def suite_parameters(submitter: str, members: tuple[str, ...], today: date) -> dict:
    regions = reference.regions(members)
    pairs = [(c, r) for c, r in zip(regions["country"], regions["region"])] + [(c, c) for c in members]
    return {
        "submitter": [submitter],
        "members": list(members),
        "regions": sorted(reference.valid_region_codes(members)),
        "country_regions": pairs,
        "crime_types": reference.iccs()["code"].tolist(),
        "indicators": reference.indicators()["code"].tolist(),
        "this_month": today.year * 100 + today.month,
    }


def resolve(kwargs: dict, params: dict) -> dict:
    return {k: params[v[1:]] if isinstance(v, str) and v.startswith("$") else v
            for k, v in kwargs.items()}


def period_start(period: pd.Series) -> pd.Series:
    """First month of a period as YYYYMM (2025 -> 202501, 2025-Q2 -> 202504); NaN if unparseable."""
    p = period.fillna("")
    year = pd.to_numeric(p.str.slice(0, 4), errors="coerce")
    quarter = pd.to_numeric(p.str.extract(r"^\d{4}-Q([1-4])$")[0], errors="coerce")
    month = pd.to_numeric(p.str.extract(r"^\d{4}-(\d{2})$")[0], errors="coerce")
    first = month.fillna((quarter - 1) * 3 + 1).fillna(1)
    return (year * 100 + first).where(year.notna())


def check_frame(df: pd.DataFrame) -> pd.DataFrame:
    """The canonical frame with empty strings as nulls and the derived columns the suite uses."""
    text = df.drop(columns=["source_row", "value_number"]).replace("", None)
    number = df["value_number"]
    counts = reference.indicators().query("kind == 'count'")["code"].tolist()
    whole = ~df["indicator"].isin(counts) | number.isna() | (number == number.round())
    return text.assign(source_row=df["source_row"], value_number=number,
                       period_start=period_start(df["period"]), count_is_whole=whole)


@lru_cache(maxsize=1)
def _batch_definition():
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    asset = context.data_sources.add_pandas("submissions").add_dataframe_asset("observations")
    return asset.add_batch_definition_whole_dataframe("whole")


def _findings(entry: dict, result, frame: pd.DataFrame) -> list[tuple]:
    column = entry["column"]
    rows = result.result.get("partial_unexpected_index_list") or []
    if result.exception_info and result.exception_info.get("raised_exception"):
        msg = result.exception_info.get("exception_message", "validation could not run")
        return [("error", entry["rule"], column, None, None, f"{entry['rule']}: {msg}")]
    out = []
    for hit in rows:
        row = int(hit["source_row"])
        value = frame.loc[frame["source_row"] == row, column].iloc[0] if column in frame else None
        shown = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
        out.append((entry["severity"], entry["rule"], column, row, shown, rules()[entry["rule"]]["fix"]))
    count = result.result.get("unexpected_count") or 0
    if count > len(rows):
        out.append((entry["severity"], entry["rule"], column, None, None,
                    f"... and {count - len(rows)} more rows fail the rule {entry['rule']}."))
    return out


def validate_submission(df: pd.DataFrame, submitter: str, members: tuple[str, ...],
                        today: date | None = None, suite: str = "template",
                        extra: pd.DataFrame | None = None) -> ValidationReport:
    """Validate a canonical frame (ingest.formats.read_submission) for one steward; ``extra``
    are findings made while reading (crosswalk profiles), merged into the report."""
    from great_expectations.core.expectation_suite import ExpectationSuite
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    spec = load_suite(suite)
    params = suite_parameters(submitter, members, today or date.today())
    frame = check_frame(df)
    batch_definition = _batch_definition()  # creates the GX context the suite needs
    gx_suite = ExpectationSuite(name=spec["name"])
    for entry in spec["expectations"]:
        # add_expectation keeps two rules on the same column apart (the *_configuration
        # upsert would merge them by domain)
        gx_suite.add_expectation(ExpectationConfiguration(
            type=entry["type"], kwargs=resolve(entry["kwargs"], params),
            meta={"rule": entry["rule"]}).to_domain_obj())
    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
    result = batch.validate(gx_suite, result_format={
        "result_format": "SUMMARY", "unexpected_index_column_names": ["source_row"],
        "partial_unexpected_count": ROWS_PER_RULE})
    by_rule = {e["rule"]: e for e in spec["expectations"]}
    findings, unexpected = [], {}
    for res in result.results:
        entry = by_rule[res.expectation_config.meta["rule"]]
        if res.success:
            continue
        unexpected[entry["rule"]] = int(res.result.get("unexpected_count") or 1)
        findings += _findings(entry, res, frame)
    severity = {e["rule"]: e["severity"] for e in spec["expectations"]}
    frames = [pd.DataFrame(findings, columns=FINDING_COLUMNS)]
    if extra is not None and not extra.empty:
        frames.append(extra[FINDING_COLUMNS])
        for rule, group in extra.groupby("rule"):
            unexpected[rule] = unexpected.get(rule, 0) + len(group)
            severity[rule] = group["severity"].iloc[0]
    out = pd.concat([f for f in frames if not f.empty] or frames, ignore_index=True)
    out = out.astype({"row": "Int64"}).sort_values(["severity", "row", "rule"], na_position="last",
                                                   ignore_index=True)
    return ValidationReport(findings=out, rows_total=len(df), unexpected=unexpected,
                            _severity=severity)
