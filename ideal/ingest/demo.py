"""Demo submissions: IDEAL-template files for every member country, generated around real
published levels.

Counts are drawn (seeded, so the same bytes every time) on the population reference data from:

* each member's national homicide rate as UNODC published it (Global Study on Homicide 2019
  annex, its latest year, held there); Mexico's and Argentina's other crime types at the
  national rates of their real first-level exports (SESNSP 2024, SNIC 2023); other members' other
  crime types around the typical real rate (violent ones scaled by the member's homicide level);
* each region's rate relative to its country's as the real exports show it (Mexico, Argentina,
  Colombia), otherwise drawn with the regional spread those exports show for the crime type;
* a trend per country and crime type, a region's own trend around it, and negative-binomial
  noise from year to year.

The levels are ideal/reference/data/demo_levels.csv, written by scripts/demo_levels.py from the
shared real data. A few countries carry the problems real submissions have:

* VE sends a file with blocking errors (a negative count, a crime code without its leading
  zero, a region code that does not exist): it is rejected and quarantined.
* HN marks part of its latest year as estimated or provisional: accepted with warnings.
* PY reports some crime types only as national totals.
* NI has not sent its latest year yet.
* GT sends a correction of its latest year that supersedes the first figures.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd

from ideal import reference
from ideal.contracts import OBSERVATION_COLUMNS

YEARS = (2022, 2023, 2024, 2025)
# a crime type's rate per 100,000 where no real national rate of it is shipped (order of magnitude)
BASE_RATE = {"0101": 12.0, "0102": 9.0, "020221": 0.6, "0204": 0.7, "02051": 6.0, "0401": 140.0,
             "0502": 520.0, "0601": 55.0, "0703": 2.5, "07041": 1.2, "09012": 1.8, "0903": 18.0,
             "09051": 0.9, "1003": 1.1}
VIOLENT = ("0102", "02051", "020221")  # their national level follows the country's homicide rate
VICTIM_CRIMES = {"0101": 1.08, "020221": 1.3, "0204": 1.9}
NATIONAL_ONLY = {"PY": ["0703", "07041", "09051"]}
KAPPA = 0.02       # year-to-year over-dispersion (negative binomial, var = mu + kappa mu^2)
REGION_TREND = 0.10  # sd of a region's yearly change around its country's (real exports: 0.07-0.41)
DEFAULT_SPREAD = 0.8  # sd of log regional rates of a crime type the real exports do not show


def _rng(*keys: str) -> np.random.Generator:
    seed = int(hashlib.sha256("|".join(keys).encode()).hexdigest()[:16], 16)
    return np.random.default_rng(seed)


@lru_cache(maxsize=1)
def levels() -> dict[str, dict]:
    """The published levels the demo is generated around (ideal/reference/data/demo_levels.csv,
    written by scripts/demo_levels.py from the shared real exports): national rates and trends,
    regions' rates relative to their country's, and each crime type's regional spread."""
    table = pd.read_csv(files("ideal.reference") / "data" / "demo_levels.csv", dtype={"crime_type": str})
    kind = {k: g for k, g in table.groupby("kind")}
    national = {(r.key, r.crime_type): (r.value, r.trend) for r in kind["national"].itertuples()}
    homicide = {cc: rate for (cc, crime), (rate, _) in national.items() if crime == "0101"}
    typical = {crime: float(np.exp(np.log(g["value"]).mean()))  # geometric mean of the real national rates
               for crime, g in kind["national"].groupby("crime_type")}
    return {"national": national, "homicide": homicide, "typical": typical,
            "median_homicide": float(np.median(list(homicide.values()))),
            "relative": {(r.key, r.crime_type): r.value for r in kind["region"].itertuples()},
            "spread": dict(zip(kind["spread"]["crime_type"], kind["spread"]["value"], strict=True))}


def national_level(country: str, crime: str) -> tuple[float, float]:
    """(rate per 100,000 in the demo's first year, yearly change) of a crime type in a country:
    the published rate where one is shipped, otherwise the members' typical rate, scaled by the
    country's homicide level for violent crimes, and drawn around it for the others."""
    lv = levels()
    crng = _rng(country, crime)
    if (country, crime) in lv["national"]:
        rate, trend = lv["national"][(country, crime)]
        if crime == "0101":  # UNODC counts victims; the demo's first indicator is incidents
            rate /= VICTIM_CRIMES["0101"]
            # held at the latest published level: a trend of 2011-2017 is not extrapolated to
            # the demo's years, which only drift
            return rate, float(crng.normal(0, 0.03))
        return rate, float(crng.normal(0, 0.04))
    rate = lv["typical"].get(crime, BASE_RATE[crime])
    if crime in VIOLENT:
        rate *= (lv["homicide"][country] / lv["median_homicide"]) ** 0.5
    else:
        rate *= float(np.exp(np.clip(crng.normal(0, 0.3), -0.6, 0.6)))
    return rate, float(crng.normal(0, 0.04))


def regional_factors(country: str, crime: str, regions: list[str], population: list[float]) -> np.ndarray:
    """Each region's rate relative to its country's: the real one where a first-level export
    shows it, otherwise drawn with the crime type's real spread (centred on the population's
    mean, within one sd); scaled so that the regions add up to the national rate."""
    lv = levels()
    sd = lv["spread"].get(crime, DEFAULT_SPREAD)
    pop = np.asarray(population, dtype="float64")
    z = np.array([_rng(r, crime).normal(0, sd) for r in regions])
    drawn = np.exp(np.clip(z - np.average(z, weights=pop), -sd, sd))
    known = np.array([lv["relative"].get((r, crime), np.nan) for r in regions], dtype="float64")
    factors = np.where(np.isfinite(known), known, drawn)
    return factors * pop.sum() / (factors * pop).sum()


def country_frame(country: str, years=YEARS) -> pd.DataFrame:
    """Clean template rows for one country (before any demo problems are added)."""
    pop = reference.population()
    pop = pop[(pop["country"] == country) & pop["year"].isin(years)]
    first = pop.sort_values("year").groupby("region", sort=True).first()
    rows = []
    for crime in BASE_RATE:
        rate, trend = national_level(country, crime)
        factors = regional_factors(country, crime, first.index.tolist(), first["population"].tolist())
        for (region, group), factor in zip(pop.groupby("region", sort=True), factors, strict=True):
            rtrend = trend + float(_rng(region, crime, "trend").normal(0, REGION_TREND))
            for year, population in zip(group["year"], group["population"], strict=False):
                lam = rate * factor * (1 + rtrend) ** (year - YEARS[0]) * population / 1e5
                yrng = _rng(region, crime, str(year))
                lam *= yrng.gamma(1 / KAPPA, KAPPA)
                count = int(yrng.poisson(max(lam, 0.01)))
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
        if cc not in levels()["homicide"]:
            continue  # a member added through IDEAL_MEMBERS without demo parameters
        folder = inbox / cc
        folder.mkdir(parents=True, exist_ok=True)
        for filename, frame in _with_problems(cc, country_frame(cc)).items():
            path = folder / filename
            frame.to_csv(path, index=False, lineterminator="\n")
            written.append(path)
    return written
