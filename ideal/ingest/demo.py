"""Demo submissions: realistic IDEAL-template files for every member country.

Counts are drawn (seeded, so the same bytes every time) from a rate per 100,000 per crime
type, scaled per country and region, with a trend over the years and Poisson noise, on the
population reference data. A few countries carry the problems real submissions have:

* VE sends a file with blocking errors (a negative count, a crime code without its leading
  zero, a region code that does not exist): it is rejected and quarantined.
* HN marks part of its latest year as estimated or provisional: accepted with warnings.
* PY reports some crime types only as national totals.
* NI has not sent its latest year yet.
* GT sends a correction of its latest year that supersedes the first figures.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

from ideal import reference
from ideal.contracts import OBSERVATION_COLUMNS

YEARS = (2022, 2023, 2024, 2025)
# rate per 100,000 inhabitants and year, regional median (order of magnitude of the region)
BASE_RATE = {"0101": 12.0, "0102": 9.0, "020221": 0.6, "0204": 0.7, "02051": 6.0, "0401": 140.0,
             "0502": 520.0, "0601": 55.0, "0703": 2.5, "07041": 1.2, "09012": 1.8, "0903": 18.0,
             "09051": 0.9, "1003": 1.1}
# homicide level of each country relative to the base (roughly the region's known ranking)
HOMICIDE_LEVEL = {"AR": 0.4, "BO": 0.6, "BR": 1.8, "CL": 0.5, "CO": 2.1, "CR": 1.0, "DO": 0.9,
                  "EC": 2.6, "SV": 0.3, "GT": 1.4, "HN": 2.6, "MX": 2.3, "NI": 0.7, "PA": 1.0,
                  "PY": 0.6, "PE": 0.5, "UY": 0.9, "VE": 1.6}
VICTIM_CRIMES = {"0101": 1.08, "020221": 1.3, "0204": 1.9}
NATIONAL_ONLY = {"PY": ["0703", "07041", "09051"]}


def _rng(*keys: str) -> np.random.Generator:
    seed = int(hashlib.sha256("|".join(keys).encode()).hexdigest()[:16], 16)
    return np.random.default_rng(seed)


def country_frame(country: str, years=YEARS) -> pd.DataFrame:
    """Clean template rows for one country (before any demo problems are added)."""
    pop = reference.population()
    pop = pop[(pop["country"] == country) & pop["year"].isin(years)]
    rows = []
    for crime, base in BASE_RATE.items():
        level = HOMICIDE_LEVEL[country] if crime in ("0101", "0102", "02051", "020221") else 1.0
        crng = _rng(country, crime)
        level *= float(np.exp(crng.normal(0, 0.35)))
        trend = float(crng.normal(0, 0.06))
        for region, group in pop.groupby("region"):
            rfactor = float(np.exp(np.clip(_rng(region, crime).normal(0, 0.4), -1.0, 1.0)))
            for year, population in zip(group["year"], group["population"], strict=False):
                lam = base * level * rfactor * (1 + trend) ** (year - years[0]) * population / 1e5
                count = int(_rng(region, crime, str(year)).poisson(max(lam, 0.01)))
                rows.append((country, region, str(year), crime, "incidents", count, "A"))
                if crime in VICTIM_CRIMES:
                    victims = int(round(count * VICTIM_CRIMES[crime]))
                    rows.append((country, region, str(year), crime, "victims", victims, "A"))
    df = pd.DataFrame(rows, columns=OBSERVATION_COLUMNS)
    only = NATIONAL_ONLY.get(country)
    if only:  # these crime types reach the secretariat only as national totals
        national = (df[df["crime_type"].isin(only)]
                    .groupby(["country", "period", "crime_type", "indicator"], as_index=False)
                    .agg(value=("value", "sum"))
                    .assign(region=country, obs_status="A"))[OBSERVATION_COLUMNS]
        df = pd.concat([df[~df["crime_type"].isin(only)], national], ignore_index=True)
    return df


def _with_problems(country: str, df: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The file(s) a country sends, keyed by file name, with its demo problems."""
    name = f"ideal-{country.lower()}-{YEARS[0]}-{YEARS[-1]}.csv"
    last = str(YEARS[-1])
    if country == "NI":
        return {name.replace(last, str(YEARS[-2])): df[df["period"] != last]}
    if country == "VE":
        df = df.astype({"value": object}).copy()
        df.loc[5, "value"] = -12
        df.loc[17, "crime_type"] = "101"
        df.loc[29, "region"] = "VE-ZZ"
        return {name: df}
    if country == "HN":
        latest = df.index[df["period"] == last]
        df = df.copy()
        df.loc[latest[::7], "obs_status"] = "E"
        df.loc[latest[3::11], "obs_status"] = "P"
        return {name: df}
    if country == "GT":
        fix = df[(df["period"] == last) & (df["crime_type"] == "0101")].copy()
        fix["value"] = (fix["value"] * 1.05).round().astype(int)
        return {name: df, f"ideal-gt-{last}-correccion.csv": fix}
    return {name: df}


def generate(inbox: Path, countries: tuple[str, ...]) -> list[Path]:
    """Write the demo submissions into ``inbox/<CC>/``; the same bytes on every call."""
    written = []
    for cc in countries:
        if cc not in HOMICIDE_LEVEL:
            continue  # a member added through IDEAL_MEMBERS without demo parameters
        folder = inbox / cc
        folder.mkdir(parents=True, exist_ok=True)
        for filename, frame in _with_problems(cc, country_frame(cc)).items():
            path = folder / filename
            frame.to_csv(path, index=False, lineterminator="\n")
            written.append(path)
    return written
