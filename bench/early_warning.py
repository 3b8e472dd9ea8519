"""The early-warning study (#31, #48): how often the detector (ideal.scoring.early_warning.
detect_regression) raises an alarm when nothing changed, and how soon it finds a series that
doubled.

    uv run python -m bench.early_warning [--series 2000] [--seed 7] [--null-runs 200] [--out FILE]

Each series: 36 baseline months and 12 monitored ones (one year); a mean of 5 to 500 events a
month (log-uniform), a yearly trend of -15 % to +15 % (an ordinary trend, carried through the
monitored year), a seasonal swing of 0 to +-40 % (one yearly harmonic, random phase), and
negative-binomial noise with kappa 0 to 0.05 (year-to-year noise beyond Poisson of up to
22 %); with ``curvature`` c the trend bends (the log mean gains (b/2) x years^2, b drawn in
[-c, c]: the yearly trend moves by up to c a year, which the baseline's straight line does
not follow). A share of the series (one in ten by default) doubles from a month drawn in
months 1-10 of the monitored year and stays doubled. It reports:

- *null runs*: with nothing changed in 1,000 series, the share of runs in which any alarm is
  raised (the promise of a false-discovery rate of 5 %: at most 5 %), for v5 (the dispersion's
  empirical-Bayes posterior) and v4 (each series' own estimate as if known);
- the doublings found within three months of their start (the start month and the next two;
  target at least 80 %) and the unchanged series flagged in the year (target at most 2 %);
- the curve: unchanged series flagged and the false-discovery proportion among the flagged
  series, against the share of series that changed and the curvature of trends.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import pandas as pd

from ideal.scoring.early_warning import detect_regression

BASE, MONITOR = 36, 12


def simulate(n: int, seed: int, share: float = 0.1, low: float = 5.0, high: float = 500.0,
             curvature: float = 0.0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(series: units x months, truth per series: doubled and its start month index)."""
    rng = np.random.default_rng(seed)
    months = [f"{2021 + i // 12}-{i % 12 + 1:02d}" for i in range(BASE + MONITOR)]
    t = np.arange(BASE + MONITOR)
    mean = np.exp(rng.uniform(np.log(low), np.log(high), n))
    trend = rng.uniform(-0.15, 0.15, n)
    amp = rng.uniform(0, 0.4, n)
    phase = rng.uniform(0, 2 * np.pi, n)
    kappa = rng.uniform(0, 0.05, n)
    bend = rng.uniform(-curvature, curvature, n) if curvature else np.zeros(n)
    years = (t - BASE)[None, :] / 12
    mu = mean[:, None] * np.exp(np.log1p(trend)[:, None] * years + bend[:, None] / 2 * years ** 2) \
        * (1 + amp[:, None] * np.sin(2 * np.pi * t[None, :] / 12 + phase[:, None]))
    doubled = rng.random(n) < share
    start = rng.integers(0, MONITOR - 2, n)
    step = np.where(doubled[:, None] & (t[None, :] >= BASE + start[:, None]), 2.0, 1.0)
    lam = mu * step
    lam = np.where(kappa[:, None] > 0, rng.gamma(1 / np.maximum(kappa, 1e-9)[:, None], lam * kappa[:, None]), lam)
    y = rng.poisson(lam).astype("float64")
    index = pd.MultiIndex.from_arrays([[f"C{i % 18:02d}" for i in range(n)], [f"R{i:05d}" for i in range(n)],
                                       ["0101"] * n, ["incidents"] * n],
                                      names=["country", "region", "crime_type", "indicator"])
    series = pd.DataFrame(y, index=index, columns=months)
    truth = pd.DataFrame({"region": index.get_level_values("region"), "doubled": doubled,
                          "start": np.where(doubled, start, -1), "mean": mean})
    return series, truth


V4 = {"dispersion": "plugin"}


def study(n: int = 2000, seed: int = 7, share: float = 0.1, curvature: float = 0.0,
          settings: dict | None = None) -> dict:
    series, truth = simulate(n, seed, share=share, curvature=curvature)
    alarms, info = detect_regression(series, settings)
    watched = list(series.columns[-MONITOR:])
    first = alarms.assign(at=alarms["alarm"].map(watched.index)).set_index("region")["at"]
    t = truth.assign(alarm_at=truth["region"].map(first))
    null = t[~t["doubled"]]
    dbl = t[t["doubled"]]
    found = dbl["alarm_at"].notna() & (dbl["alarm_at"] >= dbl["start"]) & (dbl["alarm_at"] <= dbl["start"] + 2)
    small = dbl["mean"] < 20
    flagged = int(t["alarm_at"].notna().sum())
    false = int(null["alarm_at"].notna().sum())
    return {"series": n, "monitored": info["series"], "unchanged": len(null), "doubled": len(dbl),
            "share_changed": share, "curvature": curvature,
            "false_alarm_share_per_year": round(float(null["alarm_at"].notna().mean()), 4),
            "false_discovery_proportion": round(false / flagged, 4) if flagged else 0.0,
            "doublings_found_within_3_months": round(float(found.mean()), 4) if len(dbl) else None,
            "doublings_found_within_3_months_mean_below_20": round(float(found[small].mean()), 4) if small.any() else None,
            "alarms_before_the_doubling": int((dbl["alarm_at"] < dbl["start"]).sum())}


def null_runs(runs: int = 200, n: int = 1000, seed: int = 1000, settings: dict | None = None,
              curvature: float = 0.0) -> dict:
    """With nothing changed: in how many runs of ``n`` series any alarm is raised."""
    raised = 0
    for i in range(runs):
        series, _ = simulate(n, seed + i, share=0.0, curvature=curvature)
        alarms, _ = detect_regression(series, settings)
        raised += int(len(alarms) > 0)
    return {"runs": runs, "series": n, "curvature": curvature, "runs_with_an_alarm": raised,
            "share": round(raised / runs, 4)}


def curve(n: int = 2000, seed: int = 7, shares=(0.02, 0.05, 0.1, 0.2), curvatures=(0.0, 0.05, 0.1),
          settings: dict | None = None) -> list[dict]:
    """Unchanged series flagged and the false-discovery proportion against the share of series
    that changed and the curvature of trends."""
    return [study(n, seed + 31 * i, share=sh, curvature=c, settings=settings)
            for i, (sh, c) in enumerate((sh, c) for c in curvatures for sh in shares)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--series", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--null-runs", type=int, default=200)
    ap.add_argument("--out", help="write the results as JSON to this file")
    args = ap.parse_args()
    res = {"null_v5": null_runs(args.null_runs), "null_v4": null_runs(args.null_runs, settings=V4),
           "null_v5_bending": null_runs(args.null_runs // 2, curvature=0.1),
           "power_v5": [study(args.series, args.seed + i) for i in range(args.seeds)],
           "power_v4": [study(args.series, args.seed + i, settings=V4) for i in range(args.seeds)],
           "curve_v5": curve(args.series, args.seed)}
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            json.dump(res, fh, indent=1)
    for key in ("null_v5", "null_v4", "null_v5_bending"):
        r = res[key]
        print(f"{key}: with nothing changed in {r['series']:,} series (curvature {r['curvature']}), "
              f"{r['runs_with_an_alarm']} of {r['runs']} runs raised an alarm ({r['share']:.1%}; promise <= 5 %)")
    for key in ("power_v5", "power_v4"):
        det = float(np.mean([r["doublings_found_within_3_months"] for r in res[key]]))
        fa = float(np.mean([r["false_alarm_share_per_year"] for r in res[key]]))
        print(f"{key}: doublings found within 3 months {det:.1%} (target >= 80 %), unchanged series "
              f"flagged {fa:.2%} (target <= 2 %)")
    print("curve (v5): share changed, curvature -> unchanged flagged, false-discovery proportion")
    for r in res["curve_v5"]:
        print(f"  {r['share_changed']:.2f}  {r['curvature']:.2f}  ->  {r['false_alarm_share_per_year']:.2%}  "
              f"{r['false_discovery_proportion']:.1%}")
    det = float(np.mean([r["doublings_found_within_3_months"] for r in res["power_v5"]]))
    ok = res["null_v5"]["share"] <= 0.05 and det >= 0.8
    print("targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
