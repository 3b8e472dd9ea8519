"""Reference data: member countries, their regions, ICCS crime types, indicators, population.

Code lists come from well-kept sources: ISO 3166 from pycountry, localized country names
from Babel (CLDR), ICCS and indicators from the shipped files in ``data/``.
"""

from __future__ import annotations

import functools
import json
from functools import cache, lru_cache
from importlib.resources import files

import numpy as np
import pandas as pd
import pycountry
from babel import Locale

from ideal.errors import ReferenceDataError

DATA = files("ideal.reference") / "data"


def _shared(fn):
    """Read once per process; each caller gets its own shallow copy (pandas' copy-on-write),
    so no caller, in any thread, can change what another one reads."""
    cached = cache(fn)

    @functools.wraps(fn)
    def read(*args) -> pd.DataFrame:
        return cached(*args).copy(deep=False)

    read.cache_clear = cached.cache_clear
    return read


def _read(name: str, **kw) -> pd.DataFrame:
    try:
        with (DATA / name).open("rb") as fh:
            return pd.read_csv(fh, keep_default_na=False, **kw)
    except FileNotFoundError as exc:  # pragma: no cover - broken install
        raise ReferenceDataError(f"reference file {name} is missing from ideal/reference/data") from exc


@_shared
def iccs() -> pd.DataFrame:
    """ICCS codes with level, parent, names (en/es/pt) and harm weight (NaN for groups)."""
    df = _read("iccs.csv", dtype=str)
    return df.assign(harm_weight=pd.to_numeric(df["harm_weight"].replace("", None)))


@_shared
def harm_sources() -> pd.DataFrame:
    """The statutory sentence ranges behind methodology v4's harm weights (harm.csv): per ICCS
    code and member, the law, its article, the offence and the range in years."""
    df = _read("harm.csv", dtype=str)
    return df.assign(min_years=pd.to_numeric(df["min_years"]), max_years=pd.to_numeric(df["max_years"]),
                     note=df["note"].fillna(""))


def harm_digest() -> str:
    """sha256 of the sentence ranges behind the v4 harm weights (part of a run's identity)."""
    import hashlib

    return hashlib.sha256(pd.util.hash_pandas_object(harm_sources(), index=False).to_numpy().tobytes()).hexdigest()


def harm_weights(source: str = "iccs") -> pd.Series:
    """Harm weight 1-10 per scored ICCS code. ``iccs``: the panel weights of iccs.csv (v2, v3).
    ``sentencing`` (v4), the approach of the Cambridge Crime Harm Index (Sherman, Neyroud &
    Neyroud 2016) and the ONS Crime Severity Score (2016): the severity of an offence is the
    sentence the law sets for it; here the midpoint of the statutory range in the members'
    penal laws (harm.csv: Brazil's and Argentina's codes, article by article), the geometric
    mean over the members that give one, proportional to homicide's (10), at least 1. An
    attempted homicide takes the range the codes set for the attempt (reduced by one to two
    thirds in Brazil, one third to one half in Argentina)."""
    if source == "iccs":
        return iccs().set_index("code")["harm_weight"]
    if source != "sentencing":
        raise ValueError(f"unknown harm weights {source!r}: iccs or sentencing")
    h = harm_sources()
    mid = np.log((h["min_years"] + h["max_years"]) / 2)
    years = np.exp(mid.groupby(h["code"]).mean())
    weights = (years / years["0101"] * 10).clip(lower=1).round(2)
    scored = iccs().set_index("code")["harm_weight"].dropna().index
    missing = sorted(set(scored) - set(weights.index))
    if missing:
        raise ValueError(f"harm.csv gives no sentence range for {', '.join(missing)}")
    return weights.reindex(scored).rename("harm_weight")


@_shared
def indicators() -> pd.DataFrame:
    return _read("indicators.csv", dtype=str)


def enforcement_indicators() -> list[str]:
    """Indicators that grow with police effort as well as with crime (seizures, arrests: the
    `enforcement` column of indicators.csv): a threat resting on them says so."""
    ind = indicators()
    return ind.loc[ind["enforcement"].str.lower().eq("true"), "code"].tolist()


@_shared
def population() -> pd.DataFrame:
    """Population per region and year: country, region, year, population, synthetic, method
    (official | interpolated | extrapolated | modelled | synthetic) and source; built by
    scripts/build_population.py, which states every source."""
    df = _read("population.csv", dtype={"country": str, "region": str, "source": str, "method": str})
    return df.astype({"year": "int64", "population": "int64", "synthetic": "int64"})


@cache
def boundaries() -> dict:
    """First-level boundaries of the members (GeoJSON, lon/lat) built by
    scripts/build_boundaries.py from Natural Earth: ``features`` (one shape per region, with the
    ISO codes it ``covers`` and a label ``point``), ``countries`` (outlines), ``cross_border``
    (pairs of regions of different members that share a border), ``shared`` (regions drawn with
    the one they were split from) and ``source``. Read once per process; do not modify."""
    try:
        with (DATA / "boundaries.json").open("rb") as fh:
            return json.load(fh)
    except FileNotFoundError as exc:  # pragma: no cover - broken install
        raise ReferenceDataError("reference file boundaries.json is missing from ideal/reference/data") from exc


@cache
def cross_border() -> frozenset[tuple[str, str]]:
    """Pairs (a, b) of first-level regions of different members that share a border, both ways."""
    pairs = boundaries()["cross_border"]
    return frozenset([(a, b) for a, b in pairs] + [(b, a) for a, b in pairs])


@cache
def crosswalks_digest() -> str:
    """sha256 over every shipped crosswalk file (names and bytes), for run identities."""
    import hashlib

    digest = hashlib.sha256()
    for entry in sorted((DATA / "crosswalks").iterdir(), key=lambda e: e.name):
        digest.update(entry.name.encode())
        digest.update(entry.read_bytes())
    return digest.hexdigest()


@_shared
def crosswalk(name: str) -> pd.DataFrame:
    """A national-code crosswalk from data/crosswalks/<name>.csv (all columns as text)."""
    return _read(f"crosswalks/{name}.csv", dtype=str)


@_shared
def _regions(countries: tuple[str, ...]) -> pd.DataFrame:
    rows = []
    for cc in countries:
        subs = pycountry.subdivisions.get(country_code=cc) or []
        rows += [(s.code, cc, s.name, s.type) for s in subs if s.parent_code is None]
    return pd.DataFrame(rows, columns=["region", "country", "name", "type"]).sort_values("region",
                                                                                          ignore_index=True)


def regions(countries: tuple[str, ...] | list[str]) -> pd.DataFrame:
    """First-level ISO 3166-2 subdivisions of the given countries (region, country, name, type)."""
    return _regions(tuple(countries))


@_shared
def _municipalities() -> pd.DataFrame:
    return _read("municipalities.csv", dtype=str)


def municipalities(countries: tuple[str, ...] | list[str] | None = None) -> pd.DataFrame:
    """The second region level (country, region, parent, name, source): the municipalities of
    Brazil (IBGE), Colombia (DANE's DIVIPOLA) and Mexico (INEGI), coded as the country code and
    the national code (BR-3550308, CO-05001, MX-09015), each with its first-level ISO 3166-2
    region (``parent``); built by scripts/build_municipalities.py, provenance in
    municipalities.meta.yaml. Other countries have none yet."""
    df = _municipalities()
    return df if countries is None else df[df["country"].isin(list(countries))].reset_index(drop=True)


@cache
def parents() -> dict[str, str]:
    """Municipal region code -> its first-level region code."""
    df = _municipalities()
    return dict(zip(df["region"], df["parent"], strict=True))


def first_level(region: str) -> str:
    """The first-level region of a code: its parent for a municipality, itself otherwise."""
    return parents().get(region, region)


def valid_region_codes(countries: tuple[str, ...] | list[str]) -> set[str]:
    """Region codes a submission may use: first-level subdivisions, municipalities (where the
    reference has them) and the country code for national totals."""
    return set(regions(countries)["region"]) | set(municipalities(countries)["region"]) | set(countries)


@lru_cache(maxsize=4096)
def country_name(code: str, language: str = "es") -> str:
    """Country name in the given language (CLDR through Babel), falling back to pycountry."""
    name = Locale.parse(language).territories.get(code)
    if name:
        return name
    country = pycountry.countries.get(alpha_2=code)
    return country.name if country else code


@lru_cache(maxsize=4096)
def subdivision(code: str):
    """The ISO 3166-2 subdivision of a code (any country), or None."""
    return pycountry.subdivisions.get(code=code)


NO_REGION = "_X"  # SDMX's "not allocated": the part of a country's figure no region holds


def no_region(country: str) -> str:
    """The code of a country's remainder: rows that belong to it but to no first-level region
    (homicides in prisons, abroad), counted in its national figure, never ranked or mapped."""
    return f"{country}-{NO_REGION}"


def is_remainder(code: str) -> bool:
    return str(code).endswith("-" + NO_REGION)


@lru_cache(maxsize=8192)
def region_name(code: str) -> str:
    if "-" not in code:
        return country_name(code)
    if is_remainder(code):
        return f"{country_name(code[:2])}: not attributable to a region"
    sub = pycountry.subdivisions.get(code=code)
    if sub:
        return sub.name
    if code in parents():
        return _municipal_name(code)
    return code


@cache
def _municipal_names() -> dict[str, str]:
    df = _municipalities()
    return {r: n for r, n in zip(df["region"], df["name"], strict=True) if n}


def _municipal_name(code: str) -> str:
    """'Medellín (CO-05001), Antioquia'; a municipality without a name in its list (Brazil's)
    by its code and state."""
    parent = region_name(parents()[code])
    name = _municipal_names().get(code)
    return f"{name} ({code}), {parent}" if name else f"{code}, {parent}"


@lru_cache(maxsize=4096)
def crime_name(code: str, language: str = "es", short: bool = False) -> str:
    """ICCS name of a crime type in the language (``short`` for charts and tables)."""
    table = iccs().set_index("code")
    if code not in table.index:
        return code
    return str(table.at[code, f"{'short' if short else 'name'}_{language}"])


POPULATION_CRIME = "_T"  # the crime type of a population row (SDMX: total, not applicable)


def submittable_crime_types() -> list[str]:
    """ICCS codes a submission may carry, and _T for a country's own population figures."""
    return [*iccs()["code"].tolist(), POPULATION_CRIME]


def scored_crime_types() -> list[str]:
    """ICCS codes that carry a harm weight, i.e. the crime types IDEAL scores."""
    df = iccs()
    return df.loc[df["harm_weight"].notna(), "code"].tolist()


def enforcement_crimes() -> list[str]:
    """ICCS classes whose police counts grow with investigative effort as well as with crime
    (drugs, money laundering, arms trafficking, organised criminal groups: the
    ``enforcement_driven`` column of iccs.csv): every number read from them says so."""
    df = iccs()
    return df.loc[df["enforcement_driven"].str.lower().eq("true"), "code"].tolist()


def indicator_nature() -> dict[str, str]:
    """Per indicator: prevalence (measures the crime), enforcement (grows with effort) or
    response (cooperation, not threat); population is the denominator."""
    return indicators().set_index("code")["nature"].to_dict()


def _words(text: str) -> list[str]:
    return [w for w in str(text or "").split() if w]


@_shared
def markets() -> pd.DataFrame:
    """The market catalogue (markets.csv, markets.meta.yaml): the Organized Crime Index's 15
    criminal markets and 5 actor types with code, kind (market | actor), the Index's name,
    es/pt/en names, linked ICCS classes, linked indicators and CLASI areas (lists)."""
    df = _read("markets.csv", dtype=str)
    return df.assign(iccs=df["iccs"].map(_words), indicators=df["indicators"].map(_words),
                     areas=df["areas"].map(_words))


@_shared
def market_anchors() -> pd.DataFrame:
    """The written anchors of the 1-10 severity scale (market_anchors.csv), es/pt/en."""
    return _read("market_anchors.csv", dtype=str).astype({"level": "int64"})


@_shared
def clasi_areas() -> pd.DataFrame:
    """CLASI's priority areas with their names and the markets each is measured by."""
    df = _read("clasi_areas.csv", dtype=str)
    cat = markets()
    return df.assign(markets=df["code"].map(
        lambda a: cat.loc[cat["areas"].map(lambda x: a in x), "code"].tolist()))


def market_catalogue_version() -> int:
    from ideal.safe_load import yaml_text

    return int(yaml_text((DATA / "markets.meta.yaml").read_text(encoding="utf-8"), "markets.meta.yaml")["version"])


@cache
def iso_countries() -> frozenset[str]:
    """Every ISO 3166-1 alpha-2 code (pycountry)."""
    return frozenset(c.alpha_2 for c in pycountry.countries)


def _areas_km2(features: list, key: str) -> dict[str, float]:
    """The area in km2 of each shape (simplified Natural Earth; Lambert cylindrical equal-area,
    x = R lon, y = R sin(lat), R = 6371 km: within a few per cent)."""
    from shapely.geometry import shape
    from shapely.ops import transform

    out: dict[str, float] = {}
    for feature in features:
        geom = shape(feature["geometry"])
        flat = transform(lambda x, y, z=None: (np.radians(x) * 6371.0, np.sin(np.radians(y)) * 6371.0), geom)
        code = feature["properties"][key]
        out[code] = out.get(code, 0.0) + float(flat.area)
    return out


@cache
def country_land_km2() -> dict[str, float]:
    """Each member's area in km2 from its outline in boundaries.json: the exposure of the
    indicators in hectares."""
    return _areas_km2(boundaries()["countries"], "country")


@cache
def region_area_km2() -> dict[str, float]:
    """Each first-level region's area in km2 (boundaries.json; a region drawn within the one it
    was split from has none), and each member's under its own code."""
    return {**_areas_km2(boundaries()["features"], "region"), **country_land_km2()}


def indicator_ceilings() -> dict[str, tuple[float, str]]:
    """Per indicator with a ``ceiling`` in indicators.csv, the most a region's yearly value can
    credibly reach and its basis: ``per 100000`` inhabitants, ``per inhabitant``, or ``per
    area`` (hectares: a share of the region's area)."""
    out = {}
    for code, ceiling in indicators()[["code", "ceiling"]].itertuples(index=False):
        if ceiling:
            value, _, basis = str(ceiling).partition(" per ")
            out[code] = (float(value), basis.strip())
    return out


@_shared
def oci_scores() -> pd.DataFrame:
    """The Organized Crime Index's market and actor scores of the members, 2021-2025
    (oci_scores.csv, written by scripts/build_oci_scores.py from the published compilation:
    GI-TOC, Global Organized Crime Index): country, year, market (IDEAL's code), score."""
    return _read("oci_scores.csv", dtype={"country": str, "market": str}).astype({"year": "int64", "score": "float64"})
