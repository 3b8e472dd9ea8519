"""The nowcast of a partial year measured on real monthly series: the INEGI monthly homicides
by state (../shared/data/real/mx_inegi_homicidios_estatal_mensual, 32 states, 2000-2022).

For every state and every year from 2006 on (five earlier years of history at least), the
year is cut after its first 3, 6 and 9 months (the last 9, 6 and 3 months held out), estimated
from the months kept and the earlier years only (ideal.scoring.nowcast, as the assessment
does it), and compared with the year's true total. Reported per months known: the median and
mean absolute percentage error and the bias of the nowcast and of the plain annualisation
(x 12 / months), and how often the nowcast's 90 % interval holds the true total.

    python -m scripts.nowcast_study [--data PATH] [--out bench/results/nowcast.md]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import poisson

from ideal.scoring.nowcast import mask_of, nowcast

DEFAULT = (Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
           / "mx_inegi_homicidios_estatal_mensual" / "mexico-state-month-homicide-rates-2000-2022.csv")


def series(path: Path) -> pd.DataFrame:
    raw = pd.read_csv(path, sep="|", dtype={"cve_ent": str})
    return pd.DataFrame({"country": "MX", "region": "MX-" + raw["cve_ent"], "crime_type": "0101",
                         "indicator": "victims", "year": raw["year"].astype("int64"),
                         "month": raw["month"].astype("int64"), "value": raw["homicides"].astype("float64")})


def study(months: pd.DataFrame, known_months: tuple[int, ...] = (3, 6, 9), first: int = 2006,
          interval: float = 0.9) -> pd.DataFrame:
    """One row per state, year and months known: truth, nowcast, its interval, annualisation."""
    keys = ["country", "region", "crime_type", "indicator"]
    rows = []
    for year in range(first, int(months["year"].max()) + 1):
        for n in known_months:
            seen = months[(months["year"] < year) | ((months["year"] == year) & (months["month"] <= n))]
            this = months[months["year"] == year]
            truth = this.groupby(keys)["value"].sum().rename("truth")
            known = this[this["month"] <= n].groupby(keys)["value"].sum().rename("known")
            partial = pd.concat([known, truth], axis=1).reset_index().assign(year=year, mask=mask_of(range(1, n + 1)))
            est = nowcast(seen, partial.drop(columns="truth"), interval=interval)
            # the plain annualisation with the only interval it implies: the rest as Poisson
            expected = partial["known"].to_numpy() * (12 - n) / n
            rows.append(est.assign(truth=partial["truth"].to_numpy(), months=n,
                                   annualised=partial["known"].to_numpy() * 12 / n,
                                   p_lo=partial["known"].to_numpy() + poisson.ppf(0.05, expected),
                                   p_hi=partial["known"].to_numpy() + poisson.ppf(0.95, expected)))
    return pd.concat(rows, ignore_index=True)


def summary(results: pd.DataFrame) -> pd.DataFrame:
    r = results[results["truth"] > 0]
    out = []
    for n, g in r.groupby("months"):
        ape_now = (g["value"] - g["truth"]).abs() / g["truth"] * 100
        ape_ann = (g["annualised"] - g["truth"]).abs() / g["truth"] * 100
        out.append({"months known": f"{n} (last {12 - n} held out)", "state-years": len(g),
                    "nowcast MdAPE %": round(float(ape_now.median()), 1),
                    "nowcast MAPE %": round(float(ape_now.mean()), 1),
                    "nowcast bias %": round(float(((g["value"] - g["truth"]) / g["truth"]).mean() * 100), 1),
                    "x12/n MdAPE %": round(float(ape_ann.median()), 1),
                    "x12/n MAPE %": round(float(ape_ann.mean()), 1),
                    "x12/n bias %": round(float(((g["annualised"] - g["truth"]) / g["truth"]).mean() * 100), 1),
                    "90 % interval covers %": round(float(((g["truth"] >= g["lo"]) & (g["truth"] <= g["hi"])).mean() * 100), 1),
                    "median interval width %": round(float(((g["hi"] - g["lo"]) / g["truth"]).median() * 100), 1),
                    "x12/n Poisson 90 % covers %": round(float(((g["truth"] >= g["p_lo"]) & (g["truth"] <= g["p_hi"])).mean() * 100), 1)})
    return pd.DataFrame(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT)
    parser.add_argument("--out", type=Path, default=Path("bench/results/nowcast.md"))
    args = parser.parse_args()
    table = summary(study(series(args.data)))
    text = table.to_markdown(index=False)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("# Nowcast of a partial year: INEGI monthly homicides, 32 states, 2006-2022\n\n"
                        "`python -m scripts.nowcast_study`\n\n" + text + "\n")
    assert np.isfinite(table["nowcast MAPE %"]).all()


if __name__ == "__main__":
    main()
