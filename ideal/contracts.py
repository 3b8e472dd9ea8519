"""What the stages hand each other: the canonical observation, the finding, the score row,
the languages, and an assessment request. Plain data, no I/O; every stage imports from here
instead of spelling the columns again."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

import pandas as pd

from ideal.errors import N_, AssessmentError

# the canonical observation (shared/DESIGN.md): the template's columns, in this order
OBSERVATION_COLUMNS = ["country", "region", "period", "crime_type", "indicator", "value",
                       "obs_status"]
REQUIRED_COLUMNS = ["country", "region", "period", "crime_type", "indicator", "value"]
# what a reader hands on: the observation plus where it came from, the parsed number and the
# SDMX action (I insert, D delete)
CANONICAL_COLUMNS = OBSERVATION_COLUMNS + ["source_row", "value_number", "action"]
# one current value per key and country
KEY = ["region", "period", "crime_type", "indicator"]
# a stored observation
STORED_COLUMNS = ["submission_id", "country", *KEY, "value", "obs_status", "source_row", "coverage"]

# one problem found in a submission (reading, validation, plausibility)
FINDING_COLUMNS = ["severity", "rule", "column", "row", "value", "message"]

# one scored unit of an assessment run
SCORE_COLUMNS = ["country", "region", "crime_type", "period", "indicator", "value", "population",
                 "rate", "score", "level", "status", "data_year", "imputed", "magnitude", "trend",
                 "harm", "spread", "coverage", "reliability", "rank", "rank_median", "rank_p5",
                 "rank_p95", "partial", "population_method", "contrib_magnitude", "contrib_trend",
                 "contrib_harm", "contrib_spread", "rate_model", "trend_change", "trend_se",
                 "p_first", "p_top10", "p_top15", "enforcement", "exceed_threshold", "p_exceed",
                 "p_rising", "hotspot", "rising", "rate_p5", "rate_p95"]

# the threat levels, lowest first, with their names (msgids of the catalogues)
LEVEL_NAMES = {"very_low": "very low", "low": "low", "medium": "medium", "high": "high",
               "very_high": "very high"}

# languages of the portal, the feedback and the briefings (Spanish first: most members)
LANGUAGES = ("es", "pt", "en")


def findings_frame(rows: list[tuple] | None = None) -> pd.DataFrame:
    """Findings as a frame with the finding columns, ``rows``, the number of source rows each
    stands for (a 7th field of the tuple; 1 when not given), and ``said``: how the message was
    said (i18n.Said.parts: catalogue messages and values, None for plain text), kept so that
    it can be shown in a reader's language."""
    full = [tuple(r) + (1,) * (7 - len(r)) for r in rows or []]
    columns = dict(zip([*FINDING_COLUMNS, "rows"], map(list, zip(*full, strict=True)), strict=True)) if full \
        else {c: [] for c in [*FINDING_COLUMNS, "rows"]}
    return pd.DataFrame({**{c: pd.Series(v, dtype=object if c in ("column", "row", "value") else None)
                            for c, v in columns.items() if c != "rows"},
                         "rows": pd.Series(columns["rows"], dtype="int64"),
                         "said": pd.Series([getattr(m, "parts", None) for m in columns["message"]],
                                           dtype=object)})


FINDING_FRAME = [*FINDING_COLUMNS, "rows", "said"]  # the columns of findings_frame


MAX_CODES = 100  # codes in one list of a request: more than any list of members or crime types
CODE = re.compile(r"[A-Z0-9][A-Z0-9-]{1,15}")
MAX_NOTE = 1000  # an analyst's reason for a run: a few sentences


def code_list(value, name: str = "codes") -> list[str]:
    """Country or crime-type codes from a form, a JSON body or a command line: a list, or one
    string separated by commas or spaces; upper case, blanks and repeats dropped (first kept).
    More than MAX_CODES items (before repeats are dropped) is refused: no request can make a
    job work through thousands of copies of one code."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        if len(value) > MAX_CODES * 16:
            raise AssessmentError(msgid=N_("%(name)s: at most %(n)s codes."), values={"name": name, "n": MAX_CODES})
        items = value.replace(",", " ").split()
    elif isinstance(value, (list, tuple)):
        if not all(isinstance(v, (str, int)) for v in value):
            raise AssessmentError(msgid=N_("codes must be text, e.g. [\"MX\", \"CO\"]."))
        items = [str(v) for v in value]
    else:
        raise AssessmentError(f"expected a list of codes or a text, not {type(value).__name__}.")
    if len(items) > MAX_CODES:
        raise AssessmentError(msgid=N_("%(name)s: at most %(n)s codes."), values={"name": name, "n": MAX_CODES})
    codes = list(dict.fromkeys(v.strip().upper() for v in items if v.strip()))
    if any(not CODE.fullmatch(c) for c in codes):  # refused without echoing what was sent
        raise AssessmentError(msgid=N_("%(name)s: codes are 2 to 16 letters, digits or hyphens (e.g. MX, 0101)."),
                              values={"name": name})
    return codes


@dataclass(frozen=True)
class AssessmentRequest:
    """What an analyst asks for: a year (None: the latest), the countries and crime types
    (empty: all), the methodology profile, a note, and the briefing languages. Built the same
    way from the CLI, the portal's form, the JSON API and the Airflow trigger form."""

    period: str | None = None
    countries: tuple[str, ...] = ()
    crime_types: tuple[str, ...] = ()
    profile: str = "default"
    note: str | None = None
    languages: tuple[str, ...] = field(default=())

    @classmethod
    def from_mapping(cls, data: Mapping) -> AssessmentRequest:
        """From a JSON-like mapping; refuses values of the wrong kind naming the field. (That
        a request from the portal, the API or Airflow names an installed methodology profile
        is checked where it starts: ideal.pipeline.trigger.check.)"""
        if not isinstance(data, Mapping):
            raise AssessmentError("the request must be an object with period, countries, "
                                  "crime_types, profile, note.")
        period = data.get("period")
        if period is not None and not isinstance(period, (str, int)):
            raise AssessmentError(msgid=N_("period: assessments are annual; give a year such as 2025."))
        profile = data.get("profile") or "default"
        note = data.get("note")
        if not isinstance(profile, str):
            raise AssessmentError("profile: the name of a methodology profile.")
        if note is not None and not isinstance(note, str):
            raise AssessmentError(msgid=N_("note: a text."))
        if note is not None and len(note) > MAX_NOTE:
            raise AssessmentError(msgid=N_("note: at most %(n)s characters."), values={"n": MAX_NOTE})
        languages = tuple(v.lower() for v in code_list(data.get("languages"), "languages"))
        bad = [v for v in languages if v not in LANGUAGES]
        if bad:
            raise AssessmentError(msgid=N_("languages: %(bad)s (use %(languages)s)."),
                                  values={"bad": ", ".join(bad), "languages": ", ".join(LANGUAGES)})
        return cls(period=str(period).strip() or None if period not in (None, "") else None,
                   countries=tuple(code_list(data.get("countries"), "countries")),
                   crime_types=tuple(code_list(data.get("crime_types"), "crime_types")),
                   profile=profile.strip() or "default",
                   note=(note.strip()[:500] or None) if note else None,
                   languages=languages)

    def conf(self) -> dict:
        """As JSON (an Airflow DAG run's conf, the audit log, a job's parameters)."""
        out = asdict(self)
        out["countries"], out["crime_types"] = list(self.countries), list(self.crime_types)
        out["languages"] = list(self.languages)
        if not out["languages"]:
            out.pop("languages")
        return out
