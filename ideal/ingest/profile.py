"""Crosswalk profiles: what one national export looks like and how it maps to canonical rows.

A profile is YAML a steward or analyst writes (or `ideal profile new` starts from a file);
the schema is the pydantic models below, published as docs/profile.schema.json. A malformed
profile is refused with the key, its line in the YAML and what was expected. Profiles are
found by ideal.ingest.registry, by name only, never by path.
"""

from __future__ import annotations

import csv
import io
import re
from functools import cache
from pathlib import Path
from typing import Literal

import pycountry
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ideal import reference
from ideal.errors import ProfileError, UnsafeInput
from ideal.i18n import tr
from ideal.safe_load import yaml_node

NAME = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
# every indicator of the reference list (reference/data/indicators.csv): a national export of
# firearms seized, hectares deforested or FIU reports maps like one of incidents
INDICATORS = tuple(reference.indicators()["code"])


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Sheet(_Strict):
    """One sheet of a workbook read as part of the submission."""

    name: str = Field(description="The sheet's name as the workbook shows it.")
    indicator: str | None = Field(None, description="The indicator of this sheet's figures when "
                                  "it differs from the profile's (e.g. a 'Víctimas' sheet beside "
                                  "an 'Ocurrencias' sheet).")
    column: str | None = Field(None, description="The column of this sheet's figures when it is not "
                               "the one `values` names (read as the first `values` column). Empty: "
                               "the `values` column, or, in a sheet without any `values` column, the "
                               "column named as the sheet (stated in the feedback).")


class Read(_Strict):
    """Where the data are in the file."""

    sheets: list[Sheet] = Field(default_factory=list, description="Workbook sheets to read, as "
                                "parts of one submission. Empty: the first sheet whose header has "
                                "the `detect` columns (a cover or notes sheet before it is skipped).")
    header_row: int | None = Field(None, ge=1, description="Row number (1 = first) of the column "
                                   "names. Empty: the first of the first 30 rows that holds every "
                                   "`detect` column.")
    encoding: str | None = Field(None, description="Text encoding of a CSV (e.g. cp1252).")
    separator: Literal[",", ";", "\t", "|"] | None = Field(None, description="CSV separator.")
    decimal: Literal[".", ","] | None = Field(None, description="Decimal mark of the figures.")


class Period(_Strict):
    """Where the period of each row comes from: a fixed period, a year column (with an optional
    month or quarter column), or a date column."""

    fixed: str | None = Field(None, description="The one period of a file that does not state it "
                              "in a column, e.g. '2024'.")
    year: str | None = Field(None, description="Column holding the year.")
    month: str | None = Field(None, description="Column holding the month: 1-12, or a name or "
                              "abbreviation in Spanish, Portuguese or English (enero, janeiro, "
                              "Sept.), any case, accents or not.")
    quarter: str | None = Field(None, description="Column holding the quarter: 1-4, Q1, T1, 'I'.")
    date: str | None = Field(None, description="Column holding a date per row (event date).")
    date_format: str | None = Field(None, description="Format of `date`: a strftime pattern such "
                                    "as '%d/%m/%Y' or '%m/%d/%Y', 'iso' or 'excel' (serial day "
                                    "numbers). Empty: detected, and the feedback states it.")
    level: Literal["year", "quarter", "month"] = Field("month", description="With `date`: the "
                                                       "period rows are counted by.")

    @model_validator(mode="after")
    def _one_source(self) -> Period:
        given = [k for k in ("fixed", "year", "date") if getattr(self, k)]
        if len(given) > 1:
            raise ValueError(f"give one of fixed, year or date, not {' and '.join(given)}")
        if (self.month or self.quarter) and not self.year:
            raise ValueError("month and quarter need the year column too (key 'year')")
        if self.month and self.quarter:
            raise ValueError("give month or quarter, not both")
        if self.date_format and not self.date:
            raise ValueError("date_format needs the date column (key 'date')")
        return self


class Region(_Strict):
    """How the region of each row is found."""

    column: str = Field(description="Column holding the region code or name.")
    by: Literal["code", "name"] = Field("code", description="'code': a national code looked up "
                                        "in `crosswalk` (or an ISO 3166-2 code when no crosswalk "
                                        "is given); 'name': the region's name, matched without "
                                        "regard to case, accents and spacing, with `aliases`.")
    crosswalk: str | None = Field(None, description="Reference crosswalk of national codes "
                                  "(ideal/reference/data/crosswalks/<name>.csv).")
    key: str | None = Field(None, description="The crosswalk's column of national codes.")
    pad: int | None = Field(None, ge=1, le=10, description="Zero-pad codes to this width "
                            "(5001 -> 05001).")
    take: int | None = Field(None, ge=1, le=10, description="Use the first N characters of the "
                             "code (a municipal code rolled up to its first-level region).")
    municipal: bool = Field(False, description="The codes are municipal codes of the statistics "
                            "office (IBGE, DANE's DIVIPOLA, INEGI; with `pad`): rows keep their "
                            "municipality (CO-05001), checked against "
                            "ideal/reference/data/municipalities.csv, and the assessment adds "
                            "them up to their first-level region.")
    national: list[str] = Field(default_factory=list, description="Codes or names that mean the "
                                "whole country (national totals).")
    name_column: str | None = Field(None, description="A column of names checked against the "
                                    "codes (a disagreement is a warning; the code is used).")
    name_keys: list[str] = Field(default_factory=lambda: ["nombre"], description="Crosswalk "
                                 "columns holding names, for `name_column` and `by: name`.")
    aliases: dict[str, str] = Field(default_factory=dict, description="Other spellings: national "
                                    "name or code -> ISO 3166-2 code (e.g. 'San José': CR-SJ).")
    unknown: list[str] = Field(default_factory=lambda: ["desconocido", "sin informacion",
                                                       "sin dato", "no informado", "ignorado",
                                                       "sem informacao", "nao informado"],
                               description="Values meaning 'region unknown': those rows are "
                               "counted in the feedback and not loaded.")
    no_region: list[str] = Field(default_factory=list, description="Values of rows that belong to the "
                                 "country but to no first-level region (homicides in prisons, abroad, "
                                 "'no especificado'): kept as the country's remainder (CC-_X), counted "
                                 "in the national figure, listed apart, never ranked, mapped or taken "
                                 "for a national total.")

    @model_validator(mode="after")
    def _crosswalk_key(self) -> Region:
        if self.crosswalk and not self.key:
            raise ValueError("a crosswalk needs its column of national codes (key 'key')")
        if self.municipal and (self.crosswalk or self.take or self.by == "name"):
            raise ValueError("municipal codes are looked up in the reference list of municipalities: "
                             "drop crosswalk, take and by: name")
        return self


def _regex(pattern: str, where: str = "") -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"{where}{pattern!r} is not a regular expression ({exc})") from exc
    return pattern


@cache
def _iccs_codes() -> frozenset[str]:
    """The ICCS codes a submission may carry (ideal/reference/data/iccs.csv, and _T), read
    without pandas: checking a profile stays light (`ideal profile list` in well under 2 s)."""
    # by path: importlib.resources would import ideal.reference, and pandas with it
    text = (Path(__file__).resolve().parent.parent / "reference" / "data" / "iccs.csv").read_text(encoding="utf-8")
    return frozenset([row["code"] for row in csv.DictReader(io.StringIO(text))] + ["_T"])


def _known_iccs(value: str | None) -> str | None:
    if value is not None and value not in _iccs_codes():
        raise ValueError(f"{value!r} is not an ICCS code of IDEAL's list (ideal/reference/data/"
                         "iccs.csv); for a crime outside IDEAL's crime types use out_of_scope")
    return value


class Rule(_Strict):
    """National category -> ICCS code, or out of scope with the reason; first match wins."""

    when: dict[str, str] = Field(description="Column -> regular expression the value must match.")
    iccs: str | None = Field(None, description="The ICCS code the rows are counted under.")
    out_of_scope: str | None = Field(None, description="Why these rows are not one of IDEAL's "
                                     "crime types (listed in the feedback, not loaded).")

    @field_validator("iccs", mode="before")
    @classmethod
    def _code(cls, value):
        if value is not None and not isinstance(value, str):
            raise ValueError(f"write the ICCS code in quotes ('0{value}' or '{value}'): YAML "
                             "reads an unquoted code as a number and drops its leading zero")
        return _known_iccs(value)

    @model_validator(mode="after")
    def _one(self) -> Rule:
        if bool(self.iccs) == bool(self.out_of_scope):
            raise ValueError("each rule gives either iccs or out_of_scope")
        for col, pattern in self.when.items():
            _regex(pattern, f"when.{col}: ")
        return self


class Hierarchy(_Strict):
    """National parent and child categories sent side by side (children sum to the parent)."""

    column: str
    child_pattern: str = Field(description="Regular expression of a child code with the "
                               "parent's code as group 1, e.g. '^(\\d+)_\\d+$'.")
    keep: Literal["parent", "children"] = "parent"

    _pattern = field_validator("child_pattern")(lambda v: _regex(v))


class Category(_Strict):
    """How the national category maps to ICCS."""

    fixed: str | None = Field(None, description="The one ICCS code of a file of one crime type.")
    partial: dict[str, str] = Field(default_factory=dict, description="ICCS classes the export covers "
                                    "only in part, each with the part it covers (e.g. '0401': 'robbery "
                                    "of vehicles, cargo and banks only'): their units are kept apart "
                                    "from the class's ranking and the briefing says so.")
    columns: list[str] = Field(default_factory=list, description="Columns that together name "
                               "the national category.")
    rules: list[Rule] = Field(default_factory=list)
    hierarchy: Hierarchy | None = None
    totals: list[str] = Field(default_factory=lambda: ["total", "total general", "totales",
                                                       "todos", "subtotal"],
                              description="Category or region values that mark totals rows; "
                              "they are not loaded (the parts are).")

    _fixed = field_validator("fixed")(lambda v: _known_iccs(v))

    @model_validator(mode="after")
    def _fixed_or_rules(self) -> Category:
        if not self.fixed and not (self.columns and self.rules):
            raise ValueError("give fixed (one ICCS code) or columns with rules")
        return self


class Value(_Strict):
    """A column of counts and the indicator they are."""

    column: str
    indicator: str = Field(description=f"One of {', '.join(INDICATORS)}.")
    factor: float = Field(1, description="Multiply the figures by this (e.g. 1000 for thousands).")
    empty: Literal["skip", "error"] | None = Field(None, description="'skip': an empty cell is "
                                                   "not a figure (not loaded, counted in the notes).")
    empty_reason: str | None = None

    @field_validator("indicator")
    @classmethod
    def _indicator(cls, value: str) -> str:
        if value not in INDICATORS:
            raise ValueError(f"indicator {value!r}: one of {', '.join(INDICATORS)}")
        return value


class Count(_Strict):
    """Microdata: one row per event or per victim, no count column; rows are counted."""

    indicator: str = Field(description="What one row is: incidents (one event) or victims.")
    weight: str | None = Field(None, description="A column of weights summed instead of counting rows.")

    _indicator = field_validator("indicator")(Value._indicator.__func__)


class Wide(_Strict):
    """Months or years as columns: each matching column is a period's figure."""

    columns: str = Field(description="Regular expression matching the header of every period "
                         "column, e.g. '^(19|20)\\d\\d$' or '(?i)^(ene|feb|mar|abr|may|jun|jul|ago|sep|oct|nov|dic)'.")
    period: Literal["year", "month"] = Field(description="What a column header is: a year, or a "
                                             "month (name or number; the year from period.year).")
    indicator: str

    _indicator = field_validator("indicator")(Value._indicator.__func__)

    _columns = field_validator("columns")(lambda v: _regex(v))


class Rate(_Strict):
    column: str
    count: str
    per: int = 100_000
    annualised_monthly: bool = False


class Unique(_Strict):
    columns: list[str]
    within: list[str] = Field(default_factory=list)
    show: str | None = None
    rule: str
    severity: Literal["error", "warning"] = "warning"
    message: str


class Profile(_Strict):
    """A crosswalk profile (see the README, 'Crosswalk profiles', for every key with an example)."""

    name: str = Field(description="Lowercase letters, digits and _; the name stewards choose.")
    title: str = Field(description="What the export is, for people.")
    country: str = Field(description="ISO 3166-1 alpha-2 code of the country the export is from.")
    version: int = Field(1, ge=1)
    detect: list[str] = Field(min_length=1, description="Columns whose presence identifies the "
                              "export (also used to find the sheet and header row).")
    read: Read = Field(default_factory=Read)
    period: Period = Field(default_factory=Period)
    region: Region
    category: Category
    values: list[Value] = Field(default_factory=list, description="Aggregated counts: the "
                                "columns of figures.")
    count: Count | None = Field(None, description="Microdata: count rows instead of reading figures.")
    wide: Wide | None = Field(None, description="Periods as columns.")
    rates: list[Rate] = Field(default_factory=list, description="Stated rates checked against "
                              "count / population.")
    unique: list[Unique] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list, description="Stated in every feedback.")
    status: Literal["A", "E", "P"] | dict[int | str, Literal["A", "E", "P"]] | None = Field(
        None, description="SDMX observation status of the figures when the source says it (a cover "
        "sheet stating 'cifras provisionales'): P provisional, E estimated, A normal; one letter for "
        "the whole file, or per year ({'2025': P}). Stated in the feedback; the scores' reliability "
        "counts P and E as estimated.")

    @field_validator("status")
    @classmethod
    def _status(cls, value):
        if isinstance(value, dict):
            bad = [k for k in value if not re.fullmatch(r"\d{4}", str(k))]
            if bad:
                raise ValueError(f"per year: the keys are years such as '2025', not {', '.join(map(str, bad))}")
            return {str(k): v for k, v in value.items()}
        return value

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME.match(value):
            raise ValueError("lowercase letters, digits and _ (2-64 characters, a letter first)")
        return value

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        if pycountry.countries.get(alpha_2=str(value).upper()) is None:
            raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code")
        return str(value).upper()

    @model_validator(mode="after")
    def _one_shape(self) -> Profile:
        shapes = [k for k in ("values", "count", "wide") if getattr(self, k)]
        if len(shapes) != 1:
            raise ValueError("give exactly one of values (counts in columns), count (one row "
                             f"per event or victim) or wide (periods as columns); found "
                             f"{', '.join(shapes) or 'none'}")
        wide_years = self.wide is not None and self.wide.period == "year"
        if not (self.period.fixed or self.period.year or self.period.date or wide_years):
            raise ValueError("period: give fixed, year or date (or wide.period: year)")
        self._aliases_of_the_country()
        return self

    def _aliases_of_the_country(self) -> None:
        """region.aliases map to ISO 3166-2 codes of the profile's own country; the message's
        example is one of that country's regions (#47: "such as CR-SJ" to a Uruguayan steward)."""
        subs = sorted(s.code for s in pycountry.subdivisions.get(country_code=self.country) or [])
        allowed = {*subs, self.country, f"{self.country}-_X"}
        bad = [f"{k!r}: {v}" for k, v in self.region.aliases.items() if str(v) not in allowed
               and not (self.region.municipal and str(v).startswith(self.country + "-"))]
        if bad:
            example = subs[0] if subs else self.country
            name = pycountry.subdivisions.get(code=example).name if subs else self.country
            more = " ..." if len(bad) > 5 else ""
            raise ValueError(tr("region.aliases map each value to an ISO 3166-2 code of %(country)s, such as "
                                "%(example)s (%(name)s); not %(bad)s. A value that means 'region unknown' "
                                "goes to region.unknown, one of no region (prisons, abroad) to "
                                "region.no_region", country=self.country, example=example, name=name,
                                bad="; ".join(bad[:5]) + more))

    def as_dict(self) -> dict:
        return self.model_dump(exclude_none=True)


def schema() -> dict:
    """The JSON Schema of a profile (docs/profile.schema.json is this, written by a test)."""
    out = Profile.model_json_schema()
    out["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    out["$id"] = "https://ideal.clasi.example/profile.schema.json"
    return out


# --- reading YAML with line numbers -------------------------------------------------------


def _lines(node, path=()) -> dict[tuple, int]:
    """Where each key of the YAML starts (1-based lines), by its path of keys and indexes."""
    out = {path: node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            out[path + (key.value,)] = key.start_mark.line + 1
            out.update({k: v for k, v in _lines(value, path + (key.value,)).items() if k != path + (key.value,)})
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out.update(_lines(item, path + (i,)))
    return out


def _where(loc: tuple, lines: dict[tuple, int]) -> int | None:
    loc = tuple(p for p in loc if not (isinstance(p, str) and p.startswith(("function-", "model-"))))
    while loc:
        if loc in lines:
            return lines[loc]
        loc = loc[:-1]
    return lines.get(())


def parse(text: str, source: str = "profile") -> Profile:
    """A profile from YAML text (no anchors or aliases); ProfileError naming each key, line and
    expectation."""
    try:  # no anchors or aliases, nesting bounded (ideal.safe_load)
        data, node = yaml_node(text, source)
    except UnsafeInput as exc:
        raise ProfileError(str(exc)) from None
    if not isinstance(data, dict):
        raise ProfileError(f"{source}: a profile is a YAML mapping of keys (name, title, country, "
                           "detect, period, region, category and values, count or wide).")
    lines = _lines(node)
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            said = re.match(r"^Value error, ((?:region|period|category|read)(?:\.[a-z_]+)?)[: ]", err["msg"])
            if not loc and said:  # a check of the whole profile that names its key
                loc = tuple(said.group(1).split("."))
            key = ".".join(str(p) for p in loc) or "(top level)"
            line = _where(loc, lines)
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "missing":
                msg = tr("missing (required)")
            elif err["type"] == "extra_forbidden":
                msg = tr("not a profile key (see docs/profile.schema.json)")
            problems.append(f"  {key}" + (tr(" (line %(n)s)", n=line) if line else "") + f": {msg}")
        raise ProfileError(tr("%(source)s: %(n)s problem(s) in the profile:", source=source, n=len(problems))
                           + "\n" + "\n".join(problems)) from None
