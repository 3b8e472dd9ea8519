"""Early warning: the regions and crime types whose recent months rise beyond what their own
history explains.

For each monthly series (country x region x crime type, one indicator per country and crime
type as the scoring chooses), the months before the monitored window are the baseline: their
mean is the expected monthly count. Each monitored month's count is put on a variance-
stabilised scale (Anscombe: 2(sqrt(x + 3/8) - sqrt(mean + 3/8)), about N(0, 1) for a Poisson
count), divided by the baseline's own spread on that scale (so an overdispersed series needs a
larger rise), and accumulated in an upper CUSUM [Page 1954; Lucas 1985 for counts]:
S_t = max(0, S_{t-1} + z_t - k). An alarm is raised the first month S exceeds h; the rise is
taken to have started the month after S was last at zero, and its size is the mean count since
then over the baseline mean. k = 0.5 and h = 5 give about 930 months between false alarms for a
series that does not change (Montgomery, Introduction to Statistical Quality Control, CUSUM
tables); the benchmark in tests/scoring/test_early_warning.py measures it on generated series.
Pure functions: frames in, frames out.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from ideal.frames import per_unique

UNIT = ["country", "region", "crime_type"]
DEFAULTS = {"monitor_months": 12, "baseline_months": 24, "min_baseline_months": 12,
            "k": 0.5, "h": 5.0, "min_baseline_mean": 1.0}


def _quiet(fn):
    """Empty and zero series are expected here (a month without events, a series all zeros):
    numpy's divide and invalid-value warnings are not a finding (#47: one reached a steward's
    console)."""
    @functools.wraps(fn)
    def quiet(*args, **kwargs):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return fn(*args, **kwargs)
    return quiet


def monthly_series(obs: pd.DataFrame, preference: list[str], end: str) -> pd.DataFrame:
    """Units x months (columns 'YYYY-MM' up to ``end``) of the monthly counts, one indicator
    per country and crime type (the first of ``preference`` it sends monthly); national rows
    only where a country sent no regions; missing months stay NaN."""
    m = obs[per_unique(obs["period"], lambda u: u.astype(str).str.fullmatch(r"\d{4}-\d{2}"))
            .fillna(False).astype(bool) & obs["value"].notna() & obs["indicator"].isin(preference)]
    m = m[m["period"] <= end]
    if m.empty:
        return pd.DataFrame()
    rank = {ind: i for i, ind in enumerate(preference)}
    best = m.assign(_r=m["indicator"].map(rank)).groupby(["country", "crime_type"])["_r"].transform("min")
    m = m[m["indicator"].map(rank) == best]
    regional = m[m["region"] != m["country"]].groupby(["country", "crime_type"]).size()
    national_ok = ~pd.MultiIndex.from_frame(m[["country", "crime_type"]]).isin(regional.index)
    m = m[(m["region"] != m["country"]).to_numpy() | national_ok]
    table = m.pivot_table(index=UNIT + ["indicator"], columns="period", values="value", aggfunc="sum")
    return table.sort_index(axis=1)


@_quiet
def detect(series: pd.DataFrame, settings: dict | None = None) -> pd.DataFrame:
    """Alarms of the monitored window (the last ``monitor_months`` columns): one row per unit
    whose CUSUM crossed h, with the month it started, the month of the alarm, the baseline and
    recent monthly means and their ratio; sorted by the size of the rise."""
    cfg = {**DEFAULTS, **(settings or {})}
    cols = ["country", "region", "crime_type", "indicator", "started", "alarm", "baseline",
            "recent", "ratio", "months"]
    if series.empty:
        return pd.DataFrame(columns=cols)
    monitor, base_n = int(cfg["monitor_months"]), int(cfg["baseline_months"])
    months = list(series.columns)
    if len(months) <= monitor:
        return pd.DataFrame(columns=cols)
    watched = months[-monitor:]
    base = series[months[-monitor - base_n:-monitor]].to_numpy(dtype="float64")
    x = series[watched].to_numpy(dtype="float64")
    n_base = np.isfinite(base).sum(axis=1)
    with np.errstate(invalid="ignore"):
        mu = np.nanmean(np.where(np.isfinite(base), base, np.nan), axis=1)
    usable = (n_base >= cfg["min_baseline_months"]) & (mu >= cfg["min_baseline_mean"])
    anscombe = lambda v: 2 * np.sqrt(np.clip(v, 0, None) + 0.375)  # noqa: E731
    zb = anscombe(base) - anscombe(mu)[:, None]
    mad = np.nanmedian(np.abs(zb - np.nanmedian(zb, axis=1, keepdims=True)), axis=1) * 1.4826
    sigma = np.maximum(np.nan_to_num(mad, nan=1.0), 1.0)  # never below Poisson's own spread
    z = (anscombe(x) - anscombe(mu)[:, None]) / sigma[:, None]
    s = np.zeros(len(series))
    last_zero = np.full(len(series), -1)
    alarm = np.full(len(series), -1)
    for t in range(monitor):
        step = np.where(np.isfinite(z[:, t]), z[:, t] - cfg["k"], 0.0)  # a missing month adds nothing
        s = np.maximum(0.0, s + step)
        last_zero = np.where((s == 0) & (alarm < 0), t, last_zero)
        alarm = np.where((alarm < 0) & (s > cfg["h"]) & usable, t, alarm)
    hit = np.flatnonzero(alarm >= 0)
    rows = []
    keys = series.index.to_frame(index=False)
    for i in hit:
        start = last_zero[i] + 1
        recent = np.nanmean(x[i, start:])
        rows.append({**keys.iloc[i].to_dict(), "started": watched[start], "alarm": watched[alarm[i]],
                     "baseline": round(float(mu[i]), 2), "recent": round(float(recent), 2),
                     "ratio": round(float(recent / mu[i]), 2), "months": int(monitor - start)})
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values(["ratio", "recent"], ascending=False, ignore_index=True)


def monthly_up_to(obs: pd.DataFrame, year: str, preference: list[str]) -> pd.DataFrame:
    """The monthly series (:func:`monthly_series`) of the months up to the end of ``year``.
    Each series is one country's: a large assessment builds them country by country and
    gathers them (:func:`gathered`)."""
    is_month = per_unique(obs["period"], lambda u: u.astype(str).str.fullmatch(r"\d{4}-\d{2}"))
    monthly = obs[is_month.fillna(False).astype(bool)]
    inside = monthly[per_unique(monthly["period"], lambda u: u.astype(str).str.slice(0, 4) <= str(year))
                     .fillna(False).astype(bool)]
    if inside.empty:
        return pd.DataFrame()
    return monthly_series(inside, preference, str(inside["period"].max()))


def gathered(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The series of several countries as one table, the months in order (a month one
    country lacks is missing, NaN, for it)."""
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame()
    return pd.concat(parts).sort_index().sort_index(axis=1)


def early_warning(obs: pd.DataFrame, year: str, preference: list[str], settings: dict | None = None) -> pd.DataFrame:
    """The alarms of the monitored window ending with the last month of ``year`` that has data."""
    return detect(monthly_up_to(obs, year, preference), settings)


# ---------------------------------------------------------------------------------------------
# v4: a regression baseline per series and false-discovery control across all series
# ---------------------------------------------------------------------------------------------

REGRESSION = {"monitor_months": 12, "baseline_months": 36, "min_baseline_months": 24,
              "min_baseline_mean": 1.0, "fdr": 0.05, "windows": [2, 3], "reweight": 2.58,
              "dispersion": "empirical_bayes"}


def _design(months: list[str], origin: int) -> np.ndarray:
    """Intercept, the month's distance in years from the end of the baseline, and one pair of
    yearly harmonics (the seasonal shape)."""
    idx = np.array([int(m[:4]) * 12 + int(m[5:7]) - 1 for m in months], dtype="float64")
    phase = 2 * np.pi * (idx % 12) / 12
    return np.column_stack([np.ones(len(idx)), (idx - origin) / 12, np.sin(phase), np.cos(phase)])


def _quasi_poisson(y: np.ndarray, x: np.ndarray, w: np.ndarray, iterations: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """Log-linear quasi-Poisson fits of every row of ``y`` (series x months) on ``x`` with prior
    weights ``w`` (0 for a missing month), by Fisher scoring on all series at once:
    (coefficients series x p, inverse information series x p x p, before the dispersion)."""
    s, p = y.shape[0], x.shape[1]
    yy = np.nan_to_num(y)
    beta = np.zeros((s, p))
    beta[:, 0] = np.log(np.maximum((w * yy).sum(1) / np.maximum(w.sum(1), 1e-12), 0.1))
    for _ in range(iterations):
        mu = np.exp(np.clip(beta @ x.T, -30, 30))
        grad = ((w * (yy - mu)) @ x)
        info = np.einsum("sm,mi,mj->sij", w * mu, x, x) + np.eye(p) * 1e-9
        step = np.linalg.solve(info, grad[..., None])[..., 0]
        beta = beta + np.clip(step, -3, 3)
        if np.abs(step).max(initial=0) < 1e-8:
            break
    mu = np.exp(np.clip(beta @ x.T, -30, 30))
    info = np.einsum("sm,mi,mj->sij", w * mu, x, x) + np.eye(p) * 1e-9
    return beta, np.linalg.inv(info)


def _upper_tail(observed: np.ndarray, mean: np.ndarray, var: np.ndarray) -> np.ndarray:
    """P(Y >= observed) for Y negative binomial with this mean and variance (Poisson when the
    variance is not above the mean)."""
    from scipy import stats

    obs = np.round(np.nan_to_num(observed))
    over = var > mean * (1 + 1e-9)
    r = np.where(over, mean * mean / np.where(over, var - mean, 1), 1.0)
    prob = np.where(over, r / (r + mean), 0.5)
    nb = stats.nbinom.sf(obs - 1, r, prob)
    po = stats.poisson.sf(obs - 1, mean)
    return np.where(np.isfinite(observed), np.where(over, nb, po), np.nan)


KAPPA_GRID = np.concatenate([[0.0], np.logspace(-4, 0.5, 46)])


def dispersion_posterior(pearson: np.ndarray, df: np.ndarray, mean: np.ndarray,
                         iterations: int = 300) -> tuple[np.ndarray, np.ndarray]:
    """The dispersion of each series as a distribution, not a point: (nodes series x G, weights
    series x G), the weights of a row summing to 1.

    A series' dispersion is phi = 1 + kappa x its mean monthly count (negative binomial: the
    extra-Poisson variance grows with the square of the mean), and kappa is drawn from one
    distribution common to all the series monitored, estimated from them all by nonparametric
    maximum likelihood on a grid (Kiefer & Wolfowitz 1956; Laird 1978's EM; Koenker & Mizera
    2014). Each series' Pearson statistic (its ``pearson`` x ``df``) is taken as phi x a
    chi-square with ``df`` degrees of freedom, which gives its posterior over the grid. A
    plug-in estimate makes the p-values too small in the far tail (with 36 months, the
    dispersion is known to within about 25 %), so that with nothing changed any alarm among
    1,000 series is raised far more often than the 5 % promised; a flat prior per series makes
    small series, whose dispersion is near 1 whatever kappa is, lose power for nothing. The
    common distribution lets large series inform what kappa is plausible and a small series
    keep a dispersion near 1. Measured on simulated series: bench/early_warning.py."""
    from scipy import stats

    ok = np.isfinite(pearson) & (df > 0) & np.isfinite(mean)
    phi = 1.0 + KAPPA_GRID[None, :] * np.where(ok, mean, 0.0)[:, None]
    d = np.where(ok, df, 1.0)[:, None]
    x = np.where(ok, np.maximum(pearson, 1e-6), 1.0)[:, None]
    loglik = stats.gamma.logpdf(x, d / 2, scale=2 * phi / d)
    lik = np.exp(loglik - loglik.max(axis=1, keepdims=True))
    prior = np.full(len(KAPPA_GRID), 1 / len(KAPPA_GRID))
    for _ in range(iterations):
        post = lik[ok] * prior
        post /= post.sum(axis=1, keepdims=True)
        new = post.mean(axis=0) if ok.any() else prior
        if np.abs(new - prior).max() < 1e-7:
            prior = new
            break
        prior = new
    post = lik * prior
    post /= post.sum(axis=1, keepdims=True)
    keep = post.max(axis=0) > 1e-6
    post = post[:, keep] / post[:, keep].sum(axis=1, keepdims=True)
    return phi[:, keep], post


def benjamini_hochberg(p: np.ndarray, q: float) -> float:
    """The largest p-value threshold that keeps the false-discovery rate at ``q`` (Benjamini &
    Hochberg 1995) over the finite p-values; -1 when none qualifies (a p-value may be 0: a
    count far beyond its baseline)."""
    v = np.sort(p[np.isfinite(p)])
    if not len(v):
        return -1.0
    ok = v <= q * np.arange(1, len(v) + 1) / len(v)
    return float(v[np.flatnonzero(ok).max()]) if ok.any() else -1.0


@_quiet
def detect_regression(series: pd.DataFrame, settings: dict | None = None) -> tuple[pd.DataFrame, dict]:
    """Alarms of the monitored window with a regression baseline (methodology v4), and what was
    monitored. Per series, a quasi-Poisson log-linear model of the ``baseline_months`` before
    the monitored window, with its own trend and seasonal shape (one pair of yearly
    harmonics), in the manner of Farrington et al. (1996) and Noufaily et al. (2013): months
    whose Anscombe residual exceeds ``reweight`` are down-weighted and the model refitted (past
    outbreaks do not raise the baseline).
    Each monitored month is tested on the sums of its last ``windows`` months (2 and 3: a
    rise that lasts): upper tail of a negative binomial with the predicted mean and the
    predictive variance (dispersion x (mean + the variance of the extrapolated fit)), averaged
    over the series' dispersion posterior (:func:`dispersion_posterior`, methodology v5;
    ``dispersion: plugin`` is v4's point estimate, whose p-values are too small in the far
    tail), the p-values of a series combined by Simes' test into one p-value per series. The
    false-discovery rate across the series is held at ``fdr`` (Benjamini & Hochberg 1995): of
    the series flagged, at most that share are expected to be false alarms, however many are
    monitored. A series' alarm is its first month whose p-value is under the cut. Measured on
    simulated series: bench/early_warning.py."""
    cfg = {**REGRESSION, **(settings or {})}
    cols = ["country", "region", "crime_type", "indicator", "started", "alarm", "baseline",
            "recent", "ratio", "months", "p_value"]
    empty = pd.DataFrame(columns=cols)
    watched_n, base_n = int(cfg["monitor_months"]), int(cfg["baseline_months"])
    months = list(series.columns) if not series.empty else []
    info = {"method": "regression baseline (Farrington/Noufaily) + Benjamini-Hochberg", "fdr": cfg["fdr"],
            "series": 0, "countries": 0, "months": watched_n}
    if series.empty or len(months) <= watched_n:
        return empty, info
    watched = months[-watched_n:]
    base_cols = months[-watched_n - base_n:-watched_n]
    y_base = series[base_cols].to_numpy(dtype="float64")
    y_mon = series[watched].to_numpy(dtype="float64")
    n_base = np.isfinite(y_base).sum(axis=1)
    with np.errstate(invalid="ignore"):
        mean_base = np.nanmean(np.where(np.isfinite(y_base), y_base, np.nan), axis=1)
    usable = (n_base >= cfg["min_baseline_months"]) & (np.nan_to_num(mean_base) >= cfg["min_baseline_mean"])
    keys = series.index.to_frame(index=False)
    info["series"] = int(usable.sum())
    info["countries"] = int(keys.loc[usable, "country"].nunique()) if usable.any() else 0
    if not usable.any():
        return empty, info
    y_base, y_mon, keys = y_base[usable], y_mon[usable], keys[usable].reset_index(drop=True)
    last = base_cols[-1]
    origin = int(last[:4]) * 12 + int(last[5:7]) - 1
    xb, xm = _design(base_cols, origin), _design(watched, origin)
    w = np.isfinite(y_base).astype("float64")
    beta, inv = _quasi_poisson(y_base, xb, w)
    if cfg.get("reweight"):
        mu = np.exp(np.clip(beta @ xb.T, -30, 30))
        yy = np.nan_to_num(y_base)
        phi0 = np.maximum(1.0, (w * (yy - mu) ** 2 / mu).sum(1) / np.maximum(w.sum(1) - xb.shape[1], 1))
        # Anscombe residuals standardised by the dispersion (Farrington et al. 1996)
        res = 1.5 * (np.cbrt(yy) ** 2 - np.cbrt(mu) ** 2) / np.maximum(np.cbrt(mu) ** 0.5, 1e-9) / np.sqrt(phi0)[:, None]
        w = np.where(res > cfg["reweight"], w * (cfg["reweight"] / np.where(res > 0, res, 1)) ** 2, w)
        beta, inv = _quasi_poisson(y_base, xb, w, iterations=15)
    mu_b = np.exp(np.clip(beta @ xb.T, -30, 30))
    df = np.maximum(w.sum(1) - xb.shape[1], 1)
    pearson = (w * (np.nan_to_num(y_base) - mu_b) ** 2 / mu_b).sum(1) / df
    seen = np.isfinite(y_base)
    mean_fit = (seen * mu_b).sum(1) / np.maximum(seen.sum(1), 1)
    if cfg["dispersion"] == "plugin":  # v4: the series' own estimate, as if known
        phi_nodes, phi_weights = np.maximum(1.0, pearson)[:, None], np.ones((len(pearson), 1))
    else:
        phi_nodes, phi_weights = dispersion_posterior(pearson, df, mean_fit)
    info["dispersion"] = cfg["dispersion"]
    mu_m = np.exp(np.clip(beta @ xm.T, -30, 30))      # series x monitored months
    p_win = {k: np.full(y_mon.shape, np.nan) for k in cfg["windows"]}
    for k in cfg["windows"]:
        for t in range(watched_n):
            lo = t - k + 1
            if lo < 0:
                continue
            obs = y_mon[:, lo:t + 1]
            if np.isnan(obs).any(axis=1).all():
                continue
            m = mu_m[:, lo:t + 1]
            g = (m[:, :, None] * xm[None, lo:t + 1, :]).sum(1)          # gradient of the sum
            fit_var = np.einsum("si,sij,sj->s", g, inv, g)              # before the dispersion
            total = np.where(np.isnan(obs).any(axis=1), np.nan, np.nansum(obs, axis=1))
            p = np.zeros(len(total))
            for j in range(phi_nodes.shape[1]):   # the predictive: averaged over the dispersion
                p += phi_weights[:, j] * _upper_tail(total, m.sum(1), phi_nodes[:, j] * (m.sum(1) + fit_var))
            p_win[k][:, t] = np.where(np.isfinite(total), p, np.nan)
    # per series, Simes' combination of its tests (months x windows; valid for the positively
    # dependent tests of overlapping windows: Simes 1986, Sarkar 1998); Benjamini-Hochberg across
    # the series: of the series flagged, at most ``fdr`` are expected to be false alarms
    p_all = np.concatenate([p_win[k] for k in cfg["windows"]], axis=1)   # series x (windows x months)
    tests = np.where(np.isfinite(p_all), p_all, np.inf)
    m_tests = np.isfinite(p_all).sum(axis=1)
    ordered = np.sort(tests, axis=1)
    j = np.arange(1, tests.shape[1] + 1)
    simes = np.min(np.where(np.isfinite(ordered), ordered * m_tests[:, None] / j, np.inf), axis=1)
    per_series = np.where(m_tests > 0, np.minimum(simes, 1.0), np.nan)
    cut = benjamini_hochberg(per_series, float(cfg["fdr"]))
    # a flagged series' tests under its Simes threshold: j* x cut / m, j* the largest j that holds
    passing = ordered <= j[None, :] * cut / np.maximum(m_tests, 1)[:, None] * (1 + 1e-9)  # (rounding)
    jstar = np.where(passing.any(axis=1), tests.shape[1] - np.argmax(passing[:, ::-1], axis=1), 0)
    level = jstar * cut / np.maximum(m_tests, 1) * (1 + 1e-9)
    hit = (tests <= level[:, None]) & (per_series <= cut)[:, None] if cut >= 0 else np.zeros(p_all.shape, dtype=bool)
    hit = hit.reshape(len(hit), len(cfg["windows"]), watched_n).any(axis=1)
    rows = []
    for i in np.flatnonzero(hit.any(axis=1)):
        t = int(np.flatnonzero(hit[i])[0])
        start = max(0, t - max(cfg["windows"]) + 1)
        while start < t and np.nan_to_num(y_mon[i, start]) <= mu_m[i, start]:
            start += 1
        recent = float(np.nanmean(y_mon[i, start:]))
        expected = float(np.mean(mu_m[i, start:]))
        rows.append({**keys.iloc[i].to_dict(), "started": watched[start], "alarm": watched[t],
                     "baseline": round(expected, 2), "recent": round(recent, 2),
                     "ratio": round(recent / expected, 2) if expected > 0 else None,
                     "months": int(watched_n - start), "p_value": float(per_series[i])})
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values(["ratio", "recent"], ascending=False, ignore_index=True), info
