"""Methodology v5 (#48) measured on simulated truth, printed by `make bench` and runnable alone:

    uv run python -m bench.v5 [--replicates 10]

Each scenario draws members' regions with a known log rate and a known yearly trend of their
own (sd TREND_SD around their country's), counts over YEARS years that are Poisson or
over-dispersed (variance mu + mu^2 / 8), with or without a national spike (+40 % in one year,
shared by all regions of a country, plus small yearly shocks). On each it reports:

1. **Trends**: Spearman of the estimated with the true trends inside each country (the mean
   over countries), for v5 (country x year effects, the boundary-avoiding variance, every
   year), v4 on its 3-year window, and a plain weighted (Poisson) log-linear slope over all
   the years; the coverage of v5's and v4's 95 % intervals; how many countries' regions share
   one trend (v4's failure on real exports).
2. **Magnitude**: Spearman of the modelled with the true rates of the data year, against the
   recorded rates.
3. **WHERE**: P(exceed k x the members' median) from the run's own data draws
   (ideal.scoring.uncertainty.data_draws, the profile's 200 draws) against whether the true
   rate exceeds it: calibration per decile of P (mean P against the share that truly
   exceeds, deciles with at least 20 units), and the hotspots' precision.

The truth is what the generator holds (each region's own trend; the national shocks are not
part of it), so a shock that falls on the last year of a short series counts as an error.
"""

from __future__ import annotations

import argparse
from datetime import date

import numpy as np
import pandas as pd

TREND_SD, SPIKE, KAPPA = 0.08, 0.35, 1 / 8
COLS = ["country", "region", "crime_type", "year", "value", "population", "indicator"]


def simulate(seed: int, years: int, spike: bool, nb: bool, countries: int = 6, regions: int = 16):
    rng = np.random.default_rng(seed)
    ys = list(range(2025 - years + 1, 2026))
    rows, units, truth, level = [], [], [], []
    for c in range(countries):
        national, base = rng.normal(0, 0.05), rng.normal(0, 0.5)
        shocks = rng.normal(0, 0.05, len(ys)) if spike else np.zeros(len(ys))
        if spike:
            shocks[rng.integers(len(ys))] += SPIKE
        for r in range(regions):
            pop = float(np.exp(rng.uniform(np.log(2e5), np.log(5e6))))
            rate = float(np.exp(rng.uniform(np.log(2), np.log(60)) + base))
            tr = national + rng.normal(0, TREND_SD)
            truth.append(tr)
            level.append(rate * np.exp(shocks[-1]))
            units.append((f"C{c}", f"C{c}-{r:02d}", "0101", "incidents", 2025, "official"))
            for j, y in enumerate(ys):
                mu = rate / 1e5 * pop * np.exp(tr * (y - 2025) + shocks[j])
                lam = rng.gamma(1 / KAPPA, mu * KAPPA) if nb else mu
                rows.append((f"C{c}", f"C{c}-{r:02d}", "0101", y, float(rng.poisson(lam)), pop, "incidents"))
    rates = pd.DataFrame(rows, columns=COLS).assign(rate=lambda d: d["value"] / d["population"] * 1e5)
    u = pd.DataFrame(units, columns=["country", "region", "crime_type", "indicator", "data_year", "population_method"])
    recorded = rates[rates["year"] == 2025].set_index("region")["rate"]
    u = u.assign(rate=u["region"].map(recorded))
    return rates, u, np.array(truth), np.array(level)


def plain_slope(rates: pd.DataFrame, units: pd.DataFrame) -> np.ndarray:
    out = []
    by = {k: g for k, g in rates.groupby("region")}
    for r in units.itertuples():
        g = by[r.region]
        t = (g["year"] - r.data_year).to_numpy(dtype=float)
        y = g["value"].to_numpy() + 0.5
        x = np.column_stack([np.ones_like(t), t])
        out.append(np.linalg.solve(x.T @ (y[:, None] * x), x.T @ (y * np.log(y / g["population"].to_numpy())))[1])
    return np.array(out)


def within(est, truth, country) -> float:
    from scipy.stats import spearmanr

    vals = []
    for c in np.unique(country):
        s = country == c
        if np.ptp(est[s]) == 0:
            vals.append(0.0)  # one trend for all regions: no ordering at all
        else:
            vals.append(spearmanr(est[s], truth[s])[0])
    return float(np.mean(vals))


def scenario(years: int, spike: bool, nb: bool, replicates: int, profile: dict) -> dict:
    from scipy.stats import spearmanr

    from ideal.scoring import model, uncertainty, where

    opts = model.options(profile)
    acc = {k: [] for k in ("v5", "v4_window3", "plain_all_years", "cover_v5", "cover_v4", "shared_v5", "shared_v4",
                           "level_v5", "level_recorded")}
    cal_p, cal_hit = [], []
    for rep in range(replicates):
        rates, u, truth, level = simulate(1000 * years + 10 * rep + spike + 2 * nb, years, spike, nb)
        country = u["country"].to_numpy()
        f5 = model.fit(model.points(rates, u, years - 1, opts))
        f4 = model.fit(model.points(rates, u, 3))
        acc["v5"].append(within(f5.slope, truth, country))
        acc["v4_window3"].append(within(f4.slope, truth, country))
        acc["plain_all_years"].append(within(plain_slope(rates, u), truth, country))
        acc["cover_v5"].append(float(np.mean(np.abs(f5.slope - truth) <= 1.96 * np.sqrt(f5.slope_var))))
        acc["cover_v4"].append(float(np.mean(np.abs(f4.slope - truth) <= 1.96 * np.sqrt(f4.slope_var))))
        acc["shared_v5"].append(int(sum(np.ptp(f5.slope[country == c]) < 1e-4 for c in np.unique(country))))
        acc["shared_v4"].append(int(sum(np.ptp(f4.slope[country == c]) < 1e-4 for c in np.unique(country))))
        acc["level_v5"].append(float(spearmanr(f5.level, np.log(level))[0]))
        acc["level_recorded"].append(float(spearmanr(u["rate"], level)[0]))
        prof = {**profile, "pillars": {**profile["pillars"], "trend": {**profile["pillars"]["trend"],
                                                                      "window_years": years - 1}}}
        draws = uncertainty.data_draws(rates, u, prof)
        e = where.exceedance(u, draws["rate_model"], draws["trend"], profile["where"])
        cal_p.append(e["p_exceed"].to_numpy())
        cal_hit.append(level > e["exceed_threshold"].to_numpy())
    p, hit = np.concatenate(cal_p), np.concatenate(cal_hit)
    deciles = []
    for lo in np.arange(0, 1, 0.1):
        s = (p >= lo) & (p < lo + 0.1 if lo < 0.9 else p <= 1)
        if s.sum() >= 20:
            mp = float(p[s].mean())
            deciles.append({"from": round(float(lo), 1), "units": int(s.sum()), "mean_p": round(mp, 3),
                            "share_true": round(float(hit[s].mean()), 3),
                            "se": round(float(np.sqrt(max(mp * (1 - mp), 1e-4) / s.sum())), 3)})
    hot = p >= profile["where"]["hotspot"]
    out = {k: round(float(np.mean(v)), 3) for k, v in acc.items()}
    out.update(years=years, spike=spike, counts="negative binomial (kappa 1/8)" if nb else "Poisson",
               replicates=replicates, calibration=deciles,
               calibration_max_gap=round(max((abs(d["mean_p"] - d["share_true"]) for d in deciles), default=0), 3),
               # a decile of 20-40 units cannot show a gap below 0.05: its binomial standard
               # error is 0.08-0.11; the share of deciles within two of them
               calibration_within_2se=round(float(np.mean([abs(d["mean_p"] - d["share_true"]) <= 2 * d["se"]
                                                           for d in deciles])), 3) if deciles else None,
               hotspot_precision=round(float(hit[hot].mean()), 3) if hot.any() else None,
               hotspot_recall=round(float(hot[hit].mean()), 3) if hit.any() else None)
    return out


def main() -> None:
    from bench.harness import write_results
    from ideal.scoring.profile import load_profile

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicates", type=int, default=10)
    args = ap.parse_args()
    profile = load_profile("default")
    res = {"date": date.today().isoformat(), "profile_version": profile["version"], "scenarios": []}
    for years in (4, 8):
        for spike in (False, True):
            for nb in (True, False):
                s = scenario(years, spike, nb, args.replicates, profile)
                res["scenarios"].append(s)
                print(f"{years} years, spike {spike}, {s['counts']}: trend Spearman v5 {s['v5']} / v4 "
                      f"{s['v4_window3']} / plain {s['plain_all_years']}; 95 % cover v5 {s['cover_v5']} v4 "
                      f"{s['cover_v4']}; shared v5 {s['shared_v5']} v4 {s['shared_v4']}; level v5 {s['level_v5']} "
                      f"recorded {s['level_recorded']}; P(exceed) max gap {s['calibration_max_gap']}", flush=True)
    write_results(res, "v5")


if __name__ == "__main__":
    main()
