"""Monte Carlo uncertainty of the ranks, and which assumption moves them most [COINr].

Each draw perturbs every pillar weight within +-spread (renormalised) and picks a
normalisation method, an aggregation method and an imputation choice. The pillar matrices of
each (normalisation, imputation) pair are computed once; a draw is then a matrix product, so
1000 draws over thousands of units need no Python loop over rows.
"""

from __future__ import annotations

import warnings

import numpy as np

from ideal.scoring.aggregate import ranks, threat


def draws(profile: dict, base_weights: np.ndarray) -> dict:
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
    }


def composite_draws(matrices: dict, eligible: dict, plan: dict, profile: dict) -> np.ndarray:
    """units x draws composite scores. ``matrices[(norm, imput)]`` is units x pillars;
    ``eligible[(norm, imput)]`` says which units may be scored under that choice."""
    cfg = profile["uncertainty"]
    n = len(plan["weights"])
    units = next(iter(matrices.values())).shape[0]
    out = np.full((units, n), np.nan)
    for ni, norm in enumerate(cfg["normalisation"]):
        for ii, imput in enumerate(cfg["imputation"]):
            for ai, agg in enumerate(cfg["aggregation"]):
                sel = np.flatnonzero((plan["normalisation"] == ni) & (plan["imputation"] == ii)
                                     & (plan["aggregation"] == ai))
                if len(sel):
                    comp = threat(matrices[(norm, imput)], plan["weights"][sel], agg, profile.get("harm"))
                    out[:, sel] = np.where(eligible[(norm, imput)][:, None], comp, np.nan)
    return out


def rank_intervals(composites: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Median rank and 5th-95th percentile rank per unit over the draws (NaN-aware)."""
    r = ranks(composites)
    with warnings.catch_warnings():  # units never scored in any draw: NaN, as they should be
        warnings.simplefilter("ignore", RuntimeWarning)
        return (np.nanmedian(r, axis=1), np.nanpercentile(r, 5, axis=1),
                np.nanpercentile(r, 95, axis=1))


def sensitivity(matrices: dict, eligible: dict, profile: dict, base_weights: np.ndarray,
                base_rank: np.ndarray) -> dict:
    """Average absolute rank shift when one assumption varies and the others stay at the
    profile's choice (one at a time), per assumption, over the scored units."""
    cfg = profile["uncertainty"]
    default = (profile["normalisation"]["method"], "carry_forward")
    agg0 = profile["aggregation"]["method"]
    scored = np.isfinite(base_rank)
    harm = profile.get("harm")

    def shift(comp: np.ndarray) -> float:
        r = ranks(comp)
        d = np.abs(r - base_rank[:, None])[scored]
        d = d[np.isfinite(d)]
        return float(d.mean()) if d.size else 0.0

    rng = np.random.default_rng(cfg["seed"] + 1)
    n = max(50, cfg["draws"] // 5)
    w = base_weights * rng.uniform(1 - cfg["weight_spread"], 1 + cfg["weight_spread"],
                                   size=(n, len(base_weights)))
    w /= w.sum(axis=1, keepdims=True)
    out = {"weights": shift(np.where(eligible[default][:, None],
                                     threat(matrices[default], w, agg0, harm), np.nan))}
    one = base_weights[None, :]
    out["normalisation"] = float(np.mean([shift(np.where(eligible[(m, "carry_forward")][:, None],
                                                         threat(matrices[(m, "carry_forward")], one, agg0, harm), np.nan))
                                          for m in cfg["normalisation"]]))
    out["aggregation"] = float(np.mean([shift(np.where(eligible[default][:, None],
                                                       threat(matrices[default], one, a, harm), np.nan))
                                        for a in cfg["aggregation"]]))
    out["imputation"] = float(np.mean([shift(np.where(eligible[(default[0], i)][:, None],
                                                      threat(matrices[(default[0], i)], one, agg0, harm), np.nan))
                                       for i in cfg["imputation"]]))
    return out


def sobol(matrices: dict, eligible: dict, profile: dict, base_weights: np.ndarray,
          base_rank: np.ndarray, n: int | None = None, top: int = 20) -> dict:
    """Variance-based sensitivity [COINr, Saltelli 2010] with SALib: Sobol first-order (S1)
    and total-order (ST) indices, with 95 % bootstrap intervals, of the ranking's change (mean
    absolute rank shift of the scored units against the profile's ranking) to each assumption:
    the four weights (+-spread), normalisation, aggregation, imputation and, with harm as a
    scale, its floor. S1 is what an assumption does alone, ST with its interactions (ST - S1:
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
        comp = np.where(eligible[(norm, imput)], threat(matrices[(norm, imput)], w, agg, h)[:, 0], np.nan)
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
