"""Run an expectation suite (YAML, ideal/validate/suites/) with Great Expectations.

The frame handed to GX is the submission plus a few derived columns (the parsed number,
the period's first month, whether a count is whole) so every rule is a plain GX
expectation. Failures come back as one row per (rule, source row), capped per rule so a
file that fails everywhere stays fast (GX is much slower listing every failing index).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from importlib.resources import files

import pandas as pd

from ideal import reference
from ideal.contracts import FINDING_FRAME, findings_frame
from ideal.frames import per_unique
from ideal.i18n import Said, tr
from ideal.safe_load import yaml_file, yaml_text
from ideal.validate.gx import VERDICTS, Validator, checked_out, rule_key, value_key

logging.getLogger("great_expectations").setLevel(logging.WARNING)

SUITES = files("ideal.validate") / "suites"
ROWS_PER_RULE = 50
# Every rule on one column is checked once per distinct value of that column (failing values
# are mapped back to their rows); only rules across columns (duplicate keys) run on every row.
NUMERIC = ("period_start", "value_number")
NOT_REMEMBERED = ("value_number",)  # the reported numbers: new in almost every file


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


@cache
def rules() -> dict[str, dict]:
    """rule -> {title, fix} in English (msgids of the translation catalogues)."""
    return yaml_text((files("ideal.validate") / "rules.yaml").read_text(encoding="utf-8"), "rules.yaml")


def load_suite(name: str = "template") -> dict:
    """The expectation suite (a copy: a caller cannot change the one kept)."""
    return copy.deepcopy(_suite_file(name))


@cache
def _suite_file(name: str) -> dict:
    return yaml_file(SUITES / f"{name}.yaml")


def suite_parameters(submitter: str, members: tuple[str, ...], today: date,
                     regions: Iterable[str] | None = None) -> dict:
    """Values for the suite's $names. Region code lists are the submitter's own country's:
    a steward may only send rows of their country, and GX copies each value set many times
    per expectation, so short lists keep validation fast. A country with municipalities
    (thousands of codes) gets only those among ``regions``, the codes the submission uses
    (all of them when not given): the verdict on each code is the same."""
    if submitter not in members:
        own = [submitter]
    else:
        # its regions, its own code (a national total) and its remainder (rows of no region)
        first = set(reference.regions([submitter])["region"]) | {submitter, reference.no_region(submitter)}
        municipal = set(reference.municipalities([submitter])["region"])
        own = sorted(first | (municipal if regions is None else municipal & set(regions)))
    return {
        "submitter": [submitter],
        "members": list(members),
        "regions": own,
        "country_regions": [f"{submitter}|{r}" for r in own],
        "crime_types": reference.submittable_crime_types(),
        "indicators": reference.indicators()["code"].tolist(),
        "this_month": today.year * 100 + today.month,
    }


def _period_start(p: pd.Series) -> pd.Series:
    p = p.fillna("").astype(str)
    year = pd.to_numeric(p.str.slice(0, 4), errors="coerce")
    quarter = pd.to_numeric(p.str.extract(r"^\d{4}-Q([1-4])$")[0], errors="coerce")
    month = pd.to_numeric(p.str.extract(r"^\d{4}-(\d{2})$")[0], errors="coerce")
    first = month.fillna((quarter - 1) * 3 + 1).fillna(1)
    return (year * 100 + first).where(year.notna())


def period_start(period: pd.Series) -> pd.Series:
    """First month of a period as YYYYMM (2025 -> 202501, 2025-Q2 -> 202504); NaN if unparseable."""
    return per_unique(period, _period_start).astype("float64")


def check_frame(df: pd.DataFrame) -> pd.DataFrame:
    """The canonical frame with empty strings as nulls and the derived columns the suite uses."""
    text = df.drop(columns=["source_row", "value_number"]).replace("", None)
    number = df["value_number"]
    counts = reference.indicators().query("kind == 'count'")["code"].tolist()
    whole = ~df["indicator"].isin(counts) | number.isna() | (number == number.round())
    present = number.notna() | df["obs_status"].eq("M").fillna(False)
    if "action" in df:
        present |= df["action"].eq("D").fillna(False)
    repeated = df.duplicated(["region", "period", "crime_type", "indicator"], keep=False)
    return text.assign(source_row=df["source_row"], value_number=number,
                       value_present=present.astype(bool), key_repeated=repeated,
                       country_region=df["country"].astype(str) + "|" + df["region"].astype(str),
                       period_start=period_start(df["period"]), count_is_whole=whole)


def warm_up(members: tuple[str, ...] = (), today: date | None = None) -> None:
    """Build a validator now (the first costs about a second: Great Expectations' import and
    context), and with ``members`` judge every code a steward of each may send (regions,
    crime types, indicators, statuses, periods of the last years), so that the first files
    of a reporting deadline do not wait for Great Expectations' first judgements."""
    with checked_out():
        pass
    today = today or date.today()
    for cc in members:
        validate_submission(_every_code(cc, today), cc, members, today=today)


def _every_code(country: str, today: date) -> pd.DataFrame:
    """A canonical frame holding every code a steward of ``country`` may use (each column
    cycles through its list)."""
    years = range(today.year - 11, today.year + 1)
    periods = [str(y) for y in years] + [f"{y}-Q{q}" for y in years for q in range(1, 5)] + \
              [f"{y}-{m:02d}" for y in years for m in range(1, 13)]
    lists = {"region": reference.regions([country])["region"].tolist() + [country, reference.no_region(country)],
             "period": periods, "crime_type": reference.submittable_crime_types(),
             "indicator": reference.indicators()["code"].tolist(), "obs_status": ["A", "E", "P", "M"]}
    n = max(len(v) for v in lists.values())
    frame = pd.DataFrame({k: [v[i % len(v)] for i in range(n)] for k, v in lists.items()})
    return frame.assign(country=country, value="0", value_number=0.0, action="I",
                        source_row=range(2, n + 2))


def _exception(entry: dict, result) -> list[tuple] | None:
    if result.exception_info and result.exception_info.get("raised_exception"):
        msg = result.exception_info.get("exception_message", "validation could not run")
        return [("error", entry["rule"], entry["column"], None, None, f"{entry['rule']}: {msg}")]
    return None


def _failures(result, entries: list[dict]):
    """(entry, GX result, findings if the expectation raised instead of running) for each
    expectation that failed."""
    by_rule = {e["rule"]: e for e in entries}
    for res in result.results:
        if not res.success:
            entry = by_rule[res.expectation_config.meta["rule"]]
            yield entry, res, _exception(entry, res)


def _rows(entry: dict, hits: pd.DataFrame, count: int) -> list[tuple]:
    """Findings for the first ROWS_PER_RULE failing rows (source_row + display value), plus a
    line for the rest."""
    fix = tr(rules()[entry["rule"]]["fix"])  # a msgid of the catalogues
    out = [(entry["severity"], entry["rule"], entry["column"], int(r), "" if v is None or
            (isinstance(v, float) and pd.isna(v)) else str(v), fix)
           for r, v in zip(hits["source_row"], hits["value"], strict=False)]
    if count > len(out):
        out.append((entry["severity"], entry["rule"], entry["column"], None, None,
                    tr("... and %(n)s more rows fail the rule %(rule)s.", n=count - len(out),
                       rule=entry["rule"]),
                    count - len(out)))
    return out


def _row_level(entry: dict) -> bool:
    kw = entry["kwargs"]
    return "column" not in kw or "row_condition" in kw


def _validate_rows(entries, params, frame, validator: Validator) -> dict[str, list]:
    """Expectations on numbers and row keys: on every row (vectorised in GX)."""
    result = validator.validate(frame, entries, params, {
        "result_format": "SUMMARY", "unexpected_index_column_names": ["source_row"],
        "partial_unexpected_count": ROWS_PER_RULE})
    out = {}
    for entry, res, failed in _failures(result, entries):
        if failed is None:
            rows = [int(h["source_row"]) for h in res.result.get("partial_unexpected_index_list") or []]
            shown = frame.set_index("source_row").loc[rows, entry["column"]] if rows else pd.Series(dtype=object)
            hits = pd.DataFrame({"source_row": rows, "value": list(shown)})
            failed = _rows(entry, hits, int(res.result.get("unexpected_count") or len(rows)))
        out[entry["rule"]] = (int(res.result.get("unexpected_count") or 1), failed)
    return out


def _judge(entries, params, values: dict[str, pd.Series], validator: Validator) -> dict:
    """rule -> the set of positions (in ``values`` of its column) that fail, or the findings
    of an expectation that raised instead of running. GX checks each value once, in one small
    frame (each column's values, padded to equal length by repeating its first value)."""
    columns = sorted({e["kwargs"]["column"] for e in entries})
    length = max(len(values[c]) for c in columns)
    codes = pd.DataFrame({c: pd.concat([values[c], pd.Series([values[c].iloc[0]] * (length - len(values[c])),
                                                               dtype="object")], ignore_index=True)
                          for c in columns})
    codes = codes.assign(_i=range(length))
    for c in NUMERIC:  # numeric columns: keep them numeric for GX's between
        if c in codes:
            codes[c] = pd.to_numeric(codes[c])
    result = validator.validate(codes, entries, params, {
        "result_format": "COMPLETE", "unexpected_index_column_names": ["_i"]})
    out = {e["rule"]: set() for e in entries}
    for entry, res, failed in _failures(result, entries):
        n = len(values[entry["kwargs"]["column"]])
        out[entry["rule"]] = failed if failed is not None else {
            int(h["_i"]) for h in res.result.get("unexpected_index_list") or [] if int(h["_i"]) < n}
    return out


def _validate_codes(entries, params, frame, validator: Validator) -> dict[str, list]:
    """Expectations on column values: judged on each column's distinct values (verdicts
    already known are reused, the rest go to GX in one call); failing values are then mapped
    back to the rows that carry them."""
    columns = sorted({e["kwargs"]["column"] for e in entries})
    distinct = {c: pd.Series(pd.unique(frame[c]), dtype="object") for c in columns}
    shown = {c: [value_key(v) for v in distinct[c]] for c in columns}
    rule_keys = {e["rule"]: rule_key(e, params) for e in entries}
    known = {e["rule"]: VERDICTS.known(rule_keys[e["rule"]], shown[e["kwargs"]["column"]]) for e in entries}
    todo = [e for e in entries if len(known[e["rule"]]) < len(distinct[e["kwargs"]["column"]])]
    raised = {}
    if todo:
        # every distinct value of the columns still to judge (a value's verdict does not
        # depend on the others: these are column-map expectations)
        fresh = _judge(todo, params, {c: distinct[c] for c in {e["kwargs"]["column"] for e in todo}},
                       validator)
        for e in todo:
            result = fresh[e["rule"]]
            if isinstance(result, list):  # the expectation raised: nothing kept
                raised[e["rule"]] = result
                continue
            verdicts = {v: i in result for i, v in enumerate(shown[e["kwargs"]["column"]])}
            known[e["rule"]] = verdicts
            if e["kwargs"]["column"] not in NOT_REMEMBERED:
                VERDICTS.put(rule_keys[e["rule"]], verdicts)
    out = {}
    for entry in entries:
        if entry["rule"] in raised:
            out[entry["rule"]] = (1, raised[entry["rule"]])
            continue
        column = entry["kwargs"]["column"]
        failing = [v for v, key in zip(distinct[column], shown[column], strict=True)
                   if known[entry["rule"]][key]]
        if not failing:
            continue
        bad_values = pd.Series(failing, dtype="object")
        mask = frame[column].isin(bad_values.dropna())
        if bad_values.isna().any():
            mask |= frame[column].isna()
        hits = frame.loc[mask, ["source_row", entry["column"]]].head(ROWS_PER_RULE)
        count = int(mask.sum())
        out[entry["rule"]] = (count, _rows(entry, hits.set_axis(["source_row", "value"], axis=1), count))
    return out


FOLD_SHOWN = 10


def fold(findings: pd.DataFrame) -> pd.DataFrame:
    """Identical warnings (same rule, column, value and message) on several rows become one
    line with the number of rows and the first of them (errors stay one line per row: the
    steward corrects each)."""
    findings = findings if "rows" in findings else findings.assign(rows=1)
    findings = findings if "said" in findings else findings.assign(said=None)
    if len(findings) < 2:
        return findings
    key = ["severity", "rule", "column", "value", "message"]
    filled = findings.assign(**{k: findings[k].astype(object).where(findings[k].notna(), "") for k in key})
    sizes = filled.groupby(key, sort=False, dropna=False)["row"].transform("size")
    sizes = sizes.where(findings["severity"].ne("error"), 1)
    if (sizes <= 1).all():
        return findings
    single = findings[sizes.to_numpy() <= 1]
    many = []
    for _, group in findings[sizes.to_numpy() > 1].groupby(
            [filled.loc[sizes > 1, k] for k in key], sort=False):
        rows = sorted(int(r) for r in group["row"].dropna())
        first = group.iloc[0]
        shown = ", ".join(map(str, rows[:FOLD_SHOWN])) + (" ..." if len(rows) > FOLD_SHOWN else "")
        said = first.get("said")
        message = (Said(first["message"], said if isinstance(said, list) else None) + " [" + (
            tr("%(n)s rows: %(rows)s", n=int(group["rows"].sum()), rows=shown) if rows
            else tr("%(n)s rows", n=int(group["rows"].sum()))) + "]")
        many.append({**first.to_dict(), "row": rows[0] if rows else None, "rows": int(group["rows"].sum()),
                     "message": str(message), "said": message.parts})
    return pd.concat([single, pd.DataFrame(many, columns=findings.columns)], ignore_index=True)


def validate_submission(df: pd.DataFrame, submitter: str, members: tuple[str, ...],
                        today: date | None = None, suite: str = "template",
                        extra: pd.DataFrame | None = None) -> ValidationReport:
    """Validate a canonical frame (ingest.formats.read_submission) for one steward; ``extra``
    are findings made while reading (crosswalk profiles), merged into the report."""
    spec = load_suite(suite)
    params = suite_parameters(submitter, members, today or date.today(), pd.unique(df["region"]))
    frame = check_frame(df)
    entries = spec["expectations"]
    row_level = [e for e in entries if _row_level(e)]
    with checked_out() as validator:
        results = _validate_rows(row_level, params, frame, validator) if row_level else {}
        results |= _validate_codes([e for e in entries if not _row_level(e)], params, frame,
                                   validator)
    findings, unexpected = [], {}
    for entry in entries:  # in suite order
        if entry["rule"] in results:
            unexpected[entry["rule"]], rows = results[entry["rule"]]
            findings += rows
    severity = {e["rule"]: e["severity"] for e in spec["expectations"]}
    frames = [findings_frame(findings)]
    if extra is not None and not extra.empty:
        extra = extra if "rows" in extra else extra.assign(rows=1)
        extra = extra if "said" in extra else extra.assign(said=None)
        frames.append(extra[FINDING_FRAME])
        for rule, group in extra.groupby("rule"):  # the rows each finding stands for
            unexpected[rule] = unexpected.get(rule, 0) + int(group["rows"].fillna(1).sum())
            severity[rule] = group["severity"].iloc[0]
    out = fold(pd.concat([f for f in frames if not f.empty] or frames, ignore_index=True))
    out = out.astype({"row": "Int64"}).sort_values(["severity", "row", "rule"], na_position="last",
                                                   ignore_index=True)
    return ValidationReport(findings=out, rows_total=len(df), unexpected=unexpected,
                            _severity=severity)
