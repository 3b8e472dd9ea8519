"""The simulation study of the methodology (#16): counts drawn from a known truth, scored by
IDEAL, and each pillar compared with the truth beside a plain reference estimator.

    uv run python -m bench.simulation [--seed 1] [--countries 3] [--regions 20]

Truth: per country and crime type, regional rates spread over two orders of magnitude
(log-uniform 0.5-50 per 100,000 for rare crimes, 5-500 for frequent ones), regional
populations from 20,000 to 5 M (log-uniform), yearly trends that differ between the regions
of a country (the country's trend +- 8 % a year), five years 2021-2025; counts are Poisson.

Reported per crime type: the Spearman correlation with the true 2025 rate of IDEAL's magnitude
pillar (profile default, and the v2 measurement: raw rates), of a reference Poisson-Gamma rate
(written here, per crime type), and with the true trend of IDEAL's trend pillar (v3 and v2) and
of a reference weighted log-linear slope with empirical-Bayes shrinkage (written here). Target:
IDEAL v3 at least as good as the reference on both.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from ideal.scoring.profile import load_profile
from ideal.scoring.score import score

CRIMES = {"0101": (0.5, 50.0), "0401": (5.0, 500.0)}  # rare and frequent
YEARS = [2021, 2022, 2023, 2024, 2025]


def truth(seed: int, countries: int, regions: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(observations, population, truth per unit: rate 2025 per 100,000 and yearly trend)."""
    rng = np.random.default_rng(seed)
    obs, pop, true = [], [], []
    codes = ["AR", "CL", "CO", "MX", "PE"][:countries]
    for cc in codes:
        for i in range(regions):
            region = f"{cc}-S{i:02d}"[:8]
            people = float(np.exp(rng.uniform(np.log(2e4), np.log(5e6))))
            pop += [(cc, region, y, int(people), 0) for y in YEARS]
        for crime, (lo, hi) in CRIMES.items():
            national = rng.normal(0.0, 0.10)
            for i in range(regions):
                region = f"{cc}-S{i:02d}"[:8]
                people = next(p[3] for p in pop if p[1] == region)
                rate25 = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
                trend = national + rng.normal(0.0, 0.08)
                true.append((cc, region, crime, rate25, trend))
                for y in YEARS:
                    mean = rate25 / 1e5 * people * np.exp(trend * (y - 2025))
                    obs.append((cc, region, str(y), crime, "incidents", float(rng.poisson(mean)), "A"))
    o = pd.DataFrame(obs, columns=["country", "region", "period", "crime_type", "indicator", "value", "obs_status"])
    p = pd.DataFrame(pop, columns=["country", "region", "year", "population", "synthetic"])
    t = pd.DataFrame(true, columns=["country", "region", "crime_type", "true_rate", "true_trend"])
    return o, p, t


def reference(o: pd.DataFrame, p: pd.DataFrame, window: int = 3) -> pd.DataFrame:
    """Plain estimators, written apart from IDEAL: a Poisson-Gamma (Marshall) rate per crime type
    and country, and a weighted least-squares slope of log((count + 0.5) / population) with
    weights count + 0.5, shrunk to the country mean by the method of moments."""
    d = o.assign(year=o["period"].astype(int)).merge(p[["region", "year", "population"]], on=["region", "year"])
    last = d[d["year"] == 2025]
    rows = []
    for (cc, crime), g in last.groupby(["country", "crime_type"]):
        y, n = g["value"].to_numpy(), g["population"].to_numpy(float)
        m = y.sum() / n.sum()
        r = y / n
        a = max((n * (r - m) ** 2).sum() / n.sum() - m / n.mean(), 0.0)
        eb = m + (r - m) * (a / (a + m / n) if a > 0 else 0.0)
        slopes, ses = [], []
        for region in g["region"]:
            s = d[(d["region"] == region) & (d["crime_type"] == crime) & (d["year"] >= 2025 - window)]
            t = s["year"].to_numpy(float)
            w = s["value"].to_numpy() + 0.5
            ly = np.log(w / s["population"].to_numpy(float))
            tb = (w * t).sum() / w.sum()
            sxx = (w * (t - tb) ** 2).sum()
            slopes.append((w * (t - tb) * ly).sum() / sxx)
            ses.append(1 / sxx)
        b, se2 = np.array(slopes), np.array(ses)
        mean = (b / se2).sum() / (1 / se2).sum()
        tau2 = max(((b - mean) ** 2 - se2).mean(), 0.0)
        shrunk = mean + (b - mean) * tau2 / (tau2 + se2)
        rows += [(cc, reg, crime, e * 1e5, s) for reg, e, s in zip(g["region"], eb, shrunk, strict=True)]
    return pd.DataFrame(rows, columns=["country", "region", "crime_type", "ref_rate", "ref_trend"])


def study(seed: int = 1, countries: int = 3, regions: int = 20, draws: int = 20) -> dict:
    o, p, t = truth(seed, countries, regions)
    v3 = load_profile("default")
    v3 = {**v3, "uncertainty": {**v3["uncertainty"], "draws": draws}}
    v2 = {**v3, "smoothing": {"magnitude": "none", "trend": "none"},
          "pillars": {**v3["pillars"], "trend": {**v3["pillars"]["trend"], "method": "endpoints"}}}
    s3, _, _ = score(o, p, v3, "2025")
    s2, _, _ = score(o, p, v2, "2025")
    keys = ["country", "region", "crime_type"]
    m = (t.merge(reference(o, p), on=keys)
         .merge(s3[keys + ["magnitude", "trend", "rate_model"]], on=keys)
         .merge(s2[keys + ["magnitude", "trend"]].rename(columns={"magnitude": "magnitude_v2", "trend": "trend_v2"}), on=keys))
    out = {}
    for crime, g in m.groupby("crime_type"):
        def rho(a, b, g=g):
            return round(float(spearmanr(g[a], g[b], nan_policy="omit").statistic), 3)
        out[crime] = {
            "magnitude": {"ideal_v3": rho("rate_model", "true_rate"), "ideal_v3_pillar": rho("magnitude", "true_rate"),
                          "ideal_v2_pillar": rho("magnitude_v2", "true_rate"), "reference": rho("ref_rate", "true_rate")},
            "trend": {"ideal_v3": rho("trend", "true_trend"), "ideal_v2": rho("trend_v2", "true_trend"),
                      "reference": rho("ref_trend", "true_trend")},
            "units": len(g)}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--countries", type=int, default=3)
    ap.add_argument("--regions", type=int, default=20)
    args = ap.parse_args()
    res = study(args.seed, args.countries, args.regions)
    print(json.dumps(res, indent=1))
    for crime, r in res.items():
        ok = (r["magnitude"]["ideal_v3"] >= r["magnitude"]["reference"] - 0.01
              and r["trend"]["ideal_v3"] >= r["trend"]["reference"] - 0.01)
        print(f"{crime}: magnitude v3 {r['magnitude']['ideal_v3']} (v2 pillar {r['magnitude']['ideal_v2_pillar']}, "
              f"reference {r['magnitude']['reference']}); trend v3 {r['trend']['ideal_v3']} "
              f"(v2 {r['trend']['ideal_v2']}, reference {r['trend']['reference']}): "
              f"{'target met' if ok else 'TARGET MISSED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
