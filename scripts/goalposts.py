"""The highest first-level rate per crime type in the real reference exports: the source of the
magnitude goalposts of profile ``default`` (see its comments). Reads the files through their
crosswalk profiles, exactly as a submission would be read, and divides by the population
reference data. Usage: python scripts/goalposts.py [folder of the real exports]."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from ideal import reference
from ideal.ingest.formats import read_submission

FILES = [("mx_sesnsp_incidencia_estatal_anual", "db_incidencia_ent_nac_year_x100khab_mujeres.csv.bz2"),
         ("mx_inegi_homicidios_estatal_mensual", "mexico-state-month-homicide-rates-2000-2022.csv"),
         ("ar_snic_provincias", "snic-provincias.csv")]


def highest(real: Path) -> pd.DataFrame:
    pop = reference.population()[["region", "year", "population"]]
    parts = []
    for folder, name in FILES:
        path = real / folder / name
        frame = read_submission(path.read_bytes(), path.name).frame
        frame = frame[frame["value_number"].notna() & (frame["region"] != frame["country"])]
        frame = frame.assign(year=frame["period"].str.slice(0, 4).astype(int))
        yearly = frame.groupby(["region", "crime_type", "indicator", "year"], as_index=False)["value_number"].sum()
        yearly = yearly.merge(pop, on=["region", "year"])
        parts.append(yearly.assign(rate=yearly["value_number"] / yearly["population"] * 1e5, source=folder))
    rates = pd.concat(parts, ignore_index=True)
    top = rates.sort_values("rate").groupby("crime_type").tail(1).set_index("crime_type")
    top = top.assign(region_name=[reference.region_name(r) for r in top["region"]],
                     p99=rates.groupby("crime_type")["rate"].quantile(0.99), rows=rates.groupby("crime_type").size())
    return top.sort_index()[["rate", "region", "region_name", "year", "indicator", "source", "p99", "rows"]]


if __name__ == "__main__":
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1].parent / "shared/data/real"
    print(highest(folder).round(1).to_string())
