"""External checks of the methodology (#31), printed by `make bench` and runnable alone:

    uv run python -m bench.checks [--real ../shared/data/real] [--demo var/demo]

1. Leave one country out: methodology v4 pools the members (the within-country variance of
   regions, the countries' spread), so removing a country can move other countries' scores; by
   how much. Each member of the 18-member demo run is left out in turn (its rates as `make
   demo` stored them) and the other units' scores compared (profile default, the point
   scores: no Monte Carlo).
2. National homicide rates from the shared real files (MX INEGI death certificates, AR SNIC),
   read through their crosswalk profiles exactly as a submission and divided by IDEAL's
   population reference data, against UNODC's published rates (the shared Global Study on
   Homicide table) for the overlapping years.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "data" / "real"
UNODC_NAMES = {"MX": "Mexico", "AR": "Argentina"}


def demo_rates(home: Path) -> tuple[pd.DataFrame, dict, str]:
    """The yearly rates of every member of the demo warehouse under ``home`` (as the assessment
    prepares them), the default profile and the reference year."""
    import os

    os.environ["IDEAL_HOME"] = str(home)
    os.environ.pop("IDEAL_DATABASE_URL", None)
    from ideal.config import get_settings
    from ideal.pipeline import assessment as a
    from ideal.store import make_engine

    get_settings.cache_clear() if hasattr(get_settings, "cache_clear") else None
    engine = make_engine()
    plan = a.plan(engine, a.AssessmentRequest())
    parts = [a.prepare(engine, plan, c) for c in plan.countries]
    rates = pd.concat([p.rates for p in parts if not p.rates.empty], ignore_index=True)
    return rates, plan.profile, plan.period


def leave_one_out(rates: pd.DataFrame, profile: dict, year: str) -> pd.DataFrame:
    """Per member left out: the other units' largest and median absolute score change (0-10)
    and the Spearman correlation of their scores with and without it."""
    from scipy.stats import spearmanr

    from ideal.scoring.score import point_scores

    keys = ["country", "region", "crime_type"]

    def scored(r: pd.DataFrame) -> pd.DataFrame:
        p = point_scores(r, profile, year)
        return p["units"][keys].assign(score=p["score"])

    full = scored(rates)
    rows = []
    for cc in sorted(rates["country"].unique()):
        without = scored(rates[rates["country"] != cc])
        both = full[full["country"] != cc].merge(without, on=keys, suffixes=("", "_without")).dropna()
        d = (both["score_without"] - both["score"]).abs()
        rows.append({"left_out": cc, "units": len(both), "max_change": round(float(d.max()), 3),
                     "median_change": round(float(d.median()), 4),
                     "changed_over_0.1": int((d > 0.1).sum()),
                     "spearman": round(float(spearmanr(both["score"], both["score_without"]).statistic), 4)})
    return pd.DataFrame(rows)


def unodc(real: Path = REAL) -> pd.DataFrame:
    """IDEAL's national homicide rate (the sum of the first-level counts over the sum of their
    populations) from the real exports against UNODC's rate, per country and year."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from goalposts import yearly

    rates = yearly(real)
    rates = rates[rates["crime_type"] == "0101"].assign(country=lambda d: d["region"].str.slice(0, 2))
    # one indicator per country and source: victims where sent (the UN-CTS convention)
    rates = rates.assign(_v=rates["indicator"].eq("victims"))
    best = rates.groupby(["source", "country"])["_v"].transform("max")
    rates = rates[rates["_v"] == best]
    national = (rates.groupby(["source", "country", "indicator", "year"], as_index=False)
                .agg(count=("value_number", "sum"), population=("population", "sum"), regions=("region", "nunique")))
    national = national.assign(ideal_rate=national["count"] / national["population"] * 1e5)
    table = pd.read_csv(real / "unodc_homicidios_paises" / "Shiny_DT.csv")
    table = table[(table["Indicator"] == "Homicide Rate") & table["Country"].isin(UNODC_NAMES.values())]
    long = table.melt(id_vars=["Country"], value_vars=[c for c in table.columns if c.isdigit()],
                      var_name="year", value_name="unodc_rate").dropna()
    long = long.assign(country=long["Country"].map({v: k for k, v in UNODC_NAMES.items()}),
                       year=long["year"].astype(int))
    out = national.merge(long[["country", "year", "unodc_rate"]], on=["country", "year"])
    out = out.assign(difference=out["ideal_rate"] - out["unodc_rate"],
                     ratio=out["ideal_rate"] / out["unodc_rate"])
    return out.round({"ideal_rate": 2, "difference": 2, "ratio": 3}).sort_values(["country", "source", "year"])


def real_coherence(real: Path = REAL, year: str = "2024") -> dict:
    """The coherence report of methodology v4 on the real exports (Mexico's SESNSP states and
    Argentina's SNIC provinces, all their crime types, read as submissions): the pillars'
    effective weights against the nominal ones where trends are real, not generated."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from goalposts import yearly

    from ideal import reference
    from ideal.scoring.profile import load_profile
    from ideal.scoring.score import score

    y = yearly(real)
    y = y[y["source"].isin(["mx_sesnsp_incidencia_estatal_anual", "ar_snic_provincias"])]
    obs = pd.DataFrame({"country": y["region"].str.slice(0, 2), "region": y["region"], "period": y["year"].astype(str),
                        "crime_type": y["crime_type"], "indicator": y["indicator"], "value": y["value_number"],
                        "obs_status": "A"})
    prof = load_profile("default")
    prof = {**prof, "uncertainty": {**prof["uncertainty"], "draws": 50, "sobol_samples": 256, "sobol_data_draws": 4}}
    scores, _, info = score(obs, reference.population(), prof, year)
    coh = info["coherence"]
    return {"units": int(scores["score"].notna().sum()), "year": year, "weights": coh["weights"],
            "correlations": coh["correlations"], "hyperparameters": info["monte_carlo"]["hyperparameters"]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--real", type=Path, default=REAL)
    ap.add_argument("--demo", type=Path, default=ROOT / "var" / "demo",
                    help="home of the demo warehouse (make demo writes var/demo)")
    args = ap.parse_args()
    if (args.demo / "ideal.db").exists():
        rates, profile, year = demo_rates(args.demo)
        loo = leave_one_out(rates, profile, year)
        print(f"[leave one country out: the demo run of {year}, profile {profile['name']} v{profile['version']}]")
        print(loo.to_string(index=False))
        print(f"largest change of another country's score: {loo['max_change'].max()} (0-10); "
              f"median {loo['median_change'].median()}; lowest Spearman {loo['spearman'].min()}")
    else:
        print(f"[leave one country out: no demo warehouse in {args.demo}; run make demo first]")
    if (args.real / "ar_snic_provincias").exists():
        c = real_coherence(args.real)
        print(f"\n[effective weights on the real exports: MX SESNSP and AR SNIC, {c['units']} units, as of {c['year']}]")
        for p, w in c["weights"].items():
            if w["nominal"] is not None and w["nominal"] > 0:
                print(f"  {p}: effective {w['effective']:.2f} against nominal {w['nominal']:.2f}")
        hyper = pd.DataFrame(c["hyperparameters"])
        print(hyper[["crime_type", "indicator", "units", "kappa", "level_sd_region", "slope_sd_region"]].to_string(index=False))
    if (args.real / "unodc_homicidios_paises").exists():
        u = unodc(args.real)
        print("\n[national homicide rates from the real exports against UNODC]")
        print(u[["country", "source", "indicator", "year", "regions", "ideal_rate", "unodc_rate", "difference", "ratio"]]
              .to_string(index=False))
        summary = u.groupby(["country", "source"]).agg(years=("year", "size"), median_ratio=("ratio", "median"),
                                                       max_abs_difference=("difference", lambda d: d.abs().max()))
        print(summary.round(3).to_string())
    else:
        print(f"[UNODC check: {args.real} not found]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
