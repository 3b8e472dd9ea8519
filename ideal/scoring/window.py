"""Which year each member is assessed on (pure).

Members publish months or years apart: an assessment is made *as of a reference year* R, and
each member enters it with its own latest data within the profile's window (R and the
``missing.carry_forward_years`` before it). The default R is the year in which the most members
in scope can be assessed (each on its latest data within the window, partial years where the
profile nowcasts them), the latest among equals; a run says which members another year would add
or leave out.

Input: per country, year and period the number of current observations and the coverage a
partial year says it has (sql/country_years.sql). A year is complete for a country when it has
an annual figure without a partial coverage, or all twelve months (monthly or quarterly
periods); otherwise it knows the months it has.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ideal.scoring import nowcast as nc

ASSESSED = "assessed"
# the coverage of an annual figure the validation found far below the year before, in a file
# without months (sql/current_facts.sql): a partial year whose months are unknown
LOOKS_PARTIAL = "looks partial"


def months_known(country_years: pd.DataFrame) -> pd.DataFrame:
    """Per country and year: ``months`` known (12 = complete) and ``n`` observations."""
    cols = ["country", "year", "months", "n"]
    if country_years.empty:
        return pd.DataFrame(columns=cols)
    cy = country_years.assign(period=country_years["period"].astype(str),
                              coverage=country_years["coverage"].astype("object"),
                              year=country_years["year"].astype("int64"))
    annual = cy["period"].str.len() == 4
    full = annual & cy["coverage"].isna() | annual & cy["coverage"].eq("")
    masks = pd.Series(0, index=cy.index, dtype="int64")
    masks[full] = nc.mask_of(range(1, 13))
    partial = annual & ~full
    masks[partial] = cy.loc[partial, "coverage"].map(lambda t: nc.mask_from_coverage(t) or 0).astype("int64")
    # an annual coverage that names only a count ("3/12"): the first months of the year
    counted = partial & masks.eq(0)
    if counted.any():
        k = pd.to_numeric(cy.loc[counted, "coverage"].str.extract(r"^(\d+)/12")[0], errors="coerce").fillna(0)
        masks[counted] = k.astype(int).map(lambda m: nc.mask_of(range(1, min(m, 12) + 1))).astype("int64")
    sub = cy["period"].str.len() == 7
    quarter = sub & (cy["period"].str.slice(5, 6) == "Q")
    part = pd.to_numeric(cy["period"].str.slice(5).str.lstrip("Q"), errors="coerce")
    monthly = sub & ~quarter & part.between(1, 12)
    masks[monthly] = part[monthly].astype(int).map(lambda m: nc.mask_of([m])).astype("int64")
    quarters = quarter & part.between(1, 4)
    masks[quarters] = part[quarters].astype(int).map(
        lambda q: nc.mask_of(range(3 * q - 2, 3 * q + 1))).astype("int64")
    g = cy.assign(_mask=masks).groupby(["country", "year"])
    mask = g["_mask"].agg(lambda s: int(np.bitwise_or.reduce(s.to_numpy(dtype="int64"))))
    out = pd.DataFrame({"mask": mask, "n": g["n"].sum()}).reset_index()
    return out.assign(months=out["mask"].map(lambda m: bin(int(m)).count("1")),
                      n=out["n"].astype("int64"))[cols]


def best_year(known: pd.DataFrame, countries: list[str], carry: int, need: int | None,
              year: int | None = None) -> tuple[int | None, list[dict]]:
    """The reference year that assesses the most members in scope (each on its own latest data
    within the window, partial years where the profile scores them), the latest among equals
    (#47: the latest complete year left out the member with the newest data), or ``year`` when
    asked for; and each other year that would assess a member that one does not: {year,
    assessed, adds, leaves_out}, the nearest three."""
    k = known[known["country"].isin(countries)]
    if k.empty:
        return None, []
    years = list(range(int(k["year"].min()), int(k["year"].max()) + 1))
    found = {y: statuses(k, countries, y, carry, need) for y in years}
    assessed = {y: {s["country"] for s in found[y] if s["status"] == ASSESSED} for y in years}
    # among equals, the latest year in which some member is assessed on that very year's data
    # (a year everyone would carry forward into is no reference: SESNSP's half 2025)
    own = {y: any(s["status"] == ASSESSED and s["data_year"] == y for s in found[y]) for y in years}
    best = year if year is not None else max(years, key=lambda y: (len(assessed[y]), own[y], y))
    if best not in assessed:
        assessed[best] = {s["country"] for s in statuses(k, countries, best, carry, need) if s["status"] == ASSESSED}
    others = [{"year": y, "assessed": len(assessed[y]), "adds": sorted(assessed[y] - assessed[best]),
               "leaves_out": sorted(assessed[best] - assessed[y])}
              for y in sorted(years, key=lambda y: abs(y - best)) if y != best and assessed[y] - assessed[best]]
    return best, others[:3]


def need_months(profile: dict) -> int | None:
    """The fewest months of a partial year the profile may score: nowcast from
    ``nowcast_from_months`` (a unit without monthly history is annualised from
    ``annualise_from_months``), else annualised from ``annualise_from_months``; None: only
    complete years."""
    spec = profile.get("partial_year") or {}
    options = [spec.get("annualise_from_months")]
    if spec.get("method") == "nowcast":
        options.append(spec.get("nowcast_from_months"))
    options = [int(m) for m in options if m is not None]
    return min(options) if options else None


# Why a member is not assessed: the English text of each reason (also the catalogue's msgid:
# the briefing and the portal say it in the reader's language with the same values)
REASONS = {
    "no_data": "no data submitted",
    "rejected": "submission rejected (%(ids)s); no accepted data",
    "older": "latest data are for %(latest)s, older than the window %(first)s-%(year)s",
    "after": "no data in %(first)s-%(year)s; its data are for %(later)s",
    "partial": "%(data_year)s covers %(months)s of 12 months, fewer than the %(need)s needed, and no "
               "complete year in %(first)s-%(year)s",
    "looks_partial": "%(data_year)s looks partial (far below the year before, and the file gives no "
                     "months), and no complete year in %(first)s-%(year)s",
    "national_only": "national figures only (no first-level regions): listed apart, not ranked",
    "no_crime_types": "no data for the crime types in scope",
    "units": "%(detail)s (%(n)s of %(total)s region x crime units)",
}


def reason(code: str, values: dict) -> str:
    return REASONS[code] % values


def statuses(known: pd.DataFrame, countries: list[str], year: int, carry: int,
             need_months: int | None, rejected: dict[str, list[str]] | None = None) -> list[dict]:
    """Per member in scope: whether it can be assessed as of ``year`` and on which year, else
    why not. ``need_months``: the fewest months of a partial year the profile scores (nowcast
    or annualised; None: only complete years). ``rejected``: per country, its rejected
    submissions' ids. Each record: country, status (assessed | not_assessed), data_year,
    months (of data_year), code and values of the reason (REASONS) and reason (its English
    text; None when assessed), later (years after ``year``: "2025 (11/12)"), years (the years
    with data in the window)."""
    rejected = rejected or {}
    first = year - carry
    out = []
    for cc in countries:
        mine = known[known["country"] == cc].sort_values("year")
        window = mine[(mine["year"] >= first) & (mine["year"] <= year)]
        after = mine[mine["year"] > year]
        later = ", ".join(f"{int(r.year)} ({int(r.months)}/12)" if r.months else f"{int(r.year)} ({LOOKS_PARTIAL})"
                          for r in after.itertuples()) or None
        rec = {"country": cc, "status": "not_assessed", "data_year": None, "months": None,
               "code": None, "values": {}, "reason": None, "later": later,
               "years": [int(y) for y in window["year"]]}
        usable = window[window["months"] >= (need_months if need_months is not None else 12)]
        values: dict = {"first": first, "year": year}
        if not usable.empty:
            best = usable.iloc[-1]
            rec.update(status=ASSESSED, data_year=int(best["year"]), months=int(best["months"]))
            code = None
        elif not window.empty:
            last = window.iloc[-1]
            rec.update(data_year=int(last["year"]), months=int(last["months"]))
            code = "partial" if int(last["months"]) > 0 else "looks_partial"
            values = {**values, "data_year": int(last["year"]), "months": int(last["months"]),
                      "need": need_months if need_months is not None else 12}
        elif mine.empty:
            ids = rejected.get(cc) or []
            code = "rejected" if ids else "no_data"
            values = {"ids": ", ".join(ids[:3]) + (" ..." if len(ids) > 3 else "")} if ids else {}
        elif after.empty:
            code, values = "older", {**values, "latest": int(mine["year"].max())}
        else:
            code, values = "after", {**values, "later": later}
        if code:
            rec.update(code=code, values=values, reason=reason(code, values))
        out.append(rec)
    return out


NATIONAL_ONLY = "national_only"


def account(statuses_: list[dict], scores: pd.DataFrame, unscored: pd.DataFrame,
            national: list[dict], observations: dict[str, int]) -> list[dict]:
    """Every member in scope after scoring: ``statuses_`` (before) completed with what the run
    did with each: units scored (and the years their data come from, how many nowcast or
    annualised), national figures listed apart, units not scored and the commonest reason,
    observations read. A member none of whose units was scored is ``not_assessed`` with the
    real reason (its window's, else its units'); one with national totals only is
    ``national_only``."""
    out = []
    for rec in statuses_:
        cc = rec["country"]
        mine = scores[scores["country"] == cc] if not scores.empty else scores
        left = unscored[unscored["country"] == cc] if not unscored.empty else unscored
        nat = [n for n in national if n["country"] == cc]
        partial = mine["partial"].fillna("").astype(str) if "partial" in mine else pd.Series(dtype="object")
        years = (mine["data_year"].astype(int).value_counts().sort_index(ascending=False)
                 if not mine.empty else pd.Series(dtype="int64"))
        r = {**rec, "units_scored": int(len(mine)), "units_not_scored": int(len(left)),
             "national_figures": len(nat), "observations": int(observations.get(cc, 0)),
             "data_years": {str(y): int(n) for y, n in years.items()},
             "nowcast": int(partial.str.startswith("nowcast").sum()),
             "annualised": int(partial.str.startswith("annualised").sum())}
        if len(mine):
            r.update(status=ASSESSED, code=None, values={}, reason=None, data_year=int(years.index.max()))
        elif nat:
            r.update(status=NATIONAL_ONLY, data_year=max(n["data_year"] for n in nat), code="national_only", values={})
        else:
            r["status"] = "not_assessed"
            if not r.get("code"):
                if len(left):
                    top = left["reason"].value_counts()
                    r.update(code="units", values={"detail": top.index[0], "n": int(top.iloc[0]), "total": len(left)})
                else:
                    r.update(code="no_crime_types", values={})
        if r.get("code"):
            r["reason"] = reason(r["code"], r["values"])
        out.append(r)
    return out


def nothing_scored(year: str, accounted: list[dict]) -> str:
    """The message of a run that scores nothing: each member's reason."""
    lines = [f"{c['country']}: {c.get('reason') or 'not scored'}" for c in accounted]
    return f"no region could be scored as of {year}:\n  " + "\n  ".join(lines)
