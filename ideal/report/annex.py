"""The full assessment annex: a section per country (every region x crime score, a trend
chart), the methodology annex (the profile's choices, sensitivity) and the data-quality annex
(submissions used, rejected ones listed). PDF/A-3a (tagged) with the run's scores attached as CSV."""

from __future__ import annotations

import numpy as np
import pandas as pd
from babel.numbers import format_decimal

from ideal import reference
from ideal.i18n import translations
from ideal.report import charts, maps
from ideal.report.context import (
    LEVELS,
    _num,
    heat_matrix,
    marking,
    marks,
    member_status,
    percent,
    pillar_labels,
    unit_reason,
    w3c_time,
)

ROWS_PER_TABLE = 40  # long tables split: WeasyPrint slows down on one table over many pages


def _chunks(rows: list, size: int) -> list[list]:
    return [rows[i:i + size] for i in range(0, len(rows), size)] or [[]]


def assumption_names(_, data_only: bool = False) -> dict[str, str]:
    """The uncertainty analysis's assumptions as the annex names them (sensitivity, Sobol)."""
    return {"weights": _("pillar weights"), "weight_magnitude": _("weight of magnitude"),
            "weight_trend": _("weight of trend"), "weight_harm": _("weight of harm"),
            "weight_spread": _("weight of spread"), "normalisation": _("normalisation"),
            "aggregation": _("aggregation"), "imputation": _("imputation"), "harm_floor": _("harm floor"),
            "counts": _("counts (resampled)"), "trend_window": _("trend window"),
            "goalposts": _("goalposts"), "harm_weights": _("harm weights"),
            "spread_threshold": _("spread threshold"),
            "data": (_("the data (counts, populations, trend window)") if data_only else
                     _("data (counts, trend window, goalposts, harm weights, spread threshold)"))}


def _zero(v: float | None) -> float | None:
    """An index estimate of about zero (sampling noise gives -0.004) printed as 0, not -0,0."""
    return v if v is None or v > 0.0005 else 0.0


def _goal(spec, language: str) -> str:
    """A goalpost as the annex prints it: '2-200' for [low, high], '0-50' for a number."""
    low, high = (0, spec) if isinstance(spec, (int, float)) else spec
    return f"{format_decimal(low, locale=language)}-{format_decimal(high, locale=language)}"


def build(run: dict, scores: pd.DataFrame, subs: pd.DataFrame, language: str) -> tuple[dict, dict]:
    """(template context, generated SVG assets by name); ``subs`` are the submissions the run
    used (ideal.store.queries.submissions_of)."""
    _ = translations(language).gettext
    labels = {k: _(v) for k, v in LEVELS.items()}
    profile = run["profile"]
    info = run.get("info") or {}
    lo, hi = profile["normalisation"]["trend_goalposts"]
    assets, countries = {}, []
    for cc in sorted(scores["country"].unique(), key=lambda c: reference.country_name(c, language)):
        s = scores[scores["country"] == cc].sort_values(["region", "crime_type"])
        rows = [{"region": reference.region_name(r.region), "crime": reference.crime_name(r.crime_type, language, short=True),
                 "rate": _num(r.rate, language), "score": _num(r.score, language) if pd.notna(r.score) else "-",
                 "level": r.level if pd.notna(r.level) else None,
                 "level_label": labels.get(r.level, "") if pd.notna(r.level) else "",
                 "reliability": _num(r.reliability, language) if pd.notna(r.reliability) else "-",
                 "interval": f"{int(r.rank_p5)}-{int(r.rank_p95)}" if pd.notna(r.rank_p5) else "-",
                 "top10": (f"{percent(r.p_top10, language)} %"
                           if pd.notna(getattr(r, "p_top10", None)) else None),
                 # v5's WHERE track: P(rate above k x the members' median), hotspot marked
                 "above": (f"{percent(r.p_exceed, language)} %"
                           if pd.notna(getattr(r, "p_exceed", None)) else "-"),
                 "hotspot": bool(getattr(r, "hotspot", False)) if pd.notna(getattr(r, "hotspot", None)) else False,
                 "imputed": bool(r.imputed) if pd.notna(r.imputed) else False, **marks(r),
                 "data_year": int(r.data_year) if pd.notna(getattr(r, "data_year", None)) else None,
                 "estimated_population": getattr(r, "population_method", "official") not in ("official", "submitted", None)}
                for r in s.itertuples()]
        change = (s["trend"] / 10 * (hi - lo) + lo).groupby(s["crime_type"]).mean().dropna() * 100
        name = f"chart-{cc}.svg"
        assets[name] = charts.bars([reference.crime_name(c, language, short=True) for c in change.index],
                                   change.round(1).tolist(),
                                   _("Average yearly change of the rate by crime type"), "%",
                                   limits=(lo * 100, hi * 100))
        countries.append({"code": cc, "name": reference.country_name(cc, language), "chart": name,
                          "units": len(s), "reliability": _num(s["reliability"].mean(), language),
                          "chunks": _chunks(rows, ROWS_PER_TABLE)})
    pillar = pillar_labels(_)
    methods = {"arithmetic": _("arithmetic mean"), "geometric": _("geometric mean")}
    harm_spec = profile.get("harm") or {}
    if harm_spec.get("mode") == "scale":  # v3, v4: the data pillars' weights renormalised, harm a multiplier
        data = [p for p in ("magnitude", "trend", "spread") if profile["pillars"][p]["weight"] > 0]
        total = sum(profile["pillars"][p]["weight"] for p in data)
        weights = ", ".join(f"{pillar.get(p, p)} {profile['pillars'][p]['weight'] / total:.0%}" for p in data)
        weights += "; " + _("harm scales the result, from x %(floor)s to x 1") % {
            "floor": format_decimal(harm_spec.get("floor", 0.5), locale=language)}
    else:
        weights = ", ".join(f"{pillar.get(p, p)} {profile['pillars'][p]['weight']:.0%}" for p in profile["pillars"])
    norms = {"minmax": _("min-max between fixed goalposts"), "zscore": _("z-scores"), "rank": _("ranks")}
    method = [(_("Profile"), f"{profile['name']} v{profile['version']} ({run['profile_sha256'][:12]})"),
              (_("Pillar weights"), weights)]
    if (profile.get("smoothing") or {}).get("model") == "hierarchical":
        method.append((_("Model of the counts"), _(
            "negative-binomial log-linear model of each unit's counts over %(years)s years; level and "
            "trend pooled towards the country and the country towards all members (two-level empirical "
            "Bayes)") % {"years": profile["pillars"]["trend"]["window_years"] + 1}))
    if harm_spec.get("weights"):
        method.append((_("Harm weights"), _("statutory sentences of the members' penal laws (table below)")
                       if harm_spec["weights"] == "sentencing" else _("panel weights of the ICCS table")))
    method += [(_("Normalisation"), norms.get(profile["normalisation"]["method"], profile["normalisation"]["method"])),
              (_("Magnitude goalposts per 100,000") + " (" + (_("log scale") if profile["normalisation"].get("goalposts_scale") == "log" else _("linear scale")) + ")",
               "; ".join(f"{reference.crime_name(k, language, short=True)} {_goal(v, language)}"
                         for k, v in profile["normalisation"]["goalposts"].items())),
              (_("Trend goalposts per year"), f"{lo:+.0%} .. {hi:+.0%}"),
              (_("Aggregation"), methods.get(profile["aggregation"]["method"], profile["aggregation"]["method"])),
              (_("Carry forward (years)"), str(profile["missing"]["carry_forward_years"])),
              (_("Coverage threshold"), f"{profile['missing']['coverage_threshold']:.0%}"),
              (_("Bands"), ", ".join(f"{labels[b['level']]} ≤ {b['max']}" for b in profile["bands"])),
              (_("Monte Carlo draws, seed"), f"{profile['uncertainty']['draws']}, {profile['uncertainty']['seed']}")]
    ew = profile.get("early_warning") or {}
    if ew.get("method") == "regression":
        method.append((_("Early warning"), _(
            "regression baseline of the %(base)s months before the last %(months)s (own trend and seasons); "
            "false-discovery rate across the series %(fdr)s") % {
            "base": ew["baseline_months"], "months": ew["monitor_months"], "fdr": f"{ew['fdr']:.0%}"}))
    names = assumption_names(_, data_only=profile["uncertainty"].get("headline") == "data")
    mc = (run.get("info") or {}).get("monte_carlo")
    if mc and mc.get("data_variants"):
        parts = [_("%(n)d data variants") % {"n": mc["data_variants"]}]
        if mc.get("resample_counts"):
            parts.append(_("counts resampled (Poisson)"))
        parts.append(_("trend window %(years)s years") % {"years": ", ".join(str(w) for w in mc["trend_windows"])})
        parts.append(_("goalposts × %(low)s-%(high)s") % {"low": format_decimal(mc["goalpost_factor"][0], locale=language),
                                                          "high": format_decimal(mc["goalpost_factor"][1], locale=language)})
        if mc.get("harm_spread"):
            parts.append(_("harm weights ± %(points)s") % {"points": _num(mc["harm_spread"], language)})
        parts.append(_("spread threshold %(values)s") % {"values": ", ".join(_num(t, language) for t in mc["spread_thresholds"])})
        method.append((_("Monte Carlo over the data"), "; ".join(parts)))
    if mc and mc.get("model"):  # v4: the data alone, the method held at the profile's
        acc = mc.get("population_accuracy") or {}
        method.append((_("Monte Carlo over the data"), "; ".join([
            _("%(n)s draws, the method held at the profile's") % {"n": mc["draws"]},
            _("counts drawn from the fitted negative-binomial model and its variances estimated again (Laird & Louis 1987)"),
            _("trend window %(years)s years") % {"years": ", ".join(str(w) for w in mc["trend_windows"])},
            _("populations within their stated accuracy (official ± %(o)s %%, modelled ± %(m)s %%)") % {
                "o": _num(acc.get("official", 0) * 100, language), "m": _num(acc.get("modelled", 0) * 100, language)}])))
    harm_rows = []
    if (profile.get("harm") or {}).get("weights") == "sentencing":
        weights_ = reference.harm_weights("sentencing")
        src = reference.harm_sources()
        for code, w in weights_.items():
            laws = src[src["code"] == code]
            harm_rows.append({"crime": reference.crime_name(code, language, short=True), "weight": _num(w, language),
                              "sources": "; ".join(f"{x.member} {x.law}, {x.article}: {_num(x.min_years, language)}-"
                                                   f"{_num(x.max_years, language)} " + _("years") for x in laws.itertuples())})
    coh = (run.get("info") or {}).get("coherence")
    if coh:
        corr = ", ".join(f"{'-'.join(pillar.get(x, x) for x in k.split('-'))} {_num(v, language)}"
                         for k, v in coh["correlations"].items() if v is not None)
        method += [
            (_("Pillar correlations (Pearson)"), corr or "-"),
            (_("Cronbach's alpha of the data pillars"), _num(coh["cronbach_alpha"], language) if coh["cronbach_alpha"] is not None else "-"),
            (_("First principal component's share of variance"),
             f"{coh['first_component_share']:.0%}" if coh["first_component_share"] is not None else "-"),
            (_("Effective weights (share of the variance of the data composite; harm: of the score) against nominal")
             if (profile.get("harm") or {}).get("mode") == "scale" else
             _("Effective weights (share of the score's variance) against nominal"), ", ".join(
                f"{pillar.get(p, p)} {w['effective']:.0%} / "
                f"{'-' if w['nominal'] is None else format(w['nominal'], '.0%')}" for p, w in coh["weights"].items()
                if w["effective"] is not None) or "-")]
    sob = (run.get("info") or {}).get("sobol")
    if sob:
        method.append((_("Sobol indices of the ranking (first-order / total, 95 %% interval)") % {},
                       "; ".join(f"{names.get(k, k)} {_num(_zero(v['S1']), language)} / {_num(_zero(v['ST']), language)} "
                                 f"(±{_num(v['ST_conf'], language)})"
                                 for k, v in sorted(sob["factors"].items(), key=lambda kv: -(kv[1]["ST"] or 0))
                                 if v["ST"] is not None)))
    sens = [(names.get(k, k), _num(v, language)) for k, v in sorted(
        (run.get("info") or {}).get("sensitivity", {}).items(), key=lambda kv: -kv[1])]
    crime_maps = []
    scope = list(run["countries"])
    legend = maps.legend_for(scope, language)
    for crime in maps.leading_crime_types(scores):
        assets[f"map-{crime}.svg"] = maps.level_map(scores, scope, legend, crime_type=crime, size=maps.SMALL)
        crime_maps.append({"crime": reference.crime_name(crime, language), "map": f"map-{crime}.svg"})
    assets["chart-heatmap.svg"] = charts.heatmap(heat_matrix(scores, language),
                                                 _("Mean score weighted by population (0-10)"), _("score"))
    ctx = {"language": language, "classification": marking(language),
           "period": run["period"], "crime_maps": crime_maps, "heatmap": "chart-heatmap.svg",
           "shared_shapes": maps.shared_shapes(scope),
           "run": {"id": run["id"], "profile": run["profile_name"], "profile_hash": run["profile_sha256"][:12],
                   "created_iso": w3c_time(run["created_at"])},
           "countries": countries, "method": method, "sensitivity": sens, "harm": harm_rows,
           "submissions": [{"id": s.id, "country": s.country, "filename": s.filename,
                            "rows": _num(s.rows_accepted, language, 0), "warnings": s.n_warnings,
                            "errors": s.n_errors, "status": s.status} for s in subs.itertuples()],
           "members": [{"name": reference.country_name(c["country"], language),
                        "status": member_status(c, run["period"], _), "observations": _num(c.get("observations", 0), language, 0)}
                       for c in sorted(info.get("countries") or [], key=lambda c: reference.country_name(c["country"], language))],
           "unscored": _chunks([{"country": reference.country_name(u["country"], language),
                                 "region": reference.region_name(u["region"]),
                                 "crime": reference.crime_name(u["crime_type"], language, short=True),
                                 "reason": unit_reason(u["reason"], _)}
                                for u in sorted(info.get("unscored") or [],
                                                key=lambda u: (u["country"], u["region"], u["crime_type"]))],
                                ROWS_PER_TABLE) if info.get("unscored") else [],
           "national": [{"country": reference.country_name(n["country"], language),
                         "crime": reference.crime_name(n["crime_type"], language, short=True),
                         "rate": _num(n["rate"], language) if n.get("rate") is not None else "-",
                         "year": n["data_year"]} for n in info.get("national") or []]}
    return ctx, assets


def scores_csv(scores: pd.DataFrame) -> str:
    cols = ["country", "region", "crime_type", "period", "indicator", "value", "population", "rate",
            "magnitude", "trend", "harm", "spread", "coverage", "score", "level", "status",
            "reliability", "rank", "rank_median", "rank_p5", "rank_p95", "data_year", "imputed",
            "partial", "population_method", "rate_model", "rate_p5", "rate_p95", "trend_change", "trend_se",
            "exceed_threshold", "p_exceed", "hotspot", "p_rising", "rising"]
    out = scores[[c for c in cols if c in scores]]
    if {"trend_change", "trend_se"} <= set(out):  # the trend's 95 % interval, from its slope
        slope = np.log1p(out["trend_change"].astype("float64"))
        se = out["trend_se"].astype("float64")
        out = out.assign(trend_low=np.expm1(slope - 1.96 * se).round(4),
                         trend_high=np.expm1(slope + 1.96 * se).round(4))
    return out.to_csv(index=False)

