"""What, across criminal markets (#49): one severity per member x market, with its uncertainty,
from the structured contributions of the member's assessors and from the data indicators
linked to the market. Pure: frames in, frames out.

The rule (methodology "markets-1", written down in the README, INFORM-style):

1. **Experts.** Per member x market, the national rows of the latest year up to the run's with
   any, and of that year the latest round (a second round supersedes the first): the median of
   the assessors' severities, its interquartile range, the number of assessors and of rounds.
2. **Data.** Per member x market, every series linked to the market in the catalogue: the
   linked ICCS classes' incidents or victims (prevalence, unless the class is enforcement-
   driven), their arrests, seizures, prosecutions and convictions (enforcement), and the
   market's own indicators (firearms, assets, FIU reports: enforcement; hectares, CSIRT
   incidents: prevalence); response indicators (cooperation) never. Each series as a rate
   (per 100,000 inhabitants; hectares per 1,000 km2 of land), on a log scale, as a standard
   score among the members that send it (at least three), as INFORM normalises its
   indicators before aggregating (INFORM Risk methodology, JRC 2017, section 3.3). The data's
   score is the mean of the prevalence series' scores; of the enforcement series only when
   there is no prevalence series (``data_basis`` says which). Data place a member among the
   others, they do not say how severe the market is: the score is put on the 1-10 scale by
   mean-sigma linking (Kolen & Brennan, Test Equating, Scaling, and Linking, 2014, ch. 6) to
   the members' expert medians for the market (their mean, their spread but at least 1), or
   5.5 +- 1.5 where fewer than two members' experts rated it. (Min-max rescaling across three
   members put the lowest at 1 whatever its level.)
3. **Fused.** Experts and data: (2 x experts + data) / 3 with prevalence data, (3 x experts +
   data) / 4 with enforcement data only (they grow with police effort); one of them alone
   when the other is missing. A pair 3 points or more apart is flagged "disagree": possible
   under-reporting or an enforcement effect, as the Organized Crime Index treats information
   bias.
4. **Uncertainty.** Each of ``draws`` simulations resamples the assessors (with replacement,
   each rating blurred by one assessor's rating error, RATING_SD) and the data (each count
   drawn from its Gamma posterior, the series resampled, the reading of severity from data
   blurred by DATA_ERROR, or DATA_SPREAD without linking), and fuses them again. The interval
   is the draws' 5th-95th percentiles; ``p_seven`` the share of draws at 7 or more. Per market
   across the region, the mean over members in each draw gives ``p_top3``: the share of draws
   in which the market is among the region's three most severe.
5. **Areas.** A CLASI area's severity per member is, in each draw, the most severe of its
   markets (environmental crime: flora, fauna, non-renewable resources).

bench/markets.py measures the rule on a simulated truth and against the Index's scores.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ideal import reference

METHOD = "markets-1"
RATING_SD = 1.0  # one assessor's rating error on the 1-10 scale (half a band of the anchors)
MIN_MEMBERS = 3  # a data series is placed only among at least this many members
MIN_SPREAD = 1.0  # the least spread the data's standard scores are given on the 1-10 scale
DATA_CENTRE, DATA_SPREAD = 5.5, 1.5  # where no two members' experts rated the market
DATA_ERROR = 1.0  # the error of a severity read from linked data (bench/markets.py checks it)
DISAGREE = 3.0
PREVALENCE_WEIGHTS = (2, 1)
ENFORCEMENT_WEIGHTS = (3, 1)
TOP = 3
SEVERE = 7.0
CARRY_YEARS = 2  # a data series of up to this many years before the run's year is used


def experts(contrib: pd.DataFrame, year: int) -> pd.DataFrame:
    """The assessors' ratings that count per member x market: national rows of the latest
    year up to ``year``, that year's latest round. Columns country, market, year, round,
    assessor, severity, rounds (how many rounds that year had)."""
    cols = ["country", "market", "year", "round", "assessor", "severity", "rounds"]
    if contrib is None or contrib.empty:
        return pd.DataFrame(columns=cols)
    c = contrib[contrib["region"].isna() & (contrib["year"].astype(int) <= int(year))].copy()
    if c.empty:
        return pd.DataFrame(columns=cols)
    c["year"] = c["year"].astype(int)
    c["round"] = c["round"].astype(int)
    c = c[c["year"] == c.groupby(["country", "market"])["year"].transform("max")]
    rounds = c.groupby(["country", "market"])["round"].transform("nunique")
    c = c.assign(rounds=rounds)
    c = c[c["round"] == c.groupby(["country", "market"])["round"].transform("max")]
    return c[cols].astype({"severity": float}).reset_index(drop=True)


def series(totals: pd.DataFrame, population: pd.DataFrame, year: int) -> pd.DataFrame:
    """Every data series of every market per member: market, series (crime type|indicator),
    nature (prevalence | enforcement), country, value (the count), rate. ``totals``: per
    country, crime type, indicator and year the national value (runs.national_totals);
    ``population``: per country and year."""
    cols = ["market", "series", "nature", "country", "value", "exposure", "rate"]
    if totals is None or totals.empty:
        return pd.DataFrame(columns=cols)
    t = totals[(totals["year"] <= year) & (totals["year"] >= year - CARRY_YEARS)]
    t = t[t["year"] == t.groupby(["country", "crime_type", "indicator"])["year"].transform("max")]
    nature = reference.indicator_nature()
    effort = set(reference.enforcement_crimes())
    cat = reference.markets()
    own_ind = {ind: code for code, inds in cat[["code", "indicators"]].itertuples(index=False) for ind in inds}
    by_class: dict[str, set[str]] = {}
    for code, classes in cat[["code", "iccs"]].itertuples(index=False):
        for c in classes:
            by_class.setdefault(c, set()).add(code)
    rows = []
    for r in t.itertuples(index=False):
        kind = nature.get(r.indicator)
        if kind not in ("prevalence", "enforcement"):
            continue
        if kind == "prevalence" and r.crime_type in effort and r.indicator in ("incidents", "victims"):
            kind = "enforcement"
        linked = set(by_class.get(r.crime_type, ()))
        if r.indicator in own_ind:
            linked.add(own_ind[r.indicator])
        for mkt in linked:
            rows.append((mkt, f"{r.crime_type}|{r.indicator}", kind, r.country, float(r.value), r.year))
    if not rows:
        return pd.DataFrame(columns=cols)
    s = pd.DataFrame(rows, columns=["market", "series", "nature", "country", "value", "year"])
    units = reference.indicators().set_index("code")["unit"]
    area = reference.country_land_km2()
    pop = population.groupby(["country", "year"])["population"].sum()
    hectares = s["series"].str.split("|").str[1].map(units).eq("hectares")
    exposure = np.where(hectares, s["country"].map(area) / 1000.0,
                        [pop.get((c, y), np.nan) / 1e5 for c, y in zip(s["country"], s["year"], strict=True)])
    s = s.assign(exposure=exposure)
    s = s[np.isfinite(s["exposure"]) & (s["exposure"] > 0)]
    return s.assign(rate=s["value"] / s["exposure"])[cols].reset_index(drop=True)


def _standard(logs: np.ndarray) -> np.ndarray:
    """Standard scores along axis 0 (members), per column (draw); 0 where all are equal."""
    sd = logs.std(axis=0)
    return np.where(sd > 0, (logs - logs.mean(axis=0)) / np.where(sd > 0, sd, 1.0), 0.0)


def _data_draws(s: pd.DataFrame, countries: list[str], draws: int, rng) -> tuple[dict, dict]:
    """Per (country, market): the data's standard score (a member's place among the members
    that send the market's series: mean of the series' standard scores of log rates), its
    draws, its basis and number of series."""
    point, sims = {}, {}
    for mkt, g in s.groupby("market", sort=True):
        for basis in ("prevalence", "enforcement"):
            b = g[g["nature"] == basis]
            usable = [n for n, x in b.groupby("series") if x["country"].nunique() >= MIN_MEMBERS]
            if not usable:
                continue
            by_series = {}
            for name in usable:
                x = b[b["series"] == name].drop_duplicates("country").set_index("country")
                members = [c for c in countries if c in x.index]
                value, exposure = x.loc[members, "value"].to_numpy(), x.loc[members, "exposure"].to_numpy()
                # the rate's Gamma posterior (Jeffreys prior): each draw a plausible rate
                rates = rng.gamma(value[:, None] + 0.5, 1.0, size=(len(members), draws)) / exposure[:, None]
                floor = 0.5 / exposure.max()
                drawn = _standard(np.log(np.maximum(rates, floor)))
                at = _standard(np.log(np.maximum((value + 0.5) / exposure, floor))[:, None])[:, 0]
                by_series[name] = (members, at, drawn)
            for cc in countries:
                have = [(p[members.index(cc)], d[members.index(cc)]) for members, p, d in by_series.values()
                        if cc in members]
                if not have or (cc, mkt) in point:
                    continue
                pts = np.array([h[0] for h in have])
                mat = np.vstack([h[1] for h in have])
                pick = rng.integers(0, len(have), size=(len(have), draws))  # series resampled
                sims[(cc, mkt)] = np.take_along_axis(mat, pick, axis=0).mean(axis=0)
                point[(cc, mkt)] = (float(pts.mean()), basis, len(have))
    return point, sims


def linking(expert_points: dict) -> dict[str, tuple[float, float]]:
    """Per market, where the data's standard scores land on the 1-10 scale: the mean and the
    spread (at least MIN_SPREAD) of the members' expert medians for the market (mean-sigma
    linking of two scales); DATA_CENTRE and DATA_SPREAD where fewer than two members have
    experts for it."""
    by_market: dict[str, list[float]] = {}
    for (_, mkt), e in expert_points.items():
        by_market.setdefault(mkt, []).append(e["experts"])
    return {m: (float(np.mean(v)), max(float(np.std(v)), MIN_SPREAD)) for m, v in by_market.items() if len(v) >= 2}


def _expert_draws(e: pd.DataFrame, draws: int, rng) -> tuple[dict, dict]:
    point, sims = {}, {}
    for (cc, mkt), g in e.groupby(["country", "market"], sort=True):
        v = g["severity"].to_numpy(float)
        pick = rng.integers(0, len(v), size=(draws, len(v)))
        blurred = v[pick] + rng.normal(0, RATING_SD, size=pick.shape)
        sims[(cc, mkt)] = np.clip(np.median(blurred, axis=1), 1, 10)
        q1, q3 = np.percentile(v, [25, 75])
        point[(cc, mkt)] = dict(experts=float(np.median(v)), experts_q1=float(q1), experts_q3=float(q3),
                                assessors=int(g["assessor"].nunique()), rounds=int(g["rounds"].max()))
    return point, sims


def _fuse(ex, da, basis):
    if ex is None:
        return da
    if da is None:
        return ex
    w = PREVALENCE_WEIGHTS if basis == "prevalence" else ENFORCEMENT_WEIGHTS
    return (w[0] * ex + w[1] * da) / sum(w)


def severities(contrib: pd.DataFrame, totals: pd.DataFrame, population: pd.DataFrame,
               countries: list[str], year: int, draws: int = 1000, seed: int = 0
               ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per member x market (and x CLASI area, market ``area:<code>``) the severity with its
    interval and components; per market across the region its mean severity and ``p_top3``."""
    rng = np.random.default_rng(seed)
    e = experts(contrib, year)
    ep, es = _expert_draws(e, draws, rng)
    zp, zs = _data_draws(series(totals, population, year), sorted(countries), draws, rng)
    links = linking(ep)
    dp, ds = {}, {}
    for key, (z, basis, n) in zp.items():
        centre, spread = links.get(key[1], (DATA_CENTRE, DATA_SPREAD))
        # the data are a proxy: each draw adds the error of reading severity from them
        error = DATA_ERROR if key[1] in links else DATA_SPREAD
        dp[key] = (float(np.clip(centre + spread * z, 1, 10)), basis, n)
        ds[key] = np.clip(centre + spread * zs[key] + rng.normal(0, error, size=draws), 1, 10)
    cat = reference.markets()
    rows, sims, areas = [], {}, {}
    for cc in sorted(countries):
        for mkt in cat["code"]:
            ex, da = ep.get((cc, mkt)), dp.get((cc, mkt))
            if ex is None and da is None:
                continue
            basis = da[1] if da else None
            point = _fuse(ex["experts"] if ex else None, da[0] if da else None, basis)
            draw = _fuse(es.get((cc, mkt)), ds.get((cc, mkt)), basis)
            sims[(cc, mkt)] = draw
            agreement = ("experts_only" if da is None else "data_only" if ex is None else
                         "disagree" if abs(ex["experts"] - da[0]) >= DISAGREE else "agree")
            lo, hi = np.percentile(draw, [5, 95])
            rows.append(dict(country=cc, market=mkt, year=int(year), severity=round(point, 2),
                             low=round(float(lo), 2), high=round(float(hi), 2),
                             **(ex or dict(experts=None, experts_q1=None, experts_q3=None, assessors=0, rounds=0)),
                             data=round(da[0], 2) if da else None, data_basis=basis,
                             data_series=da[2] if da else 0, agreement=agreement,
                             p_seven=round(float((draw >= SEVERE).mean()), 3)))
        for area, markets in reference.clasi_areas()[["code", "markets"]].itertuples(index=False):
            have = [m for m in markets if (cc, m) in sims]
            if not have:
                continue
            mat = np.vstack([sims[(cc, m)] for m in have])
            pts = [r for r in rows if r["country"] == cc and r["market"] in have]
            lead = max(pts, key=lambda r: r["severity"])
            best = mat.max(axis=0)
            areas[(cc, f"area:{area}")] = best
            lo, hi = np.percentile(best, [5, 95])
            rows.append({**lead, "market": f"area:{area}", "severity": round(max(r["severity"] for r in pts), 2),
                         "low": round(float(lo), 2), "high": round(float(hi), 2),
                         "p_seven": round(float((best >= SEVERE).mean()), 3)})
    out = pd.DataFrame(rows, columns=["country", "market", "year", "severity", "low", "high", "experts",
                                      "experts_q1", "experts_q3", "assessors", "rounds", "data", "data_basis",
                                      "data_series", "agreement", "p_seven"])
    return out, regional({**sims, **areas}, cat, draws)


def regional(sims: dict, cat: pd.DataFrame, draws: int) -> pd.DataFrame:
    """Per market of the catalogue (actors apart) and per CLASI area (``area:<code>``): the
    mean severity over the members that have one, its interval, and for markets the share of
    draws in which it is among the region's three most severe markets."""
    cols = ["market", "kind", "members", "severity", "low", "high", "p_top3"]
    codes = [*cat["code"], *(f"area:{a}" for a in reference.clasi_areas()["code"])]
    markets = [m for m in codes if any(k[1] == m for k in sims)]
    if not markets:
        return pd.DataFrame(columns=cols)
    kind = {**cat.set_index("code")["kind"].to_dict(), **{m: "area" for m in codes if m.startswith("area:")}}
    mean = np.vstack([np.mean([v for k, v in sims.items() if k[1] == m], axis=0) for m in markets])
    only = np.array([kind[m] == "market" for m in markets])
    ranks = np.full(mean.shape, np.nan)
    sub = mean[only]
    order = (-sub).argsort(axis=0).argsort(axis=0)
    ranks[only] = order
    out = pd.DataFrame({
        "market": markets, "kind": [kind[m] for m in markets],
        "members": [sum(1 for k in sims if k[1] == m) for m in markets],
        "severity": mean.mean(axis=1).round(2),
        "low": np.percentile(mean, 5, axis=1).round(2), "high": np.percentile(mean, 95, axis=1).round(2),
        "p_top3": np.where(only, (ranks < TOP).mean(axis=1), np.nan).round(3)})
    order = out["kind"].map({"market": 0, "actor": 1, "area": 2})
    return out.assign(_o=order).sort_values(["_o", "severity"], ascending=[True, False], ignore_index=True) \
        .drop(columns="_o")


PROPOSE = {"min_members": 2, "p_top3": 0.5, "most": 5}


def propose(severities_: pd.DataFrame, regional_: pd.DataFrame, settings: dict | None = None,
            where: pd.DataFrame | None = None) -> list[dict]:
    """v5's priorities (#48, the WHAT track): the criminal markets proposed to CLASI, from the
    market severities alone (no goalpost, no cross-crime score). A market is proposed when it
    is severe (P(severity >= 7) >= 0.5) in at least ``min_members`` members, or when the
    region's draws put it among its three most severe markets with probability at least
    ``p_top3``: the first kind first, the second only to complete three; at most ``most``,
    by P(top 3) then the region's mean severity. Each carries
    the evidence behind it: the region's severity and 90 % interval, P(top 3), the members
    where it is severe with their P(>= 7), the members where experts and data disagree, its
    CLASI areas and, from the WHERE track (``where``: the scores with ``hotspot`` and
    ``rising``), the hotspots and rising regions of its linked crime types."""
    cfg = {**PROPOSE, **(settings or {})}
    if severities_ is None or severities_.empty or regional_ is None or regional_.empty:
        return []
    cat = reference.markets().set_index("code")
    reg = regional_[regional_["kind"] == "market"].set_index("market")
    out = []
    for mkt, r in reg.iterrows():
        own = severities_[severities_["market"] == mkt]
        severe = own[own["p_seven"] >= 0.5].sort_values("p_seven", ascending=False)
        p3 = float(r["p_top3"]) if pd.notna(r["p_top3"]) else 0.0
        if len(severe) < int(cfg["min_members"]) and p3 < float(cfg["p_top3"]):
            continue  # neither severe in several members nor among the region's leading markets
        iccs = list(cat.loc[mkt, "iccs"]) if mkt in cat.index else []
        hot = rising = 0
        if where is not None and not where.empty and iccs:
            linked = where[where["crime_type"].isin(iccs)]
            hot = int(linked["hotspot"].fillna(False).astype(bool).sum()) if "hotspot" in linked else 0
            rising = int(linked["rising"].fillna(False).astype(bool).sum()) if "rising" in linked else 0
        out.append({"market": mkt, "severity": float(r["severity"]), "low": float(r["low"]), "high": float(r["high"]),
                    "p_top3": round(p3, 3), "members": int(r["members"]),
                    "severe": [{"country": c, "p_seven": float(p)} for c, p in zip(severe["country"], severe["p_seven"], strict=True)],
                    "disagree": sorted(own.loc[own["agreement"] == "disagree", "country"].tolist()),
                    "few_assessors": int((own["assessors"].fillna(0) < 3).sum()),
                    "areas": list(cat.loc[mkt, "areas"]) if mkt in cat.index else [],
                    "iccs": iccs, "hotspots": hot, "rising": rising,
                    "basis": "severe" if len(severe) >= int(cfg["min_members"]) else "top3"})
    # severe in several members first; the region's leading markets complete three, said so
    out.sort(key=lambda m: (-m["p_top3"], -m["severity"]))
    severe = [m for m in out if m["basis"] == "severe"]
    leading = [m for m in out if m["basis"] == "top3"]
    return (severe + leading[:max(0, 3 - len(severe))])[:int(cfg["most"])]
