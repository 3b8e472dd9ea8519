"""The highest first-level rate per crime type in the real reference exports: the source of the
magnitude goalposts of profile ``default`` (see its comments). Reads the files through their
crosswalk profiles, exactly as a submission would be read, and divides by the population
reference data. Usage: python scripts/goalposts.py [folder of the real exports].

Also the source of the trend goalposts of methodology v4: the yearly change of first-level
rates in the same exports, each unit's negative-binomial log-linear slope over every
three-year window (four years, ideal.scoring.model, stage 1), for the units with at least 500
events in the window (so the spread is that of real trends, little of it Poisson noise);
printed as percentiles with `--trends`."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from ideal import reference
from ideal.ingest.formats import read_submission

FILES = [("mx_sesnsp_incidencia_estatal_anual", "db_incidencia_ent_nac_year_x100khab_mujeres.csv.bz2"),
         ("mx_inegi_homicidios_estatal_mensual", "mexico-state-month-homicide-rates-2000-2022.csv"),
         ("ar_snic_provincias", "snic-provincias.csv")]


def yearly(real: Path, whole_years: bool = True) -> pd.DataFrame:
    """Every first-level yearly value of the reference exports with its population and rate;
    with ``whole_years`` only years of twelve months (or one annual row)."""
    pop = reference.population()[["region", "year", "population"]]
    parts = []
    for folder, name in FILES:
        path = real / folder / name
        frame = read_submission(path.read_bytes(), path.name).frame
        frame = frame[frame["value_number"].notna() & (frame["region"] != frame["country"])]
        frame = frame.assign(year=frame["period"].str.slice(0, 4).astype(int))
        # whole years only (INEGI is monthly: twelve months make a year)
        months = frame.groupby(["region", "crime_type", "indicator", "year"])["period"].nunique()
        y = frame.groupby(["region", "crime_type", "indicator", "year"], as_index=False)["value_number"].sum()
        n = months.reindex(pd.MultiIndex.from_frame(y[["region", "crime_type", "indicator", "year"]])).to_numpy()
        y = (y[np.isin(n, (1, 12))] if whole_years else y).merge(pop, on=["region", "year"])
        parts.append(y.assign(rate=y["value_number"] / y["population"] * 1e5, source=folder))
    return pd.concat(parts, ignore_index=True)


def trends(real: Path, window: int = 3, min_events: float = 500) -> pd.DataFrame:
    """Each unit's yearly change (exp(slope) - 1) over every window of ``window`` + 1 years."""
    from ideal.scoring import model

    rates = yearly(real).rename(columns={"value_number": "value"})
    rates = rates.assign(country=rates["region"].str.slice(0, 2))
    out = []
    for (source, end), _ in rates.groupby(["source", "year"]):
        part = rates[(rates["source"] == source) & (rates["year"] <= end) & (rates["year"] >= end - window)]
        n_years = part.groupby(["region", "crime_type", "indicator"])["year"].transform("nunique")
        part = part[n_years == window + 1]
        if part.empty:
            continue
        units = part.groupby(["country", "region", "crime_type", "indicator"], as_index=False)["value"].sum()
        units = units[units["value"] >= min_events].assign(data_year=end)
        if units.empty:
            continue
        pts = model.points(part, units.reset_index(drop=True), window)
        f = model.fit(pts)
        out.append(units.reset_index(drop=True).assign(source=source, change=np.expm1(f.raw_slope)))
    return pd.concat(out, ignore_index=True)


def highest(real: Path) -> pd.DataFrame:
    rates = yearly(real, whole_years=False)
    top = rates.sort_values("rate").groupby("crime_type").tail(1).set_index("crime_type")
    top = top.assign(region_name=[reference.region_name(r) for r in top["region"]],
                     p99=rates.groupby("crime_type")["rate"].quantile(0.99), rows=rates.groupby("crime_type").size())
    return top.sort_index()[["rate", "region", "region_name", "year", "indicator", "source", "p99", "rows"]]


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    folder = Path(args[0]) if args else Path(__file__).resolve().parents[1].parent / "shared/data/real"
    if "--trends" in sys.argv:
        t = trends(folder)
        q = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.975, 0.99]
        print(f"{len(t)} unit-windows, {t['region'].nunique()} regions, "
              f"{t['crime_type'].nunique()} crime types, sources: {', '.join(sorted(t['source'].unique()))}")
        print((t["change"].quantile(q) * 100).round(1).rename("yearly change %").to_string())
        print("share within +-25 %:", round(float(t["change"].abs().le(0.25).mean()), 3))
    else:
        print(highest(folder).round(1).to_string())
