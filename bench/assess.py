"""Assessment at a named scale with the profile's Monte Carlo draws, against a groupby-mean
over the same observations, each in its own process (time and peak memory).

    uv run python -m bench.assess --scale M
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import date
from pathlib import Path

from bench.harness import repeated, write_results
from bench.scales import write_files


def load(files):
    import pandas as pd

    return pd.concat([pd.read_csv(p, dtype={"crime_type": str, "period": str}) for _, p, _ in files],
                     ignore_index=True)


def baseline(files):
    obs = load(files)
    t0 = time.perf_counter()
    obs.groupby(["region", "crime_type", "indicator"])["value"].mean()
    return {"compute_s": time.perf_counter() - t0}


def ideal_assessment(files, draws):
    from ideal import reference
    from ideal.scoring.profile import load_profile
    from ideal.scoring.score import score

    obs = load(files)
    profile = load_profile("default")
    if draws:  # else the profile's own (v4: 200 draws of the data, Sobol at 1024 base samples)
        profile["uncertainty"]["draws"] = draws
    t0 = time.perf_counter()
    scores, unscored, info = score(obs, reference.population(), profile, "2025")
    return {"compute_s": time.perf_counter() - t0, "units": len(scores),
            "scored": int((scores["status"] == "scored").sum())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", choices=["S", "M"], default="S")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--draws", type=int, default=0, help="Monte Carlo draws (default: the profile's)")
    args = ap.parse_args()
    files = write_files(Path("var/bench") / args.scale, args.scale)
    rows = sum(n for *_, n in files)
    print(f"scale {args.scale}: {rows:,} observations, {args.draws or 'the profile'}'s Monte Carlo draws")
    res = {"scale": args.scale, "rows": rows, "draws": args.draws, "date": date.today().isoformat()}
    for label, fn, extra in (("baseline", baseline, ()), ("ideal", ideal_assessment, (args.draws,))):
        runs = repeated(label, fn, (files, *extra), args.repeat,
                        lambda r: f"compute {r['compute_s']:6.2f} s (process {r['seconds']:6.2f} s) "
                                  f"peak {r['peak_mb']:6.0f} MB")
        res[label] = {"compute_median_s": statistics.median(r["compute_s"] for r in runs),
                      "process_median_s": statistics.median(r["seconds"] for r in runs),
                      "peak_mb": max(r["peak_mb"] for r in runs),
                      **{k: v for k, v in runs[-1].items() if k in ("units", "scored")}}
    write_results(res, f"assess-{args.scale}")

if __name__ == "__main__":
    main()
