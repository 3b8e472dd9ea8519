"""Checks on a canonical submission that need more than one row: levels of a hierarchy sent
together, partial years, and plausibility against what the country sent before (UN-CTS asks
stewards the same questions). Pure functions: frames in, (frame, findings) out.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd

from ideal import reference
from ideal.contracts import findings_frame
from ideal.errors import ConfigError, UnsafeInput
from ideal.frames import per_unique
from ideal.i18n import N_, tr
from ideal.safe_load import yaml_file, yaml_text

UNIT = ["region", "crime_type", "indicator"]


@lru_cache(maxsize=4)
def _load(path: str | None) -> dict:
    config = yaml_text((files("ideal.validate") / "checks.yaml").read_text(encoding="utf-8"), "checks.yaml")
    if path:
        try:
            overrides = yaml_file(path, f"IDEAL_CHECKS {Path(path).name}") or {}
        except UnsafeInput as exc:
            raise ConfigError(str(exc)) from None
        if not isinstance(overrides, dict) or not all(isinstance(v, dict) for v in overrides.values()):
            raise ConfigError(f"IDEAL_CHECKS {Path(path).name}: a mapping of check names to their settings.")
        for key, over in overrides.items():
            config[key] = {**config.get(key, {}), **over}
    return config


def checks_config(path: str | None = None) -> dict:
    """The checks' settings: checks.yaml, overridden key by key by the YAML at ``path``
    (IDEAL_CHECKS). A copy: the cached settings cannot be changed by a caller."""
    return copy.deepcopy(_load(path))


def _f(cfg: dict, rule: str, column, row, value, message: str, rows: int = 1) -> tuple:
    return (cfg["severity"], rule, column, None if row is None or pd.isna(row) else int(row),
            None if value is None else str(value), message, int(rows))


def _annual(frame: pd.DataFrame) -> pd.DataFrame:
    yearly = per_unique(frame["period"], lambda u: u.astype(str).str.fullmatch(r"\d{4}")).fillna(False)
    return frame[yearly.astype(bool) & frame["value_number"].notna() & (frame["action"] != "D")]


def _beside(frame: pd.DataFrame, cfg: dict, rule: str, upper: pd.Series, unit: pd.Series,
            texts: tuple[str, str, str, str, str], lower_level: str = "regions") -> tuple[pd.DataFrame, list]:
    """Totals of one level (``upper`` rows, keyed by their region) sent beside the rows of the
    level below (keyed by the region they add up to, ``unit``): check the sum, keep one level."""
    keys = ["unit", "period", "crime_type", "indicator"]
    keyed = frame.assign(unit=unit.where(~upper, frame["region"]))
    lower = keyed[~upper & keyed["unit"].notna() & keyed["value_number"].notna()]
    regional = lower.groupby(keys)["value_number"].agg(["sum", "size"])
    tops = keyed[upper].set_index(keys)
    both = tops.join(regional, how="inner")
    if both.empty:
        return frame, []
    diff = (both["value_number"] - both["sum"]).abs() / both["value_number"].abs().clip(lower=1)
    bad = diff[diff > cfg["tolerance"]]
    keep_lower = cfg.get("keep", lower_level) == lower_level
    besides, keep_low, keep_top, equals, differs = texts  # msgids (N_), said here with values
    msg = (tr(besides, n=len(both)) + " " + tr(keep_low if keep_lower else keep_top) + " "
           + tr(equals, ok=len(both) - len(bad), n=len(both)))
    if len(bad):
        k = bad.index[0]
        msg += " " + tr(differs, n=len(bad), period=k[1], crime=k[2], indicator=k[3],
                        total=f"{both.loc[k, 'value_number']:.0f}", sum=f"{both.loc[k, 'sum']:.0f}")
    first = int(both["source_row"].min())
    findings = [_f(cfg, rule, "region", first, both.index[0][0], msg, len(both))]
    marks = keyed.set_index(keys).index.isin(both.index)
    drop = (upper & marks) if keep_lower else (~upper & keyed["unit"].notna() & marks)
    return frame[~drop].reset_index(drop=True), findings


def national_beside_regions(frame: pd.DataFrame, cfg: dict) -> tuple[pd.DataFrame, list]:
    """National totals sent beside the same country's regions: check the sum, keep one level."""
    is_nat = frame["region"] == frame["country"]
    if not is_nat.any():
        return frame, []
    return _beside(frame, cfg, "national_beside_regions", is_nat, frame["country"].where(~is_nat), (
        N_("%(n)s national totals are sent beside their regions; adding both would count twice."),
        N_("Rule: keep the regions; the national rows are not loaded."),
        N_("Rule: keep the national totals; the regional rows are not loaded."),
        N_("The total equals the sum of the regions in %(ok)s of %(n)s."),
        N_("It differs in %(n)s (e.g. %(period)s %(crime)s %(indicator)s: total %(total)s, "
           "regions %(sum)s).")))


def regions_beside_municipalities(frame: pd.DataFrame, cfg: dict) -> tuple[pd.DataFrame, list]:
    """First-level totals sent beside their municipalities: check the sum, keep one level (the
    assessment adds municipalities up to their first-level region, and would count twice)."""
    parents = reference.parents()
    if not any(r in parents for r in pd.unique(frame["region"])):  # most files: no municipality
        return frame, []
    parent = per_unique(frame["region"], lambda u: u.map(parents))
    upper = frame["region"].isin(set(parent.dropna()))
    return _beside(frame, cfg, "regions_beside_municipalities", upper, parent, (
        N_("%(n)s regional totals are sent beside their municipalities; adding both would count twice."),
        N_("Rule: keep the municipalities; the regional totals are not loaded."),
        N_("Rule: keep the regional totals; the municipal rows are not loaded."),
        N_("The total equals the sum of the municipalities in %(ok)s of %(n)s."),
        N_("It differs in %(n)s (e.g. %(period)s %(crime)s %(indicator)s: total %(total)s, "
           "municipalities %(sum)s).")), lower_level="municipalities")


def iccs_parent_and_child(frame: pd.DataFrame, cfg: dict) -> list:
    parents = reference.iccs().set_index("code")["parent"]
    codes = set(frame["crime_type"].unique())
    pairs = sorted({(parents.get(c), c) for c in codes if parents.get(c) in codes})
    if not pairs:
        return []
    listed = ", ".join(f"{p} + {c}" for p, c in pairs)
    return [_f(cfg, "iccs_parent_and_child", "crime_type", None, listed,
               tr("ICCS parent and child codes are both present (%(listed)s); both are kept and "
                  "scored separately, never added together. Make sure the parent value includes "
                  "the child, as ICCS defines.", listed=listed))]


def population_rows(frame: pd.DataFrame, cfg: dict) -> list:
    """A country's own population is indicator population with crime type _T; neither goes
    with anything else."""
    pop = frame["indicator"].astype(str).str.strip().eq("population")
    total = frame["crime_type"].astype(str).str.strip().eq(reference.POPULATION_CRIME)
    bad = pop ^ total
    if not bad.any():
        return []
    rows = frame.loc[bad, "source_row"]
    return [_f(cfg, "population_rows", "crime_type", rows.min(),
               frame.loc[bad, "crime_type"].iloc[0],
               tr("%(n)s rows pair the indicator population with a crime type other than _T, or "
                  "_T with another indicator (first: row %(row)s).", n=int(bad.sum()),
                  row=int(rows.min())), int(bad.sum()))]


def partial_period(frame: pd.DataFrame, history: pd.DataFrame, cfg: dict) -> list:
    """An annual total far below the previous year's, with no month field: probably partial."""
    # only annual periods can replace an annual figure of the history: the rest of the rows
    # are left out before the two are put together
    yearly = lambda f: f[per_unique(f["period"], lambda u: u.astype(str).str.fullmatch(r"\d{4}"))  # noqa: E731
                         .fillna(False).astype(bool)]
    annual = _annual(pd.concat([yearly(history).assign(source_row=np.nan, action="I"), yearly(frame)],
                               ignore_index=True).drop_duplicates(
        ["region", "period", "crime_type", "indicator"], keep="last"))
    totals = annual.astype({"value_number": "float64"}).groupby(
        ["period", "crime_type", "indicator"])["value_number"].sum()
    sent = set(_annual(frame)["period"])
    out = []
    for period in sorted(sent):
        prev = str(int(period) - 1)
        cur = totals.xs(period, level="period") if period in totals.index.get_level_values(0) else None
        if cur is None or prev not in totals.index.get_level_values(0):
            continue
        before = totals.xs(prev, level="period")
        ratio = (cur / before.where(before > 0)).dropna()
        low = ratio[ratio < cfg["ratio_below"]]
        if len(low) and len(low) >= max(1, len(ratio) // 2):
            med = float(low.median())
            row = frame.loc[frame["period"] == period, "source_row"].min()
            out.append(_f(cfg, "partial_period", "period", row, period,
                          tr("%(period)s looks partial: its totals are about %(share)s of "
                             "%(prev)s for %(n)s of %(k)s crime types and indicators, and the file "
                             "has no month. If the year is incomplete, send it by month (2025-01 "
                             "...) or mark the values P (provisional); rates from a partial year "
                             "are not comparable.", period=period, share=f"{med:.0%}", prev=prev,
                             n=len(low), k=len(ratio))))
    return out


def change_vs_previous(frame: pd.DataFrame, history: pd.DataFrame, cfg: dict) -> list:
    """Values that changed a lot against the previous year (this file or what is stored)."""
    cur = _annual(frame)
    if cur.empty:
        return []
    past = pd.concat([_annual(history.assign(source_row=np.nan, action="I")), cur])
    past = past.drop_duplicates(["region", "period", "crime_type", "indicator"], keep="last")
    prev = past.assign(period=(past["period"].astype(int) + 1).astype(str))
    joined = cur.merge(prev[["region", "period", "crime_type", "indicator", "value_number"]],
                       on=["region", "period", "crime_type", "indicator"], suffixes=("", "_prev"))
    change = (joined["value_number"] - joined["value_number_prev"])
    rel = change.abs() / joined["value_number_prev"].abs().clip(lower=1)
    hit = joined[(rel > cfg["threshold"]) & (change.abs() >= cfg["min_difference"])]
    out = []
    for r in hit.head(cfg["max_rows"]).itertuples():
        out.append(_f(cfg, "change_vs_previous", "value", r.source_row, f"{r.value_number:g}",
                      tr("%(unit)s: %(value)s in %(period)s against %(prev)s in %(before)s "
                         "(%(change)s); please confirm the figure or explain the change.",
                         unit=f"{r.region} {r.crime_type} {r.indicator}", value=f"{r.value_number:g}",
                         period=r.period, prev=f"{r.value_number_prev:g}", before=int(r.period) - 1,
                         change=f"{(r.value_number - r.value_number_prev) / max(abs(r.value_number_prev), 1):+.0%}")))
    if len(hit) > cfg["max_rows"]:
        out.append(_f(cfg, "change_vs_previous", "value", None, None,
                      tr("... and %(n)s more large changes against the previous period; please "
                         "confirm or explain them.", n=len(hit) - cfg["max_rows"]),
                      len(hit) - cfg["max_rows"]))
    return out


def revision_of_stored(frame: pd.DataFrame, history: pd.DataFrame, cfg: dict) -> list:
    if history.empty:
        return []
    joined = frame[frame["value_number"].notna()].merge(
        history, on=["region", "period", "crime_type", "indicator"], suffixes=("", "_stored"))
    rel = (joined["value_number"] - joined["value_number_stored"]).abs() / \
        joined["value_number_stored"].abs().clip(lower=1)
    hit = joined[rel > cfg["threshold"]]
    out = [_f(cfg, "revision_of_stored", "value", r.source_row, f"{r.value_number:g}",
              tr("%(unit)s revises the stored value %(old)s to %(new)s; the new value supersedes "
                 "the old one (which stays on record). Please say why in your cover note.",
                 unit=f"{r.region} {r.period} {r.crime_type} {r.indicator}",
                 old=f"{r.value_number_stored:g}", new=f"{r.value_number:g}"))
           for r in hit.head(cfg["max_rows"]).itertuples()]
    if len(hit) > cfg["max_rows"]:
        out.append(_f(cfg, "revision_of_stored", "value", None, None,
                      tr("... and %(n)s more revisions of stored values.", n=len(hit) - cfg["max_rows"]),
                      len(hit) - cfg["max_rows"]))
    return out


def disappeared(frame: pd.DataFrame, history: pd.DataFrame, cfg: dict) -> list:
    """Regions or crime types sent for the previous year that this file leaves out."""
    known = pd.concat([history, _annual(frame)[history.columns]], ignore_index=True) \
        if not history.empty else _annual(frame)
    out = []
    for period in sorted(set(_annual(frame)["period"])):
        now = frame[frame["period"] == period]
        # only the indicators this file carries: another file's indicator of the same crime
        # types (victims beside incidents) is not "missing" from this one
        before = known[(known["period"] == str(int(period) - 1))
                       & known["indicator"].isin(set(now["indicator"]))]
        if before.empty:
            continue
        for col in ("region", "crime_type"):
            gone = sorted(set(before[col]) - set(now[col]))
            if gone:
                listed = ", ".join(gone[:20]) + (" ..." if len(gone) > 20 else "")
                text = (tr("%(n)s regions sent for %(before)s are missing for %(period)s: %(listed)s.",
                           n=len(gone), before=int(period) - 1, period=period, listed=listed)
                        if col == "region" else
                        tr("%(n)s crime types sent for %(before)s are missing for %(period)s: %(listed)s.",
                           n=len(gone), before=int(period) - 1, period=period, listed=listed))
                out.append(_f(cfg, "disappeared", col, None, ", ".join(gone[:20]),
                              text + " " + tr("If they had no cases, send 0; if the data are not "
                                              "available yet, send them with obs_status M."),
                              len(gone)))
    return out


def _relevant(history: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """The stored rows a check can compare this file with: its own periods (revisions) and the
    year before each of its years (changes, partial years, what disappeared). A country's
    history is many years; the checks then join a few hundred rows instead of thousands."""
    periods = set(pd.unique(frame["period"].dropna().astype(str)))
    periods |= {str(int(p) - 1) for p in periods if len(p) == 4 and p.isascii() and p.isdigit()}
    return history[history["period"].isin(periods)] if len(history) else history


def unit_ceiling(frame: pd.DataFrame, cfg: dict) -> list:
    """Indicators in their own units (firearms, dollars, reports, hectares) against what a
    region can credibly reach in a year (indicators.csv ``ceiling``): per 100,000 inhabitants,
    per inhabitant, or hectares within the region's area. A value beyond it is a unit slip or a
    cumulative figure sent as a yearly one."""
    ceilings = reference.indicator_ceilings()
    rows = _annual(frame.assign(action=frame["action"] if "action" in frame else "I"))
    rows = rows[rows["indicator"].isin(list(ceilings))]
    if rows.empty:
        return []
    people = reference.population()
    pop = people.groupby(["region", "year"])["population"].sum()
    national = people.groupby(["country", "year"])["population"].sum()
    area = reference.region_area_km2()
    found = []
    for r in rows.itertuples(index=False):
        limit, basis = ceilings[r.indicator]
        year = int(str(r.period)[:4])
        if basis == "area":
            room = area.get(r.region)
            most = limit * room * 100 if room else None  # km2 -> hectares
        else:
            count = pop.get((r.region, year), national.get((r.region, year)))
            most = (limit * count / 1e5 if basis == "100000" else limit * count) if count else None
        if most is not None and r.value_number > most:
            found.append(_f(cfg, "unit_ceiling", "value", r.source_row, f"{r.value_number:g}", tr(
                "%(unit)s: %(value)s in %(period)s is more than %(region)s can credibly reach in a year "
                "(%(most)s); check the unit (units, US dollars, hectares) and that the figure is the "
                "year's, not a cumulative total.", unit=f"{r.region} {r.indicator}", value=f"{r.value_number:g}",
                period=r.period, region=r.region, most=f"{most:,.0f}")))
            if len(found) >= cfg.get("max_rows", 50):
                break
    return found


def run(frame: pd.DataFrame, history: pd.DataFrame,
        checks_path: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All checks. ``history``: the country's current stored observations (columns region,
    period, crime_type, indicator, value_number); ``checks_path``: IDEAL_CHECKS. Returns
    (rows to load, findings)."""
    cfg = checks_config(checks_path)
    history = _relevant(history[["region", "period", "crime_type", "indicator", "value_number"]], frame)
    to_load, findings = regions_beside_municipalities(frame, cfg["regions_beside_municipalities"])
    to_load, more = national_beside_regions(to_load, cfg["national_beside_regions"])
    findings += more
    findings += iccs_parent_and_child(frame, cfg["iccs_parent_and_child"])
    findings += population_rows(frame, cfg["population_rows"])
    findings += partial_period(frame, history, cfg["partial_period"])
    findings += change_vs_previous(to_load, history, cfg["change_vs_previous"])
    findings += revision_of_stored(to_load, history, cfg["revision_of_stored"])
    findings += disappeared(to_load, history, cfg["disappeared"])
    findings += unit_ceiling(to_load, cfg["unit_ceiling"])
    out = findings_frame(findings).astype({"row": "Int64"})
    return to_load, out
