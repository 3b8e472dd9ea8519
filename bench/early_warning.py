"""The early-warning study (#31): how often the v4 detector (ideal.scoring.early_warning.
detect_regression) flags a series that did not change, and how soon it finds one that doubled.

    uv run python -m bench.early_warning [--series 2000] [--seed 7]

Each series: 36 baseline months and 12 monitored ones (one year); a mean of 5 to 500 events a
month (log-uniform), a yearly trend of -15 % to +15 % (an ordinary trend, carried through the
monitored year), a seasonal swing of 0 to +-40 % (one yearly harmonic, random phase), and
negative-binomial noise with kappa 0 to 0.05 (year-to-year noise beyond Poisson of up to
22 %). One series in ten doubles from a month drawn in months 1-10 of the monitored year and
stays doubled. Targets: at most 2 % of the unchanged series flagged in the year; at least 80 %
of the doublings found within three months of their start (the start month and the next two).
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import pandas as pd

from ideal.scoring.early_warning import detect_regression

BASE, MONITOR = 36, 12


def simulate(n: int, seed: int, share: float = 0.1, low: float = 5.0, high: float = 500.0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(series: units x months, truth per series: doubled and its start month index)."""
    rng = np.random.default_rng(seed)
    months = [f"{2021 + i // 12}-{i % 12 + 1:02d}" for i in range(BASE + MONITOR)]
    t = np.arange(BASE + MONITOR)
    mean = np.exp(rng.uniform(np.log(low), np.log(high), n))
    trend = rng.uniform(-0.15, 0.15, n)
    amp = rng.uniform(0, 0.4, n)
    phase = rng.uniform(0, 2 * np.pi, n)
    kappa = rng.uniform(0, 0.05, n)
    mu = mean[:, None] * np.exp(np.log1p(trend)[:, None] * (t - BASE)[None, :] / 12) \
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


def study(n: int = 2000, seed: int = 7) -> dict:
    series, truth = simulate(n, seed)
    alarms, info = detect_regression(series)
    watched = list(series.columns[-MONITOR:])
    first = alarms.assign(at=alarms["alarm"].map(watched.index)).set_index("region")["at"]
    t = truth.assign(alarm_at=truth["region"].map(first))
    null = t[~t["doubled"]]
    dbl = t[t["doubled"]]
    found = dbl["alarm_at"].notna() & (dbl["alarm_at"] >= dbl["start"]) & (dbl["alarm_at"] <= dbl["start"] + 2)
    small = dbl["mean"] < 20
    return {"series": n, "monitored": info["series"], "unchanged": len(null), "doubled": len(dbl),
            "false_alarm_share_per_year": round(float(null["alarm_at"].notna().mean()), 4),
            "doublings_found_within_3_months": round(float(found.mean()), 4),
            "doublings_found_within_3_months_mean_below_20": round(float(found[small].mean()), 4) if small.any() else None,
            "alarms_before_the_doubling": int((dbl["alarm_at"] < dbl["start"]).sum())}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--series", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--seeds", type=int, default=3)
    args = ap.parse_args()
    results = [study(args.series, args.seed + i) for i in range(args.seeds)]
    print(json.dumps(results, indent=1))
    fa = float(np.mean([r["false_alarm_share_per_year"] for r in results]))
    det = float(np.mean([r["doublings_found_within_3_months"] for r in results]))
    ok = fa <= 0.02 and det >= 0.8
    print(f"unchanged series flagged in the year: {fa:.2%} (target <= 2 %); doublings found within "
          f"3 months: {det:.1%} (target >= 80 %): {'targets met' if ok else 'TARGET MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
