"""Methodology v4: one hierarchical, over-dispersed model of the counts per crime type and
indicator, pooled across the members, that gives every unit (country x region x crime type)
its rate and its trend with their uncertainty.

The model (written down in the README, "How the threat score works"):

  stage 1, each unit i over the years t of its window (t = year - data year, so the intercept
  is the log rate of the data year):
      y_it ~ mean mu_it = n_it exp(a_i + b_i t),   Var(y_it) = p mu_it + kappa mu_it^2
  a negative-binomial (NB2) log-linear model with a population offset n_it; p = 1 for counts
  (incidents, victims, persons arrested), p = 0 for quantities (kilograms seized: a log-normal
  like variance). kappa, the squared coefficient of variation of the year-to-year noise
  beyond Poisson, is one per crime type and indicator, estimated as Breslow (1984) does: the
  value that makes the Pearson statistic equal its degrees of freedom over the units with at
  least three years; the fit alternates the Fisher-scoring fit and kappa three times. Half an event is spread over a unit's years (Haldane-Anscombe) so a
  unit without a single event has a finite, very uncertain rate. Verified against statsmodels'
  GLM with the NegativeBinomial family (tests/scoring/test_model.py).

  stage 2, per crime type and indicator, the same two-level normal model for the level a_i
  and (separately) for the slope b_i, each estimate with its stage-1 variance s_i^2:
      est_i = m + u_c + v_i + e_i,   u_c ~ N(0, s2_country),  v_i ~ N(0, s2_region),  e_i ~ N(0, s_i^2)
  The within-country variance s2_region is pooled across all the members' countries (Paule &
  Mandel 1982, the estimator recommended by Veroniki et al. 2016; DerSimonian & Kacker 2007 for
  its generalised form): a country's regions are pulled together only as far as regions of
  all members differ no more than their noise - three or four regions of one country no longer
  decide alone (v3's DerSimonian-Laird per country often gave 0 and collapsed them). The
  country means are pulled towards the mean of all members by s2_country (Paule-Mandel across
  the countries). Each unit's posterior (empirical Bayes, Morris 1983; the variance with the
  first-order correction for the estimated country mean, Kass & Steffey 1989):
      B_i = s_i^2 / (s_i^2 + s2_region)
      est*_i = (1 - B_i) est_i + B_i m*_c,   Var*_i = (1 - B_i) s_i^2 + B_i^2 Var(m*_c)
  The level's posterior is then computed from the counts themselves - the prior N(m*_c,
  Var(m*_c) + s2_region) times the exact negative-binomial likelihood of the window's counts at
  the unit's posterior slope, integrated by adaptive Gauss-Hermite quadrature (Liu & Pierce
  1994) - so a region without a single event is never pulled above one with a few (as the
  normal approximation of a log count would: its variance is enormous).
  A unit with one year has no slope of its own: its trend is missing (never its country's).
  With fewer than five regions beyond one per country in a group (a single small country) the
  variances cannot be estimated and each unit keeps its own estimate.

Pure numpy and pandas on all units at once (no loop over units), so the Monte Carlo can refit
it two hundred times (ideal.scoring.uncertainty).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

UNIT = ["country", "region", "crime_type"]
COUNTS = ("incidents", "victims", "persons_arrested")
PSEUDO = 0.5  # events spread over a unit's years (Haldane-Anscombe)
MIN_UNITS = 5  # regions (beyond one per country) needed to estimate the within-country variance


@dataclass
class Points:
    """The yearly observations the model reads, one row per unit and year (flat arrays)."""
    u: np.ndarray          # unit index
    t: np.ndarray          # year - data year
    y: np.ndarray          # the count (or kilograms), pseudo-count added
    off: np.ndarray        # log population
    p: np.ndarray          # 1 for counts, 0 for quantities (per point)
    n_units: int
    years: np.ndarray      # years per unit
    group: np.ndarray      # group (crime type x indicator) per unit
    country: np.ndarray    # country code per unit (integer)
    raw: np.ndarray        # the count without pseudo-count
    nowcast_sd: np.ndarray = field(default_factory=lambda: np.empty(0))  # per point, NaN unless nowcast
    known: np.ndarray = field(default_factory=lambda: np.empty(0))       # the months known of a nowcast
    options: Options | None = None     # v5's choices (None: v4)
    cell: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=int))  # country-year cell per point, -1: none
    shift: np.ndarray = field(default_factory=lambda: np.empty(0))  # the fitted country-year effect per point
    # the cells' layout, computed once (the fits alternate with the effects hundreds of times):
    # each cell's country x crime type (its cluster) and year, each unit's cluster (-1: none), each
    # cluster's group
    cell_cluster: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=int))
    cell_t: np.ndarray = field(default_factory=lambda: np.empty(0))
    unit_cluster: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=int))
    cluster_group: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=int))


@dataclass(frozen=True)
class Options:
    """v5's choices (profile ``smoothing``): ``country_year``, a log-rate effect per country,
    crime type and year shared by the country's regions (Knorr-Held 2000's type I-IV
    interactions, here fixed effects orthogonal to the country's linear path) where a country
    sends at least ``min_regions`` regions; ``region_prior`` "chung": the between-region
    variances as the mode of the restricted likelihood times a Gamma(2, 0) prior on the sd
    (Chung et al. 2013), never zero; "paule_mandel" (v4); ``joint``: level and slope drawn
    together with their correlation."""
    country_year: bool = False
    min_regions: int = 3
    region_prior: str = "paule_mandel"
    joint: bool = False


def options(profile: dict) -> Options | None:
    """The model's options of a methodology profile (None: v4's model)."""
    s = profile.get("smoothing") or {}
    if s.get("model") != "hierarchical" or not ({"country_year", "region_prior", "joint_draws"} & set(s)):
        return None
    return Options(country_year=bool(s.get("country_year", False)), min_regions=int(s.get("min_regions", 3)),
                   region_prior=str(s.get("region_prior", "paule_mandel")), joint=bool(s.get("joint_draws", False)))


def points(rates: pd.DataFrame, units: pd.DataFrame, window: int, opts: Options | None = None) -> Points:
    """The points of each unit's window (the years data_year - window .. data_year with a
    value and a population); with ``opts.country_year`` each point's country-year cell."""
    cols = UNIT + ["data_year"]
    extra = [c for c in ("nowcast_sd", "known") if c in rates]
    pts = units[cols].reset_index(drop=True).reset_index(names="_u").merge(
        rates[UNIT + ["year", "value", "population", "indicator"] + extra], on=UNIT)
    pts = pts[(pts["year"] <= pts["data_year"]) & (pts["year"] >= pts["data_year"] - window)
              & pts["population"].gt(0) & pts["value"].notna()]
    n = len(units)
    u = pts["_u"].to_numpy()
    years = np.bincount(u, minlength=n)
    raw = pts["value"].clip(lower=0).to_numpy(dtype="float64")
    y = raw + PSEUDO / np.maximum(years[u], 1)
    group = units.groupby(["crime_type", "indicator"], sort=True).ngroup().to_numpy()
    country = units.groupby("country", sort=True).ngroup().to_numpy()
    p = pts["indicator"].isin(COUNTS).to_numpy(dtype="float64")
    sd = pts["nowcast_sd"].to_numpy(dtype="float64") if "nowcast_sd" in pts else np.full(len(pts), np.nan)
    known = pts["known"].to_numpy(dtype="float64") if "known" in pts else np.full(len(pts), np.nan)
    t = (pts["year"] - pts["data_year"]).to_numpy(dtype="float64")
    cell, cell_cluster, cell_t, unit_cluster, cluster_group = _cells(u, t, group, country, years, opts)
    return Points(u=u, t=t, y=y, off=np.log(pts["population"].to_numpy(dtype="float64")), p=p, n_units=n,
                  years=years, group=group, country=country, raw=raw, nowcast_sd=sd, known=known,
                  options=opts, cell=cell, shift=np.zeros(len(u)), cell_cluster=cell_cluster, cell_t=cell_t,
                  unit_cluster=unit_cluster, cluster_group=cluster_group)


def _cells(u: np.ndarray, t: np.ndarray, group: np.ndarray, country: np.ndarray, years: np.ndarray,
           opts: Options | None) -> tuple[np.ndarray, ...]:
    """The country x crime type x year cells: a cluster is a (group, country) with at least
    ``opts.min_regions`` units of three years or more; a cell, one year of a cluster, holds the
    points of those units. Returns each point's cell (-1: none), each cell's cluster and year,
    each unit's cluster (-1: none; a unit of fewer years in a cluster's country and crime type
    has one, and no cell) and each cluster's group."""
    none = (np.full(len(u), -1, dtype=int), np.empty(0, dtype=int), np.empty(0), np.full(len(years), -1, dtype=int),
            np.empty(0, dtype=int))
    if opts is None or not opts.country_year or not len(u):
        return none
    width = int(country.max()) + 1
    gc = group.astype("int64") * width + country
    enough = years >= 3
    keys, per = np.unique(gc[enough], return_counts=True)
    clusters = keys[per >= opts.min_regions]
    if not len(clusters):
        return none
    pos = np.minimum(np.searchsorted(clusters, gc), len(clusters) - 1)
    unit_cluster = np.where(clusters[pos] == gc, pos, -1)
    keep = (enough & (unit_cluster >= 0))[u]
    cells, inverse = np.unique(unit_cluster[u][keep] * 1000 + (t[keep].astype("int64") + 500), return_inverse=True)
    cell = np.full(len(u), -1, dtype=int)
    cell[keep] = inverse
    return cell, (cells // 1000).astype(int), (cells % 1000 - 500).astype("float64"), unit_cluster, \
        (clusters // width).astype(int)


def with_counts(pts: Points, raw: np.ndarray) -> Points:
    """The same points with other counts (a Monte Carlo draw); the country-year effects of
    ``pts`` are where the fit of the new counts starts from."""
    y = np.clip(raw, 0, None) + PSEUDO / np.maximum(pts.years[pts.u], 1)
    return replace(pts, y=y, raw=raw)


def _shifted(pts: Points, shift: np.ndarray) -> Points:
    """The points with each country-year effect added to the offset (what the unit fits read)."""
    return replace(pts, off=pts.off - pts.shift + shift, shift=shift)


def country_year_effects(pts: Points, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The country-year effects per point given the units' levels and slopes: per cell, the log
    of its observed over its expected events (the Poisson maximum-likelihood common factor),
    then per country and crime type the weighted linear fit in the year taken out (weights: the
    expected events), so the effects carry the shared departures from the country's path (a
    national spike, a change of recording) and the units keep their own level and trend."""
    c = pts.cell
    out = np.zeros(len(c))
    use = c >= 0
    if not use.any():
        return out
    base = pts.off - pts.shift
    mu0 = np.exp(np.clip(base + a[pts.u] + np.nan_to_num(b)[pts.u] * pts.t, -700, 700))
    n = int(c.max()) + 1
    obs = np.bincount(c[use], weights=pts.y[use], minlength=n)
    exp_ = np.bincount(c[use], weights=mu0[use], minlength=n)
    d = np.log(np.maximum(obs, 1e-12) / np.maximum(exp_, 1e-12))
    tt, k = pts.cell_t, pts.cell_cluster
    w = np.maximum(exp_, 1e-12)

    def s(v):
        return np.bincount(k, weights=v)
    s0, s1, s2, sy, sty = s(w), s(w * tt), s(w * tt * tt), s(w * d), s(w * tt * d)
    det = s0 * s2 - s1 * s1
    ok = det > 1e-12 * np.maximum(s0 * s2, 1e-300)
    beta = np.where(ok, (s0 * sty - s1 * sy) / np.where(ok, det, 1), 0.0)
    alpha = (sy - beta * s1) / np.maximum(s0, 1e-300)
    cell_effect = d - alpha[k] - beta[k] * tt
    out[use] = cell_effect[c[use]]
    return out


def _fit_units(pts: Points, kappa: np.ndarray, start: tuple | None, rounds: int = 4) -> tuple[Points, tuple]:
    """Stage 1 with the country-year effects where there are cells: the unit fits and the
    effects alternated ``rounds`` times, from the effects ``pts`` carries. Returns the
    shifted points and the fit."""
    res = unit_fit(pts, kappa, start)
    if not (pts.cell >= 0).any():
        return pts, res
    cur = pts
    for _ in range(rounds):
        cur = _shifted(cur, country_year_effects(cur, res[0], res[1]))
        res = unit_fit(cur, kappa, (res[0], res[1]), iterations=10)
    return cur, res


def shock_slope_var(pts: Points, kappa: np.ndarray) -> np.ndarray:
    """Per unit, the variance its slope takes from its country's year effects: the effects read
    as draws of a shared noise around the country's linear path (Knorr-Held 2000, type I
    interaction), sigma2 per crime type = the sum over its countries' years of effect^2 less
    the effect's own sampling variance (1 / expected + kappa / regions) over the sum of (years -
    2), floored at 0; the linear part of such noise is an error of every region's slope alike,
    sigma2 / sum (t - mean t)^2 (zero without cells). Added to the posterior variance, not to
    the unit's own (shrinkage within a country cannot remove an error its regions share)."""
    out = np.zeros(pts.n_units)
    use = pts.cell >= 0
    if not use.any():
        return out
    c = pts.cell[use]
    n = len(pts.cell_cluster)
    first = np.zeros(n, dtype=int)
    first[c] = np.flatnonzero(use)
    shift = pts.shift[first]                      # one effect per cell
    expected = np.bincount(c, weights=pts.y[use], minlength=n)
    regions = np.bincount(c, minlength=n)
    cl, t = pts.cell_cluster, pts.cell_t
    noise = 1 / np.maximum(expected, 1e-9) + kappa[pts.cluster_group[cl]] / np.maximum(regions, 1)
    n_cl = len(pts.cluster_group)
    years = np.bincount(cl, minlength=n_cl)
    tbar = np.bincount(cl, weights=t, minlength=n_cl) / np.maximum(years, 1)
    stt = np.bincount(cl, weights=(t - tbar[cl]) ** 2, minlength=n_cl)
    # sigma2 pooled over the countries of a crime type (as kappa is): two or three years of one
    # country cannot estimate it alone
    ng = int(pts.group.max()) + 1
    rss = np.bincount(pts.cluster_group, weights=np.bincount(cl, weights=shift ** 2 - noise, minlength=n_cl),
                      minlength=ng)
    dof = np.bincount(pts.cluster_group, weights=np.maximum(years - 2, 0), minlength=ng)
    sigma2 = np.maximum(rss / np.maximum(dof, 1), 0.0)[pts.cluster_group]
    extra = np.where((years >= 3) & (stt > 0), sigma2 / np.where(stt > 0, stt, 1), 0.0)
    has = pts.unit_cluster >= 0
    out[has] = extra[pts.unit_cluster[has]]
    return out


def _cell_df(pts: Points, n_groups: int) -> np.ndarray:
    """Degrees of freedom the country-year effects use per group (years - 2 per country)."""
    per = np.bincount(pts.cell_cluster, minlength=len(pts.cluster_group))
    return np.bincount(pts.cluster_group, weights=np.maximum(per - 2, 0), minlength=n_groups).astype("float64")


def unit_fit(pts: Points, kappa: np.ndarray, start: tuple | None = None,
             iterations: int = 30) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Stage 1 by Fisher scoring on all units at once, with ``kappa`` per group: (a, b, var_a,
    var_b, cov_ab) per unit; b and its variance NaN for a unit with fewer than two years."""
    n, u, t = pts.n_units, pts.u, pts.t
    k = kappa[pts.group][u]

    def s(v):
        return np.bincount(u, weights=v, minlength=n)
    two = pts.years >= 2
    if start is None:
        a = np.log(np.maximum(s(pts.y), 1e-300) / np.maximum(s(np.exp(pts.off)), 1e-300))
        b = np.zeros(n)
    else:
        a, b = np.nan_to_num(start[0]).copy(), np.nan_to_num(start[1]).copy()
    for _ in range(iterations):
        eta = pts.off + a[u] + b[u] * pts.t
        mu = np.exp(np.clip(eta, -700, 700))
        denom = pts.p + k * mu
        w = mu / denom                        # Fisher weight on the linear predictor: mu^2 / V
        r = (pts.y - mu) / denom              # score: (y - mu) mu / V
        g0, g1 = s(r), s(t * r)
        h00, h01, h11 = s(w), s(t * w), s(t * t * w)
        det = h00 * h11 - h01 * h01
        ok = two & (det > 1e-12 * np.maximum(h00 * h11, 1e-300))
        safe = np.where(ok, det, 1.0)
        da = np.where(ok, (h11 * g0 - h01 * g1) / safe, np.where(h00 > 0, g0 / np.where(h00 > 0, h00, 1), 0.0))
        db = np.where(ok, (h00 * g1 - h01 * g0) / safe, 0.0)
        a, b = a + np.clip(da, -5, 5), b + np.clip(db, -2, 2)
        if max(np.nanmax(np.abs(da), initial=0), np.nanmax(np.abs(db), initial=0)) < 1e-9:
            break
    return (a, np.where(ok, b, np.nan), *_covariance(pts, a, np.where(ok, b, 0.0), kappa, ok))


def _covariance(pts: Points, a: np.ndarray, b: np.ndarray, kappa: np.ndarray,
                ok: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The inverse Fisher information at (a, b) with ``kappa``: var_a, var_b, cov_ab."""
    n, u, t = pts.n_units, pts.u, pts.t
    mu = np.exp(np.clip(pts.off + a[u] + b[u] * t, -700, 700))
    w = mu / (pts.p + kappa[pts.group][u] * mu)

    def s(v):
        return np.bincount(u, weights=v, minlength=n)
    h00, h01, h11 = s(w), s(t * w), s(t * t * w)
    det = np.where(ok, h00 * h11 - h01 * h01, 1.0)
    var_a = np.where(ok, h11 / det, np.where(h00 > 0, 1 / np.where(h00 > 0, h00, 1), np.nan))
    var_b = np.where(ok, h00 / det, np.nan)
    cov = np.where(ok, -h01 / det, np.nan)
    return var_a, var_b, cov


def dispersion(pts: Points, a: np.ndarray, b: np.ndarray, n_groups: int,
               extra_df: np.ndarray | None = None) -> np.ndarray:
    """kappa per group such that the Pearson statistic equals its degrees of freedom (Breslow
    1984, "Extra-Poisson variation in log-linear models"): sum (y - mu)^2 / (p mu + kappa mu^2)
    = sum over units (years - 2), over the units with at least three years, the means held at
    the fit (the caller alternates fit and kappa). Each term is self-normalised, so a few large
    units do not decide kappa alone. 0 when the counts vary no more than Poisson; a group
    without a unit of three years takes the median of the other groups (0 if none)."""
    u, t = pts.u, pts.t
    mu = np.exp(np.clip(pts.off + a[u] + np.nan_to_num(b)[u] * t, -700, 700))
    use = pts.years[u] >= 3
    g = pts.group[u]
    df = np.bincount(pts.group, weights=np.where(pts.years >= 3, pts.years - 2, 0), minlength=n_groups)
    if extra_df is not None:  # the country-year effects' parameters (v5)
        df = np.where(df > 0, np.maximum(df - extra_df, 1), df)
    r2 = np.where(use, (pts.y - mu) ** 2, 0.0)

    def excess(k: np.ndarray) -> np.ndarray:
        v = pts.p * mu + k[g] * mu * mu
        return np.bincount(g, weights=np.where(use, r2 / np.where(v > 0, v, 1), 0.0), minlength=n_groups) - df

    over = excess(np.full(n_groups, 1e-8)) > 0
    lo, hi = np.full(n_groups, np.log(1e-8)), np.full(n_groups, np.log(100.0))
    for _ in range(26):  # bisection on log kappa (1e-8 .. 100), all groups at once
        mid = (lo + hi) / 2
        pos = excess(np.exp(mid)) > 0
        lo, hi = np.where(pos, mid, lo), np.where(pos, hi, mid)
    kappa = np.where(df > 0, np.where(over, np.exp((lo + hi) / 2), 0.0), np.nan)
    fill = float(np.nanmedian(kappa)) if np.isfinite(kappa).any() else 0.0
    return np.where(np.isfinite(kappa), kappa, fill)


def _pm_vector(est: np.ndarray, var: np.ndarray, cluster: np.ndarray, group: np.ndarray,
               n_groups: int) -> np.ndarray:
    """Paule-Mandel (1982) between-unit variance per group, pooled over the clusters
    (countries) of the group: the tau2 that makes sum_c sum_i w_i (est_i - m_c)^2 equal sum_c
    (k_c - 1), w_i = 1 / (var_i + tau2); 0 when the estimates vary no more than their noise.
    All groups at once (bisection on log tau2). ``cluster``: an integer per estimate, unique
    across groups."""
    n_cl = int(cluster.max()) + 1 if len(cluster) else 0
    k = np.bincount(cluster, minlength=n_cl)
    cl_group = np.zeros(n_cl, dtype=int)
    cl_group[cluster] = group
    df = np.bincount(cl_group, weights=np.where(k >= 2, k - 1, 0), minlength=n_groups)

    def excess(tau2: np.ndarray) -> np.ndarray:
        w = 1 / (var + tau2[group])
        m = np.bincount(cluster, weights=w * est, minlength=n_cl) / np.maximum(np.bincount(cluster, weights=w, minlength=n_cl), 1e-300)
        return np.bincount(group, weights=w * (est - m[cluster]) ** 2, minlength=n_groups) - df

    spread = np.bincount(group, weights=est * est, minlength=n_groups) / np.maximum(np.bincount(group, minlength=n_groups), 1) \
        - (np.bincount(group, weights=est, minlength=n_groups) / np.maximum(np.bincount(group, minlength=n_groups), 1)) ** 2
    positive = (df > 0) & (excess(np.zeros(n_groups)) > 0)
    lo = np.full(n_groups, np.log(1e-12))
    hi = np.log(np.maximum(spread, 1e-8) * 16 + 1e-6)
    while True:  # widen until the upper end has no excess
        bad = positive & (excess(np.exp(hi)) > 0)
        if not bad.any() or hi.max() > np.log(1e12):
            break
        hi = np.where(bad, hi + np.log(16), hi)
    for _ in range(30):
        mid = (lo + hi) / 2
        pos = excess(np.exp(mid)) > 0
        lo, hi = np.where(pos, mid, lo), np.where(pos, hi, mid)
    return np.where(positive, np.exp((lo + hi) / 2), 0.0)


def chung_vector(est: np.ndarray, var: np.ndarray, cluster: np.ndarray, group: np.ndarray,
                 n_groups: int) -> np.ndarray:
    """The between-unit variance per group within clusters (countries) as the mode of the
    restricted likelihood (the cluster means integrated out) times a Gamma(2, rate -> 0) prior
    on the sd, the boundary-avoiding prior of Chung, Rabe-Hesketh, Dorie, Gelman & Liu (2013,
    "A nondegenerate penalized likelihood estimator for variance parameters in multilevel
    models", Psychometrika 78): log p(tau) = log tau, so the estimate is never zero and is about
    one standard error from it when the data cannot tell it from zero. The root of its
    derivative by bisection on log tau2 between 1e-8 and 30 times the estimates' spread, all
    groups at once; a group without a cluster of two estimates gets 0."""
    n_cl = int(cluster.max()) + 1 if len(cluster) else 0
    k = np.bincount(cluster, minlength=n_cl)
    cl_group = np.zeros(n_cl, dtype=int)
    cl_group[cluster] = group
    df = np.bincount(cl_group, weights=np.where(k >= 2, k - 1, 0), minlength=n_groups)
    cnt = np.maximum(np.bincount(group, minlength=n_groups), 1)
    spread = np.bincount(group, weights=est * est, minlength=n_groups) / cnt \
        - (np.bincount(group, weights=est, minlength=n_groups) / cnt) ** 2
    top = np.maximum(spread, np.bincount(group, weights=var, minlength=n_groups) / cnt) * 30 + 1e-6

    def slope(tau2: np.ndarray) -> np.ndarray:
        """d/d tau2 of the penalised restricted log-likelihood, per group."""
        w = 1 / (var + tau2[group])
        sw = np.bincount(cluster, weights=w, minlength=n_cl)
        m = np.bincount(cluster, weights=w * est, minlength=n_cl) / np.maximum(sw, 1e-300)
        sw2 = np.bincount(cluster, weights=w * w, minlength=n_cl)
        return 0.5 * (np.bincount(group, weights=w * w * (est - m[cluster]) ** 2 - w, minlength=n_groups)
                      + np.bincount(cl_group, weights=sw2 / np.maximum(sw, 1e-300), minlength=n_groups)
                      + 1 / tau2)
    # the log-prior's 1 / (2 tau2) makes the slope positive near zero; bisection on log tau2
    lo = np.full(n_groups, np.log(1e-8))
    hi = np.log(top)
    for _ in range(40):
        mid = (lo + hi) / 2
        up = slope(np.exp(mid)) > 0
        lo, hi = np.where(up, mid, lo), np.where(up, hi, mid)
    arg = np.exp((lo + hi) / 2)
    return np.where(df > 0, arg, 0.0)


def paule_mandel_pooled(est: np.ndarray, var: np.ndarray, cluster: np.ndarray) -> float:
    """Paule-Mandel between-unit variance within clusters (countries), pooled over them, of one
    set of estimates (see :func:`_pm_vector`)."""
    ok = np.isfinite(est) & np.isfinite(var) & (var > 0)
    if ok.sum() < 2:
        return 0.0
    _, cl = np.unique(cluster[ok], return_inverse=True)
    return float(_pm_vector(est[ok], var[ok], cl, np.zeros(int(ok.sum()), dtype=int), 1)[0])


def paule_mandel(est: np.ndarray, var: np.ndarray) -> float:
    """Paule-Mandel between-study variance of one set of estimates (the country means)."""
    return paule_mandel_pooled(est, var, np.zeros(len(est), dtype=int))


def two_level(est: np.ndarray, var: np.ndarray, country: np.ndarray, group: np.ndarray,
              hyper: dict | None = None, prior: tuple | None = None,
              chung: bool = False) -> tuple[np.ndarray, np.ndarray, dict]:
    """Stage 2 (see the module docstring) for all groups at once: the posterior mean and
    variance of each estimate, and the hyperparameters per group {group: (m, var_m,
    s2_country, s2_region)} (s2_country inf: fewer than four countries, not pooled). With
    ``hyper`` those variances are used as given (the Monte Carlo's re-estimated ones) and
    only the posterior is computed. ``chung``: the within-country variance by
    :func:`chung_vector` (v5) instead of Paule-Mandel. Estimates that are NaN stay NaN. ``prior``: two arrays
    filled with each unit's prior mean and variance (infinite: not pooled)."""
    post = np.full(len(est), np.nan)
    pvar = np.full(len(est), np.nan)
    ok = np.isfinite(est) & np.isfinite(var) & (var > 0)
    if not ok.any():
        return post, pvar, {}
    idx = np.flatnonzero(ok)
    e, v = est[ok], var[ok]
    groups, g = np.unique(group[ok], return_inverse=True)
    ng = len(groups)
    c = country[ok].astype("int64")
    pairs, cl = np.unique(g.astype("int64") * (int(c.max()) + 1) + c, return_inverse=True)
    ncl = len(pairs)
    cl_group = (pairs // (int(c.max()) + 1)).astype(int)
    if hyper is not None and all(int(x) in hyper for x in groups):
        s2_region = np.array([hyper[int(x)][3] for x in groups])
        s2_country = np.array([hyper[int(x)][2] for x in groups])
    else:
        s2_region = chung_vector(e, v, cl, g, ng) if chung else _pm_vector(e, v, cl, g, ng)
        s2_country = None
    w = 1 / (v + s2_region[g])
    sw = np.bincount(cl, weights=w, minlength=ncl)
    mc = np.bincount(cl, weights=w * e, minlength=ncl) / sw
    vc = 1 / sw
    k_c = np.bincount(cl_group, minlength=ng)                     # countries per group
    if s2_country is None:
        s2_country = np.where(k_c >= 4, _pm_vector(mc, vc, cl_group, cl_group, ng), np.inf)
    pooled = np.isfinite(s2_country) & (k_c >= 4)
    s2c = np.where(pooled, s2_country, 0.0)[cl_group]
    wc = 1 / (vc + s2c)
    m = np.bincount(cl_group, weights=wc * mc, minlength=ng) / np.bincount(cl_group, weights=wc, minlength=ng)
    var_m = 1 / np.bincount(cl_group, weights=wc, minlength=ng)
    kk = k_c[cl_group].astype("float64")
    # Morris (1983): the shrinkage x (k - 3) / (k - 1) and a variance term for the estimated
    # hyperparameters, 2 / (k - 3) x B^2 x (estimate - mean)^2; fewer than four countries: each
    # country's own mean (too few to pool them)
    with np.errstate(divide="ignore", invalid="ignore"):
        bc = np.where(pooled[cl_group], (kk - 3) / (kk - 1) * vc / (vc + s2c), 0.0)
        mstar = mc - bc * (mc - m[cl_group])
        vstar = np.where(pooled[cl_group], vc * (1 - (kk - 1) / kk * bc)
                         + 2 / np.maximum(kk - 3, 1) * bc ** 2 * (mc - m[cl_group]) ** 2, vc)
    # the same at the region level: n units, one mean per country estimated
    n_eff = (np.bincount(g, minlength=ng) - k_c).astype("float64")
    adj = np.where(n_eff > 2, (n_eff - 2) / np.maximum(n_eff, 1), 1.0)
    has = s2_region > 0
    b = np.where(has[g], adj[g] * v / (v + s2_region[g]), 1.0)
    # fewer than MIN_UNITS regions beyond one per country: the within-country variance cannot be
    # estimated, so no unit is pulled (a 0 from two regions would pretend they are equal)
    b = np.where(n_eff[g] < MIN_UNITS, 0.0, b)
    gap = e - mstar[cl]
    extra = np.where(has[g] & (n_eff[g] > 2), 2 / np.maximum(n_eff[g] - 2, 1) * b * b * gap * gap, 0.0)
    post[idx] = (1 - b) * e + b * mstar[cl]
    pvar[idx] = (1 - b) * v + b * b * vstar[cl] + extra
    out = {int(x): (float(m[i]), float(var_m[i]), float(s2_country[i]) if pooled[i] else float("inf"),
                    float(s2_region[i])) for i, x in enumerate(groups)}
    if prior is not None:  # each unit's prior: its country's posterior mean and variance + s2_region
        prior[0][idx] = mstar[cl]
        prior[1][idx] = np.where((n_eff[g] >= MIN_UNITS) & has[g], vstar[cl] + s2_region[g], np.inf)
    return post, pvar, out


NODES, WEIGHTS = np.polynomial.hermite.hermgauss(20)


def level_posterior(pts: Points, kappa: np.ndarray, slope: np.ndarray, prior_mean: np.ndarray,
                    prior_var: np.ndarray, centre: np.ndarray, spread: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The posterior mean and variance of each unit's log rate from its counts themselves (not
    their normal approximation): prior N(prior_mean, prior_var) times the negative-binomial
    likelihood of the window's counts at the unit's posterior slope, integrated by adaptive
    Gauss-Hermite quadrature (20 nodes around ``centre`` +- ``spread``; Liu & Pierce 1994).
    The normal approximation on the log scale gives a region without a single event a huge
    variance and so pulls it above a region with a few events; the exact likelihood does not
    (a higher count always gives a higher rate). Units with an infinite prior variance (not
    pooled) keep ``centre``."""
    n = pts.n_units
    use = np.isfinite(prior_var) & np.isfinite(prior_mean) & np.isfinite(centre)
    mean, var = centre.copy(), spread.copy() ** 2
    if not use.any():
        return mean, var
    sd = np.maximum(np.where(use, spread, 1.0), 1e-3) * 1.5
    theta = centre[:, None] + np.sqrt(2) * sd[:, None] * NODES[None, :]           # units x nodes
    unit_kappa = kappa[pts.group]
    unit_counts = np.bincount(pts.u, weights=pts.p, minlength=n) > 0
    # Poisson units (kappa 0, counts): sufficient statistics, loglik = Y theta - E exp(theta)
    poisson = use & (unit_kappa <= 0) & unit_counts
    slope0 = np.nan_to_num(slope)
    exposure = np.bincount(pts.u, weights=np.exp(pts.off + slope0[pts.u] * pts.t), minlength=n)
    total = np.bincount(pts.u, weights=pts.raw, minlength=n)
    loglik = np.where(poisson[:, None], total[:, None] * theta - exposure[:, None] * np.exp(np.clip(theta, -700, 700)), 0.0)
    keep = (use & ~poisson)[pts.u]                      # the other units, point by point
    if keep.any():
        u, t = pts.u[keep], pts.t[keep]
        k = unit_kappa[u]
        log_mu = pts.off[keep][:, None] + theta[u] + slope0[u][:, None] * t[:, None]
        counts = (pts.p[keep] > 0)[:, None]
        y = np.where(counts[:, 0], pts.raw[keep], pts.y[keep])[:, None]
        mu = np.exp(np.clip(log_mu, -700, 700))
        kk = k[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            nb = np.where(kk > 0, y * log_mu - (y + 1 / np.where(kk > 0, kk, 1)) * np.log1p(kk * mu), y * log_mu - mu)
            s2 = np.log1p(np.maximum(kk, 1e-12))
            ln = -(np.log(np.maximum(y, 1e-12)) - (log_mu - s2 / 2)) ** 2 / (2 * s2)
        ll = np.where(counts, nb, ln)
        loglik = loglik + np.column_stack([np.bincount(u, weights=ll[:, j], minlength=n) for j in range(len(NODES))])
    pv = np.where(use, prior_var, 1.0)
    logprior = -(theta - prior_mean[:, None]) ** 2 / (2 * pv[:, None])
    logw = loglik + logprior + NODES[None, :] ** 2 + np.log(WEIGHTS)[None, :]
    logw = logw - logw.max(axis=1, keepdims=True)
    w = np.exp(logw)
    w = w / w.sum(axis=1, keepdims=True)
    m = (w * theta).sum(axis=1)
    v = (w * (theta - m[:, None]) ** 2).sum(axis=1)
    return np.where(use, m, mean), np.where(use, v, var)


@dataclass
class Fit:
    """The model's answer per unit (arrays in the order of the units) and its hyperparameters."""
    level: np.ndarray        # posterior mean of the log rate per person in the data year
    level_var: np.ndarray
    slope: np.ndarray        # posterior mean of the yearly change of the log rate (NaN: one year)
    slope_var: np.ndarray
    raw_level: np.ndarray    # stage 1 (the unit's own data alone)
    raw_level_var: np.ndarray
    raw_slope: np.ndarray
    raw_slope_var: np.ndarray
    kappa: np.ndarray        # per group
    hyper: dict              # {"level": {group: ...}, "slope": {group: ...}}
    pts: Points
    mu: np.ndarray           # stage-1 fitted mean per point
    rho: np.ndarray | None = None  # v5: the correlation of level and slope (drawn jointly)


def fit(pts: Points, kappa: np.ndarray | None = None, hyper: dict | None = None,
        rounds: int = 3, start: tuple | None = None, exact: bool = True, cy_rounds: int = 4,
        kappa_start: np.ndarray | None = None) -> Fit:
    """The whole model on ``pts``. ``kappa`` and ``hyper`` given: used as they are (no
    estimation). ``start``: (a, b) to start Fisher scoring from (a Monte Carlo draw starts
    from the fit of the data as they are). ``exact``: the level's posterior by quadrature
    (not needed where only the hyperparameters are used: the bootstrap's refit). With
    country-year cells (v5) the effects are fitted with the units (``cy_rounds``
    alternations, from the effects ``pts`` carries: a Monte Carlo draw starts from the fit of
    the data as they are and needs one); the level is the unit's log rate in the data year
    including its country's effect of that year. ``kappa_start``: the dispersion the
    estimation of kappa starts from (a bootstrap draw starts from the data's)."""
    n_groups = int(pts.group.max()) + 1 if pts.n_units else 0
    extra = _cell_df(pts, n_groups) if (pts.cell >= 0).any() else None
    if kappa is None:
        k = np.zeros(n_groups) if kappa_start is None else kappa_start.copy()
        for _ in range(rounds):
            pts, (a, b, va, vb, cov) = _fit_units(pts, k, start, rounds=min(2, cy_rounds))
            k = dispersion(pts, a, b, n_groups, extra)
            start = (a, b)
        kappa = k
    pts, (a, b, va, vb, cov) = _fit_units(pts, kappa, start, rounds=cy_rounds)
    opts = pts.options
    chung = opts is not None and opts.region_prior == "chung"
    group_u = pts.group
    prior = (np.full(len(a), np.nan), np.full(len(a), np.inf))
    level, level_var, hl = two_level(a, va, pts.country, group_u, (hyper or {}).get("level"), prior, chung=chung)
    slope, slope_var, hs = two_level(b, vb, pts.country, group_u, (hyper or {}).get("slope"), chung=chung)
    slope_var = slope_var + shock_slope_var(pts, kappa)
    # the data year's country-year effect of each unit (0 without cells)
    now = np.zeros(len(a))
    at0 = (pts.t == 0) & (pts.cell >= 0)
    now[pts.u[at0]] = pts.shift[at0]
    lean = np.where(np.isfinite(cov) & np.isfinite(vb) & (vb > 0), cov / np.where(vb > 0, vb, 1), 0.0)
    rho = np.where(np.isfinite(cov) & (va > 0) & (vb > 0), cov / np.sqrt(np.where((va > 0) & (vb > 0), va * vb, 1)), 0.0)
    mu = np.exp(np.clip(pts.off + a[pts.u] + np.nan_to_num(b)[pts.u] * pts.t, -700, 700))
    keep = {"raw_level": a, "raw_level_var": va, "raw_slope": b, "raw_slope_var": vb, "kappa": kappa,
            "hyper": {"level": hl, "slope": hs}, "pts": pts, "mu": mu,
            "rho": np.clip(np.nan_to_num(rho), -0.99, 0.99) if opts is not None and opts.joint else None}
    if not exact:
        return Fit(level=level + now, level_var=level_var, slope=slope, slope_var=slope_var, **keep)
    quad, quad_var = level_posterior(pts, kappa, np.where(np.isfinite(slope), slope, 0.0), prior[0], prior[1],
                                     level, np.sqrt(level_var))
    # the quadrature holds the slope at its posterior mean; the level at the data year moves with
    # the slope (stage 1: by cov_ab / var_b per unit of slope), so its uncertainty adds
    pooled_level = np.isfinite(prior[1])
    level = np.where(pooled_level, quad, level)
    level_var = np.where(pooled_level, quad_var + lean ** 2 * np.nan_to_num(slope_var), level_var)
    return Fit(level=level + now, level_var=level_var, slope=slope, slope_var=slope_var, **keep)


def draw_counts(f: Fit, rng: np.random.Generator) -> np.ndarray:
    """Counts drawn from the fitted over-dispersed model (each unit's own stage-1 means, the
    group's kappa): negative binomial for counts (Gamma-Poisson mixture), log-normal with the
    same variance for quantities; a nowcast year is drawn from its own predictive
    distribution (the months known plus a log-normal rest, ideal.scoring.nowcast)."""
    pts = f.pts
    mu = f.mu
    k = f.kappa[pts.group][pts.u]
    counts = pts.p > 0
    out = np.empty(len(mu))
    lam = np.where(k > 0, rng.gamma(np.where(k > 0, 1 / np.maximum(k, 1e-12), 1.0),
                                    np.where(k > 0, mu * np.maximum(k, 1e-12), 1.0)), mu)
    out[counts] = rng.poisson(np.clip(lam[counts], 0, 1e12))
    q = ~counts
    if q.any():
        s2 = np.log1p(k[q])
        out[q] = mu[q] * np.exp(rng.normal(-s2 / 2, np.sqrt(s2)))
    now = np.isfinite(pts.nowcast_sd) & np.isfinite(pts.known)
    if now.any():
        out[now] = redraw_nowcast(pts, rng)[now]
    return out


def posterior_draw(f: Fit, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One draw of each unit's log rate and slope from their (normal) posteriors."""
    z1 = rng.standard_normal(len(f.level))
    z2 = rng.standard_normal(len(f.slope))
    if f.rho is not None:  # v5: jointly (the level of the data year and the slope are correlated)
        z2 = f.rho * z1 + np.sqrt(1 - f.rho ** 2) * z2
    level = f.level + z1 * np.sqrt(np.nan_to_num(f.level_var))
    slope = f.slope + z2 * np.sqrt(np.nan_to_num(f.slope_var))
    return level, slope


def summary(f: Fit, names: list[tuple[str, str]]) -> list[dict]:
    """The hyperparameters per crime type and indicator, JSON-ready (stored with the run)."""
    out = []
    for g, (crime, indicator) in enumerate(names):
        lv, sl = f.hyper["level"].get(g), f.hyper["slope"].get(g)
        units = int((f.pts.group == g).sum())
        shrunk = f.pts.group == g
        b = f.raw_level_var[shrunk] / (f.raw_level_var[shrunk] + (lv[3] if lv else 0))
        out.append({"crime_type": crime, "indicator": indicator, "units": units,
                    "kappa": _r(f.kappa[g]),
                    "level_sd_country": _r(np.sqrt(lv[2])) if lv and np.isfinite(lv[2]) else None,
                    "level_sd_region": _r(np.sqrt(lv[3])) if lv else None,
                    "slope_sd_country": _r(np.sqrt(sl[2])) if sl and np.isfinite(sl[2]) else None,
                    "slope_sd_region": _r(np.sqrt(sl[3])) if sl else None,
                    "level_shrinkage_median": _r(float(np.nanmedian(b))) if units and np.isfinite(b).any() else None})
    return out


def group_names(units: pd.DataFrame) -> list[tuple[str, str]]:
    """(crime type, indicator) of each group code of :func:`points`."""
    return [tuple(k) for k in units.groupby(["crime_type", "indicator"], sort=True).size().index]


def _r(v: float) -> float | None:
    v = float(v)
    return None if v != v else round(v, 4)


def redraw_nowcast(pts: Points, rng: np.random.Generator) -> np.ndarray:
    """The counts as they are, with each nowcast year drawn from its predictive distribution."""
    out = pts.raw.copy()
    now = np.isfinite(pts.nowcast_sd) & np.isfinite(pts.known)
    if now.any():
        rest = np.clip(pts.raw[now] - pts.known[now], 0, None)
        drawn = np.exp(rng.normal(np.log(rest + 0.5), pts.nowcast_sd[now])) - 0.5
        out[now] = pts.known[now] + np.clip(drawn, 0, None)
    return out
