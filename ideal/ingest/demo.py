"""Demo submissions: IDEAL-template files for every member country, generated around real
published levels.

Counts are drawn (seeded, so the same bytes every time) on the population reference data from:

* each member's national homicide rate of recent years as InSight Crime's 2023 Homicide
  Round-Up published it from official sources (the demo follows it to 2023 and drifts by at
  most 4 % a year after: the region of today, Ecuador's rise and El Salvador's fall); Bolivia,
  which has no recent figure, at UNODC's latest (Global Study on Homicide 2019 annex);
  Mexico's and Argentina's other crime types at the
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
* CL and PE send their files late (LATE), after CLASI's first run of the year: the demo
  assesses before and after they arrive, and page 1 says what changed since the first run.
* MX, BR and CO send homicide month by month (each year's count split over its months with a
  seasonal swing of about 10 %), so that early warning watches their regions; in two regions
  a rise is planted in the last year, the demo's known truth of what it should find: Cauca
  (Colombia) at 1.8 times its level from July 2025, Guanajuato (Mexico) at 1.6 times from
  September 2025.

Every member but VE also sends round one of its structured contributions on the criminal
markets (three to five assessors around the Organized Crime Index's 2025 scores, with noise and
an occasional outlier: only the data track's agreement with the Index is evidence on the demo),
and a few send the new indicators of the priority areas (hectares deforested or mined, firearms
seized, FIU reports, assets confiscated) at the order of magnitude public sources give.
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
    path = {cc: dict(zip(g["year"].astype(int), g["value"].astype(float), strict=True))
            for cc, g in kind["path"].groupby("key")} if "path" in kind else {}
    # the latest published homicide level scales the violent crimes (UNODC's 2017 where none)
    homicide = {cc: path[cc][max(path[cc])] if cc in path else rate
                for (cc, crime), (rate, _) in national.items() if crime == "0101"}
    typical = {crime: float(np.exp(np.log(g["value"]).mean()))  # geometric mean of the real national rates
               for crime, g in kind["national"].groupby("crime_type")}
    return {"national": national, "homicide": homicide, "typical": typical, "path": path,
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


DRIFT = 0.04  # the largest yearly drift of a member's homicide rate after its latest published year


def homicide_path(country: str, years=YEARS) -> dict[int, float] | None:
    """A member's national homicide rate (victims per 100,000) per demo year: the published
    figure of that year; after the latest published year that figure drifting by a seeded
    yearly change within +-DRIFT; before the first, the first. None without a recent figure."""
    path = levels()["path"].get(country)
    if not path:
        return None
    last = max(path)
    drift = float(np.clip(_rng(country, "0101", "drift").normal(0, 0.03), -DRIFT, DRIFT))
    out = {}
    for y in years:
        if y in path:
            out[y] = path[y]
        elif y > last:
            out[y] = path[last] * float(np.exp(drift * (y - last)))
        else:
            out[y] = path[min(path)]
    return out


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
    recent = homicide_path(country, years)
    for crime in BASE_RATE:
        rate, trend = national_level(country, crime)
        factors = regional_factors(country, crime, first.index.tolist(), first["population"].tolist())
        path = recent if crime == "0101" and recent else None
        cells = []  # (region, year, expected count with its year-to-year noise)
        for (region, group), factor in zip(pop.groupby("region", sort=True), factors, strict=True):
            own = float(_rng(region, crime, "trend").normal(0, REGION_TREND))
            rtrend = (0.0 if path else trend) + own
            for year, population in zip(group["year"], group["population"], strict=False):
                lam = (1.0 if path else rate) * factor * (1 + rtrend) ** (year - YEARS[0]) * population / 1e5
                yrng = _rng(region, crime, str(year))
                cells.append((region, int(year), population, lam * yrng.gamma(1 / KAPPA, KAPPA), yrng))
        if path:  # the published national path (victims): each year's regions add up to it, a
            # region's own change and noise around it
            total = {y: sum(c[3] for c in cells if c[1] == y) for y in years}
            people = {y: sum(c[2] for c in cells if c[1] == y) for y in years}
            cells = [(r, y, n, lam * path[y] / VICTIM_CRIMES["0101"] * people[y] / 1e5 / total[y], g)
                     for r, y, n, lam, g in cells]
        for region, year, _, lam, yrng in cells:
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


LATE = ("CL", "PE")   # their files arrive after the year's first run
MONTHLY = {"MX": "0101", "BR": "0101", "CO": "0101"}   # the crime type each sends month by month
RISES = {("CO-CAU", "0101"): ("2025-07", 1.8), ("MX-GUA", "0101"): ("2025-09", 1.6)}  # planted


def monthly(country: str, df: pd.DataFrame) -> pd.DataFrame:
    """The country's rows with its MONTHLY crime type month by month: each region-year's
    incidents split over the months (multinomial, a seasonal swing of about 10 % with the
    country's own peak), victims in the same ratio per month, and the RISES planted (extra
    events at the rise's size from its first month on)."""
    crime = MONTHLY.get(country)
    if crime is None:
        return df
    keep = df[df["crime_type"] != crime]
    phase = float(_rng(country, crime, "season").uniform(0, 2 * np.pi))
    shape = 1 + 0.1 * np.sin(2 * np.pi * np.arange(12) / 12 + phase)
    shape = shape / shape.sum()
    rows = []
    incidents = df[(df["crime_type"] == crime) & (df["indicator"] == "incidents")]
    for r in incidents.itertuples():
        rng = _rng(r.region, crime, r.period, "months")
        counts = rng.multinomial(int(r.value), shape).astype("int64")
        months = [f"{r.period}-{m:02d}" for m in range(1, 13)]
        rise = RISES.get((r.region, crime))
        if rise:
            start, factor = rise
            extra = [m >= start for m in months]
            counts = counts + np.where(extra, rng.poisson(r.value * shape * (factor - 1)), 0)
        for month, n in zip(months, counts, strict=True):
            rows.append((country, r.region, month, crime, "incidents", int(n), r.obs_status))
            if crime in VICTIM_CRIMES:
                rows.append((country, r.region, month, crime, "victims",
                             int(round(n * VICTIM_CRIMES[crime])), r.obs_status))
    return pd.concat([keep, pd.DataFrame(rows, columns=OBSERVATION_COLUMNS)], ignore_index=True)


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


# --- the markets (#49) -------------------------------------------------------------------
ASSESSOR_SD = 0.8  # an assessor's noise around the Index's score
ASSESSOR_BIAS = 0.4  # sd of an assessor's own leaning, the same on every market
OUTLIER = 0.04  # the share of ratings far from the others (a misread anchor, a case known to one)
ROLES = ("police", "prosecution", "fiu", "customs", "environment", "academia")
# the new indicators a few members send, national figures of the latest year at the order of
# magnitude public sources give (PRODES/MapBiomas, SIMCI, defence and police yearbooks, FIU
# annual reports, asset-forfeiture agencies); a member's level scales with its Index score
INDICATOR_LEVELS = {
    "deforested_ha": ({"BR": 900_000, "BO": 300_000, "PE": 140_000, "CO": 80_000, "PY": 60_000}, "flora"),
    "illegal_mining_ha": ({"PE": 30_000, "CO": 90_000, "VE": 40_000, "EC": 8_000}, "non_renewable"),
    "firearms_seized": ({"MX": 12_000, "CO": 21_000, "BR": 110_000, "AR": 9_000, "EC": 14_000}, "arms_trafficking"),
    "str_reports": ({"AR": 55_000, "CL": 6_500, "UY": 1_100, "PE": 11_000, "CR": 3_000}, "financial"),
    "assets_confiscated_usd": ({"CO": 250e6, "MX": 90e6, "BR": 180e6, "PE": 30e6}, "financial"),
}


def contributions_frame(country: str, year: int = YEARS[-1]) -> pd.DataFrame:
    """A member's round-one contributions: every market and actor type of the catalogue rated
    by three to five assessors around the Index's 2025 score (assessor noise, each
    assessor's own leaning, an occasional outlier); graded evidence where 7 or more."""
    from ideal.ingest.contributions import COLUMNS

    oci = reference.oci_scores()
    oci = oci[(oci["country"] == country) & (oci["year"] == 2025)].set_index("market")["score"]
    rng = _rng(country, "contributions")
    n = int(rng.integers(3, 6))
    leaning = rng.normal(0, ASSESSOR_BIAS, size=n)
    roles = rng.permutation(ROLES)[:n]
    rows = []
    for market in reference.markets()["code"]:
        if market not in oci.index:
            continue
        for a in range(n):
            value = oci[market] + leaning[a] + rng.normal(0, ASSESSOR_SD)
            if rng.random() < OUTLIER:
                value += rng.choice([-1, 1]) * rng.uniform(3, 4.5)
            severity = float(np.clip(np.round(value * 2) / 2, 1, 10))
            graded = severity >= 7
            rows.append([country, market, "", str(year), "1", str(a + 1), roles[a], f"{severity:g}",
                         str(int(np.clip(np.round(rng.normal(0.3, 0.8)), -2, 2))), "NATIONAL", "",
                         *[str(int(np.clip(np.round(severity / 2 + rng.normal(0, 0.7)), 1, 5))) for _ in range(5)],
                         str(rng.choice(["low", "moderate", "high"], p=[0.2, 0.5, 0.3])),
                         f"{roles[a]} report {year}/{int(rng.integers(1, 99)):02d}" if graded else "",
                         f"{'ABC'[int(rng.integers(0, 3))]}{int(rng.integers(1, 4))}" if graded else ""])
    return pd.DataFrame(rows, columns=COLUMNS)


def indicator_rows(country: str, years=YEARS) -> pd.DataFrame:
    """The new indicators this member sends (national rows), if any."""
    oci = reference.oci_scores()
    oci = oci[(oci["country"] == country) & (oci["year"] == 2025)].set_index("market")["score"]
    iccs = reference.indicators().set_index("code")["iccs"]
    rows = []
    for indicator, (levels_, market) in INDICATOR_LEVELS.items():
        if country not in levels_:
            continue
        for year in years:
            rng = _rng(country, indicator, str(year))
            level = levels_[country] * (1 + 0.05 * (year - years[-1])) * rng.lognormal(0, 0.1)
            level *= (oci.get(market, 5.0) / 5.0) ** 0.5
            rows.append((country, country, str(year), iccs[indicator], indicator, int(round(level)), "A"))
    return pd.DataFrame(rows, columns=OBSERVATION_COLUMNS)


def generate(inbox: Path, countries: tuple[str, ...]) -> list[Path]:
    """Write the demo submissions into ``inbox/<CC>/``; the same bytes on every call."""
    written = []
    for cc in countries:
        if cc not in levels()["homicide"]:
            continue  # a member added through IDEAL_MEMBERS without demo parameters
        folder = inbox / cc
        folder.mkdir(parents=True, exist_ok=True)
        frames = _with_problems(cc, monthly(cc, country_frame(cc)))
        extra = indicator_rows(cc)
        if not extra.empty:
            frames[f"ideal-{cc.lower()}-indicadores-{YEARS[0]}-{YEARS[-1]}.csv"] = extra
        if cc != "VE":  # VE's data file is rejected; its focal point has not contributed either
            frames[f"ideal-{cc.lower()}-contribuciones-{YEARS[-1]}.csv"] = contributions_frame(cc)
        for filename, frame in frames.items():
            path = folder / filename
            frame.to_csv(path, index=False, lineterminator="\n")
            written.append(path)
    return written
