"""The markets' severities (#49) measured two ways, printed by `make bench` and runnable alone:

    uv run python -m bench.markets [--demo var/demo] [--replications 20]

1. **Simulated truth.** 18 members x 15 markets with a known severity (the Index's 2025
   scores, so the spread is realistic), three to five assessors per member with a leaning of
   their own (sd ASSESSOR_BIAS), noise (sd ASSESSOR_SD), an occasional outlier, ratings in half
   points; police counts per ICCS class whose log rate follows the mean severity of the
   markets linked to the class, with noise, and for enforcement-driven classes a member's
   police effort on top. The rule of ideal.scoring.markets is run on them: the error of the
   experts' median, of the data alone and of the fused severity against the truth, the rank
   agreement (Spearman per market across members), and how often the 90 % interval covers the
   truth.
2. **Against the Organized Crime Index** (the demo warehouse, `make demo` first): per market,
   Spearman across members between IDEAL's severities (data alone; fused) and the Index's 2023
   and 2025 scores, and the most discordant member. On the demo the contributions are generated
   around the Index's 2025 scores, so only the data track's agreement is evidence there.
"""

from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
ASSESSOR_SD, ASSESSOR_BIAS, OUTLIER = 0.9, 0.5, 0.05
COUNT_NOISE = 0.35  # sd of a class's log rate around what the severity says
EFFORT_SD = 0.6  # sd of a member's police effort (log scale) on enforcement-driven classes


def simulate(replications: int = 20, seed: int = 7, year: int = 2025) -> dict:
    from ideal import reference
    from ideal.scoring import markets

    rng = np.random.default_rng(seed)
    cat = reference.markets()
    cat = cat[cat["kind"] == "market"]
    truth0 = reference.oci_scores()
    truth0 = truth0[(truth0["year"] == 2025) & truth0["market"].isin(cat["code"])]
    truth0 = truth0.pivot(index="country", columns="market", values="score")
    members = truth0.index.tolist()
    pop = reference.population()
    pop = pop[pop["year"] == year]
    effort_classes = set(reference.enforcement_crimes())
    classes = sorted({c for x in cat["iccs"] for c in x})
    linked = {c: [m for m, x in zip(cat["code"], cat["iccs"], strict=True) if c in x] for c in classes}
    national = pop.groupby("country")["population"].sum()
    errors, covered, spearman = {"experts": [], "data": [], "fused": []}, [], {"experts": [], "data": [], "fused": []}
    for _ in range(replications):
        # the truth: the Index's scores moved a little, so the replications differ
        truth = (truth0 + rng.normal(0, 0.5, truth0.shape)).clip(1, 10)
        rows = []
        for cc in members:
            n = int(rng.integers(3, 6))
            lean = rng.normal(0, ASSESSOR_BIAS, n)
            for mkt in truth.columns:
                for a in range(n):
                    v = truth.at[cc, mkt] + lean[a] + rng.normal(0, ASSESSOR_SD)
                    if rng.random() < OUTLIER:
                        v += rng.choice([-1, 1]) * rng.uniform(3, 4.5)
                    rows.append(dict(country=cc, market=mkt, region=None, year=year, round=1, assessor=a + 1,
                                     severity=float(np.clip(np.round(v * 2) / 2, 1, 10))))
        contrib = pd.DataFrame(rows)
        effort = pd.Series(rng.normal(0, EFFORT_SD, len(members)), index=members)
        totals = []
        for c in classes:
            level = truth[linked[c]].mean(axis=1)
            log_rate = np.log(2.0) + 0.45 * (level - 5) + rng.normal(0, COUNT_NOISE, len(members))
            if c in effort_classes:
                log_rate = log_rate + effort.to_numpy()
            counts = rng.poisson(np.exp(log_rate) * national[members].to_numpy() / 1e5)
            totals += [dict(country=cc, crime_type=c, indicator="incidents", year=year, value=float(v))
                       for cc, v in zip(members, counts, strict=True)]
        sev, _ = markets.severities(contrib, pd.DataFrame(totals), pop, members, year, draws=400,
                                    seed=int(rng.integers(1 << 30)))
        sev = sev[~sev["market"].str.startswith("area:")].set_index(["country", "market"])
        t = truth.stack().rename("truth")
        joined = sev.join(t, how="inner")
        for key, col in (("experts", "experts"), ("data", "data"), ("fused", "severity")):
            ok = joined[col].notna()
            errors[key].append(float(np.sqrt(((joined.loc[ok, col] - joined.loc[ok, "truth"]) ** 2).mean())))
            per = [joined.loc[ok].xs(m, level="market")[[col, "truth"]].corr("spearman").iloc[0, 1]
                   for m in truth.columns if ok.xs(m, level="market").sum() >= 5]
            spearman[key].append(float(np.nanmedian(per)))
        covered.append(float(((joined["low"] <= joined["truth"]) & (joined["truth"] <= joined["high"])).mean()))
    return {"replications": replications, "members": len(members), "markets": int(len(cat)),
            "rmse": {k: round(float(np.mean(v)), 3) for k, v in errors.items()},
            "spearman_median": {k: round(float(np.mean(v)), 3) for k, v in spearman.items()},
            "coverage_90": round(float(np.mean(covered)), 3),
            "assessors": {"bias_sd": ASSESSOR_BIAS, "noise_sd": ASSESSOR_SD, "outliers": OUTLIER}}


def against_oci(home: Path) -> pd.DataFrame | None:
    """Per market and edition: Spearman across members of the demo run's severities (data
    alone; fused) against the Index, and the most discordant member (fused)."""
    import os

    if not (home / "ideal.db").exists():
        return None
    os.environ["IDEAL_HOME"] = str(home)
    os.environ.pop("IDEAL_DATABASE_URL", None)
    from ideal import reference
    from ideal.store import contributions, make_engine, runs

    engine = make_engine()
    run, _ = runs.load(engine)
    sev = contributions.severities(engine, run["id"])
    sev = sev[~sev["market"].str.startswith("area:")]
    oci = reference.oci_scores()
    out = []
    for edition in (2023, 2025):
        o = oci[oci["year"] == edition].rename(columns={"score": "oci"})
        j = sev.merge(o[["country", "market", "oci"]], on=["country", "market"])
        for mkt, g in j.groupby("market"):
            d = g.dropna(subset=["data"])
            rho_data = d[["data", "oci"]].corr("spearman").iloc[0, 1] if len(d) >= 5 else np.nan
            rho_fused = g[["severity", "oci"]].corr("spearman").iloc[0, 1] if len(g) >= 5 else np.nan
            gap = (g["severity"] - g["oci"]).abs()
            far = g.loc[gap.idxmax()]
            out.append(dict(edition=edition, market=mkt, members=len(g), members_with_data=len(d),
                            spearman_data=round(float(rho_data), 2) if np.isfinite(rho_data) else None,
                            spearman_fused=round(float(rho_fused), 2) if np.isfinite(rho_fused) else None,
                            most_discordant=f"{far['country']} ({far['severity']:.1f} vs {far['oci']:g})"))
    return pd.DataFrame(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--demo", type=Path, default=ROOT / "var" / "demo")
    ap.add_argument("--replications", type=int, default=20)
    args = ap.parse_args()
    sim = simulate(args.replications)
    print(f"[markets on a simulated truth: {sim['members']} members x {sim['markets']} markets, "
          f"{sim['replications']} replications; assessors' leaning sd {ASSESSOR_BIAS}, noise sd {ASSESSOR_SD}, "
          f"{OUTLIER:.0%} outliers]")
    for k in ("experts", "data", "fused"):
        print(f"  {k:8s} RMSE {sim['rmse'][k]:.2f}   median Spearman per market {sim['spearman_median'][k]:.2f}")
    print(f"  90 % interval covers the truth in {sim['coverage_90']:.0%} of member x market pairs")
    result = {"simulation": sim}
    checks = against_oci(args.demo)
    if checks is None:
        print(f"[against the Organized Crime Index: no demo warehouse in {args.demo}; run make demo first]")
    else:
        print("\n[against the Organized Crime Index, the demo run: Spearman across members per market. On the "
              "demo the contributions are generated around the Index's 2025 scores: only the data track's "
              "agreement (spearman_data) is evidence here]")
        print(checks.to_string(index=False))
        result["oci"] = checks.to_dict("records")
        summary = checks.groupby("edition")[["spearman_data", "spearman_fused"]].median()
        print("\nmedian over markets:\n" + summary.round(2).to_string())
    out = ROOT / "bench" / "results" / f"{date.today().isoformat()}-markets.json"
    out.write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    print(f"\nwritten: {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
