"""Monte Carlo uncertainty of the ranks, and which assumption moves them most [COINr].

Each draw perturbs every pillar weight within +-spread (renormalised), picks a normalisation
method, an aggregation method and an imputation choice, and one of a few data variants: the
counts resampled from their Poisson distribution, another trend window, the goalposts moved,
other harm weights, another spread threshold (data_variants). The pillar matrices of each
variant and (normalisation, imputation) pair are computed once; a draw is then a matrix
product, so 1000 draws over thousands of units need no Python loop over rows.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ideal.scoring.aggregate import ranks, threat

UNIT = ["country", "region", "crime_type"]
COUNTS = ["incidents", "victims", "persons_arrested"]


def draws(profile: dict, base_weights: np.ndarray, variants: int = 1) -> dict:
    """The Monte Carlo plan: per draw, weights within +-spread (renormalised), a normalisation,
    an aggregation, an imputation choice and which data variant (resampled counts, trend
    window, goalposts, harm weights, spread threshold: see data_variants) it measures with."""
    cfg = profile["uncertainty"]
    rng = np.random.default_rng(cfg["seed"])
    n = cfg["draws"]
    spread = cfg["weight_spread"]
    weights = base_weights * rng.uniform(1 - spread, 1 + spread, size=(n, len(base_weights)))
    return {
        "weights": weights / weights.sum(axis=1, keepdims=True),
        "normalisation": rng.integers(0, len(cfg["normalisation"]), n),
        "aggregation": rng.integers(0, len(cfg["aggregation"]), n),
        "imputation": rng.integers(0, len(cfg["imputation"]), n),
        "variant": rng.integers(0, max(variants, 1), n),
    }


def resample_counts(rates: pd.DataFrame, rng: np.random.Generator, per: float) -> pd.DataFrame:
    """The yearly counts drawn again from their Poisson distribution (a parametric bootstrap:
    what the same underlying rates could have produced), rates recomputed; kilograms seized are
    not counts and stay as they are; a rate that was missing stays missing. A nowcast year
    (``nowcast_sd`` set) is drawn from its own predictive distribution: the months known plus
    the rest, log-normal around the estimate (ideal.scoring.nowcast)."""
    counts = rates["indicator"].isin(COUNTS) & rates["value"].notna()
    value = rates["value"].to_numpy(dtype="float64").copy()
    value[counts.to_numpy()] = rng.poisson(np.clip(value[counts.to_numpy()], 0, None))
    if "nowcast_sd" in rates:
        now = rates["nowcast_sd"].notna().to_numpy() & rates["value"].notna().to_numpy()
        if now.any():
            known = rates["known"].to_numpy(dtype="float64")[now]
            rest = rates["value"].to_numpy(dtype="float64")[now] - known
            drawn = np.exp(rng.normal(np.log(np.clip(rest, 0, None) + 0.5),
                                      rates["nowcast_sd"].to_numpy(dtype="float64")[now])) - 0.5
            value[now] = known + np.clip(drawn, 0, None)
    rate = np.where(rates["rate"].notna(), value / rates["population"].to_numpy(dtype="float64") * per, np.nan)
    return rates.assign(value=value, rate=rate)


def _relatch(units: pd.DataFrame, rates: pd.DataFrame) -> pd.DataFrame:
    """The units with the value and rate of their data year taken from ``rates`` (row order kept)."""
    latest = rates[UNIT + ["year", "value", "rate"]].rename(columns={"year": "data_year"})
    out = units.drop(columns=["value", "rate"]).merge(latest, on=UNIT + ["data_year"], how="left")
    out.index = units.index
    return out


def data_variants(rates: pd.DataFrame, units: pd.DataFrame, profile: dict, harm: pd.Series,
                  measure) -> dict:
    """The measurement again under other data assumptions [COINr; OECD-JRC step 7], each a set
    of pillar matrices for every normalisation and imputation: ``joint`` (``data_variants`` of
    them, every assumption drawn at once: the Monte Carlo draws use one each) and
    ``one_at_a_time`` (per assumption, variants where only it changes, for the sensitivity
    table). Assumptions: counts resampled (Poisson), trend window (``trend_windows``), both
    goalposts moved by a factor within +-``goalpost_spread``, each crime type's harm weight
    within +-``harm_spread`` points (1-10), the spread threshold (``spread_thresholds``)."""
    cfg = profile["uncertainty"]
    k = int(cfg.get("data_variants", 0))
    window = profile["pillars"]["trend"]["window_years"]
    threshold = profile["pillars"]["spread"]["region_threshold"]
    windows = cfg.get("trend_windows") or [window]
    thresholds = cfg.get("spread_thresholds") or [threshold]
    gp, hs = float(cfg.get("goalpost_spread", 0.0)), float(cfg.get("harm_spread", 0.0))
    resample = bool(cfg.get("resample_counts", False))
    per = profile["rate_per"]
    rng = np.random.default_rng(cfg["seed"] + 2)

    def harm_draw() -> pd.Series:
        return (harm + rng.uniform(-hs, hs, len(harm))).clip(1, 10).where(harm.notna())

    def one(counts=False, win=None, factor=1.0, thr=None, h=None, alone=True) -> tuple[dict, dict]:
        r = resample_counts(rates, rng, per) if counts else rates
        u = _relatch(units, r) if counts else units
        m = measure(r, u, profile, harm if h is None else h, window=win, goalpost_factor=factor,
                    spread_threshold=thr, only_profile=alone)
        return m["matrices"], m["eligible"]

    joint = [one(counts=resample, win=int(rng.choice(windows)), factor=float(rng.uniform(1 - gp, 1 + gp)),
                 thr=float(rng.choice(thresholds)), h=harm_draw() if hs else None, alone=False)
             for _ in range(k)]
    oat = {}
    if resample:
        oat["counts"] = [one(counts=True) for _ in range(3)]
    if [w for w in windows if w != window]:
        oat["trend_window"] = [one(win=int(w)) for w in windows if w != window]
    if gp:
        oat["goalposts"] = [one(factor=f) for f in (1 - gp, 1 + gp)]
    if hs:
        oat["harm_weights"] = [one(h=harm_draw()) for _ in range(3)]
    if [t for t in thresholds if t != threshold]:
        oat["spread_threshold"] = [one(thr=float(t)) for t in thresholds if t != threshold]
    description = {"data_variants": k, "resample_counts": resample, "trend_windows": list(windows),
                   "goalpost_factor": [round(1 - gp, 3), round(1 + gp, 3)], "harm_spread": hs,
                   "spread_thresholds": list(thresholds), "draws": cfg["draws"]}
    return {"joint": joint, "one_at_a_time": oat, "description": description}


def composite_draws(variants: list[tuple[dict, dict]], plan: dict, profile: dict) -> np.ndarray:
    """units x draws composite scores. Each variant is (matrices, eligible): ``matrices[(norm,
    imput)]`` is units x pillars, ``eligible[(norm, imput)]`` says which units may be scored
    under that choice; a draw uses the variant ``plan["variant"]`` names."""
    cfg = profile["uncertainty"]
    n = len(plan["weights"])
    if not variants:
        raise ValueError("no variant to draw from")
    units = next(iter(variants[0][0].values())).shape[0]
    out = np.full((units, n), np.nan)
    for vi, (matrices, eligible) in enumerate(variants):
        for ni, norm in enumerate(cfg["normalisation"]):
            for ii, imput in enumerate(cfg["imputation"]):
                for ai, a in enumerate(cfg["aggregation"]):
                    sel = np.flatnonzero((plan["variant"] == vi) & (plan["normalisation"] == ni)
                                         & (plan["imputation"] == ii) & (plan["aggregation"] == ai))
                    if len(sel):
                        comp = threat(matrices[(norm, imput)], plan["weights"][sel], a, profile.get("harm"))
                        out[:, sel] = np.where(eligible[(norm, imput)][:, None], comp, np.nan)
    return out


def rank_intervals(composites: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Median rank and 5th-95th percentile rank per unit over the draws (NaN-aware)."""
    return _intervals(ranks(composites))


def _intervals(r: np.ndarray, rows: int = 4096) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Median, 5th and 95th percentile of each row of ``r`` (ranks, units x draws), a block of
    rows at a time in float64 (the percentiles' sorting copies stay small)."""
    out = [np.empty(len(r)) for _ in range(3)]
    with warnings.catch_warnings():  # units never scored in any draw: NaN, as they should be
        warnings.simplefilter("ignore", RuntimeWarning)
        for start in range(0, len(r), rows):
            block = np.asarray(r[start:start + rows], dtype="float64")
            out[0][start:start + rows] = np.nanmedian(block, axis=1)
            out[1][start:start + rows] = np.nanpercentile(block, 5, axis=1)
            out[2][start:start + rows] = np.nanpercentile(block, 95, axis=1)
    return out[0], out[1], out[2]


def drawn_rank_intervals(variants: list[tuple[dict, dict]], plan: dict, profile: dict,
                         per_block: int = 100) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`rank_intervals` of :func:`composite_draws`, in bounded memory: the composites are
    drawn and ranked ``per_block`` draws at a time (each draw's ranks depend on that draw
    alone) and kept as float32 ranks (whole numbers, exact), so 90,000 units x 1000 draws need
    about 0.4 GB instead of several copies of 0.7 GB."""
    n = len(plan["weights"])
    kept: np.ndarray | None = None
    for start in range(0, n, per_block):
        sub = {k: v[start:start + per_block] for k, v in plan.items()}
        r = ranks(composite_draws(variants, sub, profile))
        if kept is None:
            kept = np.empty((r.shape[0], n), dtype="float32")
        kept[:, start:start + per_block] = r
    return _intervals(kept)


def sensitivity(matrices: dict, eligible: dict, profile: dict, base_weights: np.ndarray,
                base_rank: np.ndarray, data: dict | None = None) -> dict:
    """Average absolute rank shift when one assumption varies and the others stay at the
    profile's choice (one at a time), per assumption, over the scored units. The profile's own
    option is not among those averaged (it would add a zero shift). ``data``: the one-at-a-time
    data variants (counts, trend window, goalposts, harm weights, spread threshold)."""
    cfg = profile["uncertainty"]
    default = (profile["normalisation"]["method"], "carry_forward")
    agg0 = profile["aggregation"]["method"]
    scored = np.isfinite(base_rank)
    harm = profile.get("harm")

    def shift(comp: np.ndarray) -> tuple[float, int]:
        r = ranks(comp)
        d = np.abs(r - base_rank[:, None])[scored]
        d = d[np.isfinite(d)]
        return float(d.sum()), int(d.size)

    def mean(values: list[float]) -> float:
        return float(np.mean(values)) if values else 0.0

    one = base_weights[None, :]

    def at(m: dict, e: dict, key=default, a=agg0, w=one, block: int = 50) -> float:
        # the mean shift over draws of weights, 50 draws at a time (bounded memory)
        total, count = 0.0, 0
        for start in range(0, len(w), block):
            t, c = shift(np.where(e[key][:, None], threat(m[key], w[start:start + block], a, harm), np.nan))
            total, count = total + t, count + c
        return total / count if count else 0.0

    rng = np.random.default_rng(cfg["seed"] + 1)
    n = max(50, cfg["draws"] // 5)
    w = base_weights * rng.uniform(1 - cfg["weight_spread"], 1 + cfg["weight_spread"],
                                   size=(n, len(base_weights)))
    w /= w.sum(axis=1, keepdims=True)
    out = {"weights": at(matrices, eligible, w=w)}
    out["normalisation"] = mean([at(matrices, eligible, key=(m, "carry_forward"))
                                 for m in cfg["normalisation"] if m != default[0]])
    out["aggregation"] = mean([at(matrices, eligible, a=a) for a in cfg["aggregation"] if a != agg0])
    out["imputation"] = mean([at(matrices, eligible, key=(default[0], i))
                              for i in cfg["imputation"] if i != default[1]])
    for factor, variants in (data or {}).items():
        out[factor] = mean([at(m, e) for m, e in variants])
    return out


def sobol(matrices: dict, eligible: dict, profile: dict, base_weights: np.ndarray,
          base_rank: np.ndarray, n: int | None = None, top: int = 20,
          joint: list[tuple[dict, dict]] | None = None) -> dict:
    """Variance-based sensitivity [COINr, Saltelli 2010] with SALib: Sobol first-order (S1)
    and total-order (ST) indices, with 95 % bootstrap intervals, of the ranking's change (mean
    absolute rank shift of the scored units against the profile's ranking) to each assumption:
    the four weights (+-spread), normalisation, aggregation, imputation and, with harm as a
    scale, its floor, and (with ``joint``, the data variants) the data as one grouped factor:
    which variant of resampled counts, trend window, goalposts, harm weights and spread
    threshold is measured with. S1 is what an assumption does alone, ST with its interactions (ST - S1:
    e.g. normalisation x aggregation). Per unit of the ``top`` ranks, the assumption with the
    largest total index of that unit's rank. Seeded: the same run gives the same indices."""
    from SALib.analyze import sobol as analyze
    from SALib.sample import sobol as sample

    cfg = profile["uncertainty"]
    spread = cfg["weight_spread"]
    harm = profile.get("harm") or {}
    scale = harm.get("mode", "additive") == "scale"
    names = ["weight_magnitude", "weight_trend", "weight_harm", "weight_spread",
             "normalisation", "aggregation", "imputation"] + (["harm_floor"] if scale else [])
    bounds = [[1 - spread, 1 + spread]] * 4 + [[0, len(cfg["normalisation"])],
              [0, len(cfg["aggregation"])], [0, len(cfg["imputation"])]] + ([[0.3, 0.7]] if scale else [])
    if joint:
        names, bounds = names + ["data"], bounds + [[0, len(joint)]]
    problem = {"num_vars": len(names), "names": names, "bounds": bounds}
    size = n or cfg.get("sobol_samples", 64)
    x = sample.sample(problem, size, calc_second_order=False, seed=cfg["seed"])
    scored = np.isfinite(base_rank)
    leaders = np.flatnonzero(scored & (base_rank <= top))
    y = np.empty(len(x))
    unit_ranks = np.empty((len(x), len(leaders)))
    for i, row in enumerate(x):
        w = base_weights * row[:4]
        w = w / w.sum()
        norm = cfg["normalisation"][min(int(row[4]), len(cfg["normalisation"]) - 1)]
        agg = cfg["aggregation"][min(int(row[5]), len(cfg["aggregation"]) - 1)]
        imput = cfg["imputation"][min(int(row[6]), len(cfg["imputation"]) - 1)]
        h = {**harm, "floor": float(row[7])} if scale else harm
        m, e = (matrices, eligible) if not joint else joint[min(int(row[-1]), len(joint) - 1)]
        comp = np.where(e[(norm, imput)], threat(m[(norm, imput)], w, agg, h)[:, 0], np.nan)
        r = ranks(comp[:, None])[:, 0]
        d = np.abs(r - base_rank)[scored]
        d = d[np.isfinite(d)]
        y[i] = float(d.mean()) if d.size else 0.0
        unit_ranks[i] = np.nan_to_num(r[leaders], nan=float(len(r)))
    si = analyze.analyze(problem, y, calc_second_order=False, seed=cfg["seed"])
    factors = {name: {"S1": _r(si["S1"][k]), "S1_conf": _r(si["S1_conf"][k]),
                      "ST": _r(si["ST"][k]), "ST_conf": _r(si["ST_conf"][k])}
               for k, name in enumerate(names)}
    movers = {}
    for j, unit in enumerate(leaders):
        if np.var(unit_ranks[:, j]) == 0:
            movers[int(unit)] = None
            continue
        sj = analyze.analyze(problem, unit_ranks[:, j], calc_second_order=False, num_resamples=10,
                             seed=cfg["seed"])
        movers[int(unit)] = names[int(np.nanargmax(sj["ST"]))]
    return {"samples": len(x), "factors": factors, "rank_movers": movers}


def _r(v: float) -> float | None:
    return None if v != v else round(float(v), 3)
