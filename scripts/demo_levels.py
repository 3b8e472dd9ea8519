"""The published levels the demo submissions are generated around (ideal.ingest.demo), written
to ideal/reference/data/demo_levels.csv. Usage: python scripts/demo_levels.py [folder of the real
exports] (default: the shared real data beside the project).

Three kinds of rows, each with its source:

* ``national``: a member's national rate per 100,000 for a crime type in the demo's first year.
  Homicide (0101, victims) for every member: UNODC's latest published rate (Global Study on
  Homicide 2019 annex, the shared ``unodc_homicidios_paises``), with its trend as the log-linear
  slope of its last six published years. Other crime types for Mexico (SESNSP 2024) and
  Argentina (SNIC 2023): the rate of the country's own first-level export.
* ``region``: a region's rate relative to its country's, read from the real first-level exports
  (Mexico's SESNSP 2024 for every crime type it has, INEGI 2022 for homicide victims, Argentina's
  SNIC 2023, Colombia's 2024 municipal homicides by department).
* ``path``: a member's national homicide rate (victims per 100,000) of each recent year as InSight
  Crime's 2023 Homicide Round-Up published it (the shared ``published/homicide_rates_2019_2023.csv``,
  compiled from each country's official sources): the demo follows it to its latest year and
  drifts little after, so it shows the region of today (Ecuador's rise, El Salvador's fall), not
  UNODC's 2017 levels. A member without a recent figure (Bolivia; Argentina after 2020) keeps
  the rows above.
* ``spread``: per crime type, the standard deviation of the log relative rates of the regions
  above less their Poisson noise (the median over the countries that have it): the regional spread drawn for the members
  without a first-level export here.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pycountry

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from goalposts import yearly  # noqa: E402

from ideal import reference  # noqa: E402
from ideal.ingest.formats import read_submission  # noqa: E402

OUT = ROOT / "ideal" / "reference" / "data" / "demo_levels.csv"
# (source folder, year): the latest whole year of each export
REGIONAL = {"mx_sesnsp_incidencia_estatal_anual": 2024, "mx_inegi_homicidios_estatal_mensual": 2022,
            "ar_snic_provincias": 2023}
CO = ("co_homicidios_municipal_2024", "datos3.csv", 2024)
TREND_YEARS = 6
MIN_EVENTS = 30  # a crime type's regional spread is read only where the country counts this many


def unodc(real: Path, members: list[str]) -> pd.DataFrame:
    """Each member's latest UNODC homicide rate (victims per 100,000), its year and the yearly
    change of its last published years."""
    table = pd.read_csv(real / "unodc_homicidios_paises" / "Shiny_DT.csv")
    table = table[table["Indicator"] == "Homicide Rate"]
    years = [c for c in table.columns if c.isdigit()]
    rows = []
    for cc in members:
        short = pycountry.countries.get(alpha_2=cc).name.split(",")[0]
        match = table[table["Country"].str.split(" \\(", regex=True).str[0] == short]
        if len(match) != 1:
            raise SystemExit(f"UNODC table: no single row for {cc} ({short})")
        series = match.iloc[0][years].dropna().astype(float)
        recent = series.iloc[-TREND_YEARS:]
        x = recent.index.astype(int).to_numpy()
        slope = float(np.polyfit(x - x.mean(), np.log(np.maximum(recent.to_numpy(), 0.1)), 1)[0])
        rows.append({"kind": "national", "key": cc, "crime_type": "0101", "value": float(series.iloc[-1]),
                     "year": int(series.index[-1]), "trend": round(float(np.expm1(slope)), 4),
                     "source": "UNODC Global Study on Homicide 2019 (victims)"})
    return pd.DataFrame(rows)


def published(folder: Path, members: list[str]) -> pd.DataFrame:
    """The recent national homicide rates of the shared published table, one row per member and
    year with a figure."""
    table = pd.read_csv(folder / "homicide_rates_2019_2023.csv", dtype={"iso2": str})
    rows = []
    for _, r in table[table["iso2"].isin(members)].iterrows():
        for year in (c for c in table.columns if c.isdigit()):
            if pd.notna(r[year]):
                rows.append({"kind": "path", "key": r["iso2"], "crime_type": "0101", "value": float(r[year]),
                             "year": int(year), "trend": np.nan,
                             "source": "InSight Crime, 2023 Homicide Round-Up (official sources)"})
    return pd.DataFrame(rows)


def regional(real: Path) -> pd.DataFrame:
    """Every region's rate and its country's, per source, crime type and indicator."""
    rates = yearly(real)
    rates = pd.concat([rates[rates["source"].eq(src) & rates["year"].eq(yr)] for src, yr in REGIONAL.items()])
    path = real / CO[0] / CO[1]
    co = read_submission(path.read_bytes(), path.name).frame
    co = co[co["value_number"].notna() & (co["region"] != co["country"])].assign(year=CO[2])
    pop = reference.population()[["region", "year", "population"]]
    co = (co.groupby(["region", "crime_type", "indicator", "year"], as_index=False)["value_number"].sum()
          .merge(pop, on=["region", "year"]).assign(source=CO[0]))
    rates = pd.concat([rates, co], ignore_index=True).assign(country=lambda d: d["region"].str.slice(0, 2))
    keys = ["source", "country", "crime_type", "indicator"]
    national = rates.groupby(keys)[["value_number", "population"]].transform("sum")
    return rates.assign(national_rate=national["value_number"] / national["population"] * 1e5,
                        national_count=national["value_number"],
                        # half an event where none was counted: a log relative rate for every region
                        relative=(rates["value_number"].clip(lower=0.5) / rates["population"] * 1e5)
                        / (national["value_number"] / national["population"] * 1e5))


def main(real: Path) -> pd.DataFrame:
    members = sorted(reference.population()["country"].unique())
    rates = regional(real)
    # one indicator per source and crime type: incidents where sent (the demo's first indicator)
    rates = rates.assign(_i=rates["indicator"].eq("incidents"))
    rates = rates[rates["_i"] == rates.groupby(["source", "crime_type"])["_i"].transform("max")]
    rates = rates[rates["national_count"] >= MIN_EVENTS]
    # homicide: SESNSP counts investigation files, INEGI victims; INEGI is the regional pattern
    rates = rates[~(rates["source"].eq("mx_sesnsp_incidencia_estatal_anual") & rates["crime_type"].eq("0101"))]
    label = {"mx_sesnsp_incidencia_estatal_anual": "SESNSP 2024", "mx_inegi_homicidios_estatal_mensual": "INEGI 2022",
             "ar_snic_provincias": "SNIC 2023", "co_homicidios_municipal_2024": "Colombia municipal homicides 2024"}
    region_rows = rates.assign(kind="region", key=rates["region"], value=rates["relative"].round(4),
                               trend=np.nan, source=rates["source"].map(label))
    nat = (rates[rates["crime_type"] != "0101"].groupby(["source", "country", "crime_type", "year"], as_index=False)
           ["national_rate"].first())
    nat_rows = nat.assign(kind="national", key=nat["country"], value=nat["national_rate"].round(3),
                          trend=np.nan, source=nat["source"].map(label))
    # the spread of the regions' true rates: the variance of the log relative rates less the
    # Poisson part (about 1 / count per region), so that rare crimes are not drawn noisier twice
    logs = rates.assign(log=np.log(rates["relative"]), noise=1 / rates["value_number"].clip(lower=0.5))
    parts = logs.groupby(["source", "crime_type"]).agg(var=("log", "var"), noise=("noise", "mean"))
    spread = np.sqrt((parts["var"] - parts["noise"]).clip(lower=0.04)).groupby("crime_type").median()
    spread_rows = pd.DataFrame({"kind": "spread", "key": "*", "crime_type": spread.index,
                                "value": spread.round(4).to_numpy(), "year": np.nan, "trend": np.nan,
                                "source": "median over " + ", ".join(label.values())})
    cols = ["kind", "key", "crime_type", "value", "year", "trend", "source"]
    recent = published(real.parent / "published", members)
    out = pd.concat([unodc(real, members)[cols], nat_rows[cols], recent[cols], region_rows[cols], spread_rows[cols]],
                    ignore_index=True)
    return out.astype({"year": "Int64"}).sort_values(["kind", "key", "crime_type"], kind="stable")


if __name__ == "__main__":
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "data" / "real"
    table = main(folder)
    table.to_csv(OUT, index=False, lineterminator="\n")
    print(f"{len(table)} rows written to {OUT.relative_to(ROOT)}")
    print(table[table["kind"].isin(["national", "spread"])].to_string(index=False))
