"""What makes an assessment run: its parameters checked, the years it reads, its identity
(a hash of what went into it), and its score rows. Pure: the application layer
(ideal.pipeline.assessment) reads the observations and stores the run.

A run is identified by what went into it (period, scope, profile, and the submissions whose
rows were used), so assessing the same data twice with the same parameters returns the run
already stored instead of a duplicate: reproducible and idempotent.
"""

from __future__ import annotations

import hashlib
import json

import pandas as pd

from ideal import reference
from ideal.contracts import SCORE_COLUMNS
from ideal.errors import N_, AssessmentError
from ideal.scoring.profile import profile_hash


def check_scope(period: str | None, countries: list[str], crime_types: list[str],
                members: tuple[str, ...]) -> None:
    """Refuse an assessment's parameters before anything runs: a year (or none: the latest),
    member countries, ICCS codes. Used by the assessment and by the portal's trigger form."""
    if period and not (len(period) == 4 and period.isascii() and period.isdigit()):
        # the input is not echoed (#34): it can be anything a request sent
        raise AssessmentError(msgid=N_("period: assessments are annual; give a year such as 2025."))
    bad = [c for c in countries if c not in members]
    if bad:
        raise AssessmentError(msgid=N_("countries %(bad)s are not members (%(members)s)."),
                              values={"bad": ", ".join(bad), "members": " ".join(members)})
    unknown = sorted(set(crime_types) - set(reference.iccs()["code"]))
    if unknown:
        raise AssessmentError(msgid=N_("crime types %(codes)s are not ICCS codes in "
                                       "ideal/reference/data/iccs.csv."), values={"codes": ", ".join(unknown)})


def first_year(year: str, profile: dict) -> int:
    """The earliest year the assessment of ``year`` reads: the trend window (the longest the
    uncertainty analysis tries) and the years a missing value may be carried forward."""
    window = max([profile["pillars"]["trend"]["window_years"], *profile["uncertainty"].get("trend_windows", [])])
    return int(year) - profile["missing"]["carry_forward_years"] - window


def in_scope(obs: pd.DataFrame, countries: list[str], crime_types: list[str]) -> pd.DataFrame:
    if obs.empty:
        return obs
    return obs[obs["country"].isin(countries) & obs["crime_type"].isin(crime_types)]


def run_id(params: dict, profile: dict, submissions: list[str], reference_data: str = "",
           code: str = "") -> str:
    """<year>-<12 hex>: the hash of the parameters, the profile, the submissions used, the
    reference data used (populations, ICCS harm weights, crosswalks: ``reference_data``) and
    the code version. Changing any of them makes a new run."""
    fingerprint = hashlib.sha256(json.dumps(
        {"params": params, "profile": profile_hash(profile), "submissions": submissions,
         "reference": reference_data, "code": code}, sort_keys=True).encode()).hexdigest()
    return f"{params['period']}-{fingerprint[:12]}"


def reference_fingerprint(population: pd.DataFrame, iccs: pd.DataFrame, crosswalks: str) -> str:
    """sha256 of the reference data an assessment uses: the population rows of its countries
    and years (submitted figures included), the ICCS table (harm weights) and the crosswalks."""
    digest = hashlib.sha256()
    pop = population.sort_values(["country", "region", "year"]).reset_index(drop=True)
    digest.update(pd.util.hash_pandas_object(pop[["country", "region", "year", "population"]],
                                             index=False).to_numpy().tobytes())
    digest.update(pop["method"].astype(str).str.cat().encode() if "method" in pop else b"")
    digest.update(pd.util.hash_pandas_object(iccs, index=False).to_numpy().tobytes())
    digest.update(crosswalks.encode())
    return digest.hexdigest()


def with_submitted_population(population: pd.DataFrame, obs: pd.DataFrame) -> pd.DataFrame:
    """The reference population with a country's own official figures (indicator population,
    annual rows) taking precedence for that region and year (method ``submitted``)."""
    if "method" not in population:
        population = population.assign(method=population["synthetic"].map({1: "synthetic"}).fillna("official"))
    own = obs[(obs["indicator"] == "population") & (obs["period"].str.len() == 4) & obs["value"].notna()]
    if own.empty:
        return population
    sent = pd.DataFrame({"country": own["country"], "region": own["region"],
                         "year": own["period"].astype(int), "population": own["value"].round().astype("int64"),
                         "synthetic": 0, "method": "submitted",
                         "source": "submitted by the country: " + own["submission_id"].astype(str)})
    sent = sent[sent["region"] != sent["country"]]  # national figures come from the regions
    keep = population.merge(sent[["country", "region", "year"]], how="left", indicator=True)
    kept = population[(keep["_merge"] == "left_only").to_numpy()]
    return pd.concat([kept, sent[[c for c in population.columns if c in sent.columns]]],
                     ignore_index=True)


def score_rows(scores: pd.DataFrame, run: str) -> list[dict]:
    """The scores as rows of the threat_scores table (None for missing values)."""
    rows = scores[SCORE_COLUMNS].assign(run_id=run, synthetic_population=scores["synthetic"])
    rows = rows.astype({"population": "int64", "data_year": "int64"})
    return rows.astype(object).where(rows.notna(), None).to_dict("records")
