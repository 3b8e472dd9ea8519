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


# ---------------------------------------------------------------------------------------------
# v4: the headline's uncertainty is the data's alone; the method is a separate analysis
# ---------------------------------------------------------------------------------------------

POPULATION_ACCURACY = {"official": 0.01, "submitted": 0.01, "interpolated": 0.02, "extrapolated": 0.05,
                       "modelled": 0.10, "synthetic": 0.10}


def data_draws(rates: pd.DataFrame, units: pd.DataFrame, profile: dict, progress=None) -> dict:
    """``uncertainty.draws`` independent draws of what the data allow (v4), the method held
    at the profile's. Each draw: (1) a trend window from ``trend_windows``; (2) the counts
    drawn again from the fitted over-dispersed model (each unit's own negative-binomial means,
    ideal.scoring.model.draw_counts) and the model's hyperparameters (kappa, the region and
    country variances) estimated again from them: the parametric bootstrap of Laird & Louis
    (1987, "Empirical Bayes confidence intervals based on bootstrap samples", JASA 82), which
    carries the uncertainty of the hyperparameters; (3) each unit's log rate and slope drawn
    from its posterior given the data as they are, under those hyperparameters (nowcast years
    drawn from their predictive distribution); (4) each region's population off by a factor
    within its stated accuracy (log-normal, sd per population method: ``population_accuracy``).
    Returns rate_model and trend (units x draws, float32) and the description stored with the
    run."""
    from ideal.scoring import model

    cfg = profile["uncertainty"]
    n = int(cfg["draws"])
    rng = np.random.default_rng(cfg["seed"])
    window = profile["pillars"]["trend"]["window_years"]
    # v5: the window is a method choice (the sensitivity analysis), not a data uncertainty
    windows = [int(w) for w in (cfg.get("trend_windows") or [window])] if cfg.get("window_in_data", True) else [window]
    accuracy = {**POPULATION_ACCURACY, **(cfg.get("population_accuracy") or {})}
    per = profile["rate_per"]
    fits = {w: model.fit(model.points(rates, units, w, model.options(profile))) for w in windows}
    method = units["population_method"] if "population_method" in units else pd.Series("official", index=units.index)
    sd = method.map(accuracy).fillna(accuracy["synthetic"]).to_numpy(dtype="float64")
    regions, region_idx = np.unique(units["region"].to_numpy(dtype=str), return_inverse=True)
    region_sd = np.zeros(len(regions))
    np.maximum.at(region_sd, region_idx, sd)
    rate = np.empty((len(units), n), dtype="float32")
    trend = np.empty((len(units), n), dtype="float32")
    chosen = rng.choice(windows, size=n)
    for d in range(n):
        f = fits[int(chosen[d])]
        start = (f.raw_level, f.raw_slope)
        boot = model.fit(model.with_counts(f.pts, model.draw_counts(f, rng)), rounds=1, start=start, exact=False,
                         cy_rounds=1, kappa_start=f.kappa)
        observed = model.with_counts(f.pts, model.redraw_nowcast(f.pts, rng))
        post = model.fit(observed, kappa=boot.kappa, hyper=boot.hyper, start=start, cy_rounds=1)
        level, slope = model.posterior_draw(post, rng)
        level = level - (rng.standard_normal(len(regions)) * region_sd)[region_idx]
        rate[:, d] = np.exp(level) * per
        trend[:, d] = np.expm1(slope)
        if progress and (d + 1) % 50 == 0:
            progress(d + 1, n)
    kappa = {f"{c}/{i}": round(float(k), 4) for (c, i), k in
             zip(model.group_names(units), fits[window if window in fits else windows[0]].kappa, strict=True)}
    description = {"draws": n, "model": "hierarchical negative binomial (ideal.scoring.model)",
                   "counts": "negative binomial, hyperparameters re-estimated (Laird & Louis 1987)",
                   "kappa": kappa, "trend_windows": windows, "population_accuracy": accuracy,
                   "method": "held at the profile's"}
    return {"rate_model": rate, "trend": trend, "description": description}


def matrix_builder(units: pd.DataFrame, profile: dict, harm_col: pd.Series):
    """A function (rate_model, trend, normalisation) -> (pillar matrix, eligible) for these
    units: the profile's min-max between fixed goalposts in numpy (the goalposts of each unit
    computed once: a Monte Carlo draw costs microseconds, not a pandas pass), the data-driven
    normalisations through ideal.scoring.pillars.pillar_frame."""
    from ideal.scoring import aggregate as agg
    from ideal.scoring import pillars as pl

    goal = pl.magnitude_goalposts(units, profile)
    spec = units["crime_type"].map(goal)
    low = np.array([g[0] for g in spec], dtype="float64")
    high = np.array([g[1] for g in spec], dtype="float64")
    logscale = np.array([g[2] == "log" for g in spec])
    negative = units["indicator"].map(profile["normalisation"].get("direction", {})).eq("negative").to_numpy()
    tg = profile["normalisation"]["trend_goalposts"]
    harm = harm_col.to_numpy(dtype="float64")
    data = agg.data_columns(profile)
    threshold = profile["missing"]["coverage_threshold"]
    fast = (profile["normalisation"]["method"] == "minmax"
            and (profile.get("outliers") or {}).get("method", "auto") != "log"
            and profile["pillars"]["spread"]["weight"] == 0)

    def build(rate: np.ndarray, trend: np.ndarray, method: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        method = method or profile["normalisation"]["method"]
        if fast and method == "minmax":
            with np.errstate(divide="ignore", invalid="ignore"):
                lin = (rate - low) / (high - low)
                lg = (np.log(np.maximum(rate, low)) - np.log(low)) / (np.log(high) - np.log(low))
            mag = np.where(np.isfinite(rate), np.clip(np.where(logscale, lg, lin), 0, 1) * 10, np.nan)
            mag = np.where(negative, 10 - mag, mag)
            t = np.clip(trend, tg[0] * 2, tg[1] * 2)
            tr = np.where(np.isfinite(mag) & np.isfinite(t), np.clip((t - tg[0]) / (tg[1] - tg[0]), 0, 1) * 10, np.nan)
            tr = np.where(negative, 10 - tr, tr)
            m = np.column_stack([mag, tr, np.where(np.isfinite(mag), harm, np.nan), np.full(len(mag), np.nan)])
        else:
            u = units.assign(rate_model=rate)
            frame, _ = pl.pillar_frame(u, pd.Series(trend, index=units.index), harm_col, profile, method, True)
            m = frame[pl.PILLARS].to_numpy(dtype="float64")
        ok = np.isfinite(m[:, 0]) & (agg.coverage(m, data) >= threshold)
        return m, ok

    return build


def draw_matrices(units: pd.DataFrame, draws: dict, d: int, profile: dict, harm_col: pd.Series,
                  method: str | None = None, build=None) -> tuple[np.ndarray, np.ndarray]:
    """The pillar matrix and eligibility of data draw ``d`` under a normalisation (default:
    the profile's)."""
    build = build or matrix_builder(units, profile, harm_col)
    return build(draws["rate_model"][:, d].astype("float64"), draws["trend"][:, d].astype("float64"), method)


def data_ranks(units: pd.DataFrame, draws: dict, profile: dict, harm_col: pd.Series,
               weights: np.ndarray) -> np.ndarray:
    """units x draws ranks (float32, NaN where a unit is not scored in a draw) under the
    profile's method."""
    n = draws["rate_model"].shape[1]
    out = np.empty((len(units), n), dtype="float32")
    build = matrix_builder(units, profile, harm_col)
    for d in range(n):
        m, ok = draw_matrices(units, draws, d, profile, harm_col, build=build)
        comp = np.where(ok, threat(m, weights, profile["aggregation"]["method"], profile.get("harm"))[:, 0], np.nan)
        out[:, d] = ranks(comp[:, None])[:, 0]
    return out


def rank_summary(r: np.ndarray) -> dict[str, np.ndarray]:
    """Median rank, 5th-95th percentile interval and the probabilities of ranking first, in
    the top 10 and in the top 15 (share of the draws; a draw where the unit is not scored
    counts as not ranked)."""
    median, p5, p95 = _intervals(r)
    with np.errstate(invalid="ignore"):
        return {"rank_median": median, "rank_p5": p5, "rank_p95": p95,
                "p_first": np.round(np.nanmean(np.where(np.isfinite(r), r == 1, 0.0), axis=1), 4),
                "p_top10": np.round(np.nanmean(np.where(np.isfinite(r), r <= 10, 0.0), axis=1), 4),
                "p_top15": np.round(np.nanmean(np.where(np.isfinite(r), r <= 15, 0.0), axis=1), 4)}


def method_sensitivity(units: pd.DataFrame, base: dict, profile: dict, harm_col: pd.Series,
                       weights: np.ndarray, base_rank: np.ndarray, draws: dict, data_r: np.ndarray) -> dict:
    """The mean absolute rank shift of the scored units when one method choice changes and
    the data stay as they are (v4: the method's sensitivity apart from the data's): another
    normalisation, another aggregation, the weights within +-weight_spread, each crime type's
    harm weight within +-harm_spread points, the harm floor at each end of its range, no
    carry-forward; beside them the data's own (the mean shift over the data draws)."""
    cfg = profile["uncertainty"]
    harm = profile.get("harm")
    agg0 = profile["aggregation"]["method"]
    norm0 = profile["normalisation"]["method"]
    scored = np.isfinite(base_rank)
    rng = np.random.default_rng(cfg["seed"] + 1)

    def shift(m, ok, w=weights, a=agg0, h=harm) -> float:
        comp = np.where(ok[:, None], threat(m, np.atleast_2d(w), a, h), np.nan)
        r = ranks(comp)
        d = np.abs(r - base_rank[:, None])[scored]
        d = d[np.isfinite(d)]
        return float(d.mean()) if d.size else 0.0

    m0, ok0 = base[(norm0, "carry_forward")]
    out = {}
    out["normalisation"] = float(np.mean([shift(*base[(m, "carry_forward")])
                                          for m in cfg["normalisation"] if m != norm0] or [0.0]))
    out["aggregation"] = float(np.mean([shift(m0, ok0, a=a) for a in cfg["aggregation"] if a != agg0] or [0.0]))
    w = weights * rng.uniform(1 - cfg["weight_spread"], 1 + cfg["weight_spread"], size=(50, len(weights)))
    out["weights"] = shift(m0, ok0, w=w / w.sum(axis=1, keepdims=True))
    hs = float(cfg.get("harm_spread", 0.0))
    if hs:
        vals = []
        crimes = units["crime_type"].to_numpy()
        for _ in range(10):
            bump = {c: rng.uniform(-hs, hs) for c in pd.unique(crimes)}
            m = m0.copy()
            m[:, 2] = np.clip(m0[:, 2] + pd.Series(crimes).map(bump).to_numpy(), 1, 10)
            vals.append(shift(m, ok0))
        out["harm_weights"] = float(np.mean(vals))
    if harm and harm.get("mode") == "scale":
        lo, hi = cfg.get("harm_floors", [0.3, 0.7])
        out["harm_floor"] = float(np.mean([shift(m0, ok0, h={**harm, "floor": f}) for f in (lo, hi)]))
    if "none" in cfg["imputation"]:
        out["imputation"] = shift(*base[(norm0, "none")])
    d = np.abs(data_r - base_rank[:, None])[scored]
    d = d[np.isfinite(d)]
    out["data"] = float(d.mean()) if d.size else 0.0
    return {k: round(v, 3) for k, v in out.items()}


def sobol_v4(units: pd.DataFrame, draws: dict, profile: dict, harm_col: pd.Series, weights: np.ndarray,
             base_rank: np.ndarray, n: int | None = None, top: int = 10) -> dict:
    """Sobol first-order and total indices (SALib: Saltelli 2010 sampling, S1 by Saltelli
    2010, ST by Jansen 1999, 95 % bootstrap intervals) of the ranking's change (mean absolute
    rank shift of the scored units against the profile's ranking) to the method choices and
    the data: the weights of magnitude and trend (+-weight_spread), the normalisation, the
    aggregation, the harm floor, the harm weights (one of 16 draws within +-harm_spread) and
    the data (one of the first ``sobol_data_draws`` data draws). ``sobol_samples`` base
    samples (1024: N x (k + 2) model runs); a convergence check compares the indices of the
    first half of the samples with all of them (Sobol samples are nested); per unit of the
    ``top`` ranks, each factor's total index of its rank."""
    from SALib.analyze import sobol as analyze
    from SALib.sample import sobol as sample

    cfg = profile["uncertainty"]
    spread = cfg["weight_spread"]
    harm = profile.get("harm") or {}
    scale = harm.get("mode", "additive") == "scale"
    size = int(n or cfg.get("sobol_samples", 1024))
    k_data = min(int(cfg.get("sobol_data_draws", 64)), draws["rate_model"].shape[1])
    rng = np.random.default_rng(cfg["seed"] + 3)
    crimes = units["crime_type"].to_numpy()
    hs = float(cfg.get("harm_spread", 0.0))
    bumps = [pd.Series(crimes).map({c: rng.uniform(-hs, hs) for c in pd.unique(crimes)}).to_numpy() for _ in range(16)]
    lo, hi = cfg.get("harm_floors", [0.3, 0.7])
    names = ["weight_magnitude", "weight_trend", "normalisation", "aggregation", "harm_weights", "data"]
    bounds = [[1 - spread, 1 + spread]] * 2 + [[0, len(cfg["normalisation"])], [0, len(cfg["aggregation"])],
                                               [0, 16], [0, k_data]]
    if scale:
        names.insert(4, "harm_floor")
        bounds.insert(4, [lo, hi])
    problem = {"num_vars": len(names), "names": names, "bounds": bounds}
    x = sample.sample(problem, size, calc_second_order=False, seed=cfg["seed"])
    scored = np.isfinite(base_rank)
    leaders = np.flatnonzero(scored & (base_rank <= top))
    cache: dict = {}
    build = matrix_builder(units, profile, harm_col)

    def matrix(d: int, norm: str):
        if (d, norm) not in cache:
            cache[(d, norm)] = draw_matrices(units, draws, d, profile, harm_col, norm, build=build)
        return cache[(d, norm)]

    y = np.empty(len(x))
    unit_ranks = np.empty((len(x), len(leaders)))
    col = {name: i for i, name in enumerate(names)}
    block = 256
    comps = np.empty((len(units), block))

    def flush(end: int, count: int) -> None:
        r = ranks(comps[:, :count])           # one ranking call per block of samples
        d = np.abs(r - base_rank[:, None])[scored]
        y[end - count:end] = np.nanmean(np.where(np.isfinite(d), d, np.nan), axis=0) if d.size else 0.0
        unit_ranks[end - count:end] = np.nan_to_num(r[leaders], nan=float(len(r))).T

    for i, row in enumerate(x):
        w = weights.copy()
        w[0] *= row[col["weight_magnitude"]]
        w[1] *= row[col["weight_trend"]]
        norm = cfg["normalisation"][min(int(row[col["normalisation"]]), len(cfg["normalisation"]) - 1)]
        agg = cfg["aggregation"][min(int(row[col["aggregation"]]), len(cfg["aggregation"]) - 1)]
        m, ok = matrix(min(int(row[col["data"]]), k_data - 1), norm)
        m = m.copy()
        m[:, 2] = np.clip(m[:, 2] + bumps[min(int(row[col["harm_weights"]]), 15)], 1, 10)
        h = {**harm, "floor": float(row[col["harm_floor"]])} if scale else harm
        comps[:, i % block] = np.where(ok, threat(m, w / w.sum(), agg, h)[:, 0], np.nan)
        if (i + 1) % block == 0 or i + 1 == len(x):
            flush(i + 1, i % block + 1)
    y = np.nan_to_num(y)
    si = analyze.analyze(problem, y, calc_second_order=False, seed=cfg["seed"])
    half = analyze.analyze(problem, y[:len(y) // 2], calc_second_order=False, seed=cfg["seed"])
    factors = {name: {"S1": _r(si["S1"][k]), "S1_conf": _r(si["S1_conf"][k]),
                      "ST": _r(si["ST"][k]), "ST_conf": _r(si["ST_conf"][k])} for k, name in enumerate(names)}
    change = float(np.nanmax(np.abs(np.r_[si["S1"] - half["S1"], si["ST"] - half["ST"]])))
    inside = bool(np.all((si["S1"] - si["S1_conf"] <= 1) & (si["S1"] + si["S1_conf"] >= 0)
                         & (si["ST"] - si["ST_conf"] <= 1) & (si["ST"] + si["ST_conf"] >= 0)))
    movers, per_unit = {}, []
    for j, unit in enumerate(leaders):
        if np.var(unit_ranks[:, j]) == 0:
            movers[int(unit)] = None
            continue
        sj = analyze.analyze(problem, unit_ranks[:, j], calc_second_order=False, num_resamples=20, seed=cfg["seed"])
        movers[int(unit)] = names[int(np.nanargmax(sj["ST"]))]
        per_unit.append({"unit": int(unit), "ST": {name: _r(sj["ST"][k]) for k, name in enumerate(names)}})
    return {"samples": len(x), "base_samples": size, "factors": factors, "rank_movers": movers,
            "per_unit": per_unit, "convergence": {"max_change_half_to_full": round(change, 3),
                                                  "indices_in_0_1": inside, "converged": change <= 0.05}}
