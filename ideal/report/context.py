"""The briefing's content, computed from a stored run: tables, findings, data quality."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
from babel.dates import format_date
from babel.numbers import format_decimal

from ideal import reference
from ideal.config import get_settings
from ideal.i18n import N_, translations
from ideal.report.maps import HIGH, LEVEL_NAMES, hotspots, shared_shapes
from ideal.scoring.profile import load_profile
from ideal.scoring.score import country_scores, top_threats

HOTSPOT_ROWS = 8  # the briefing's page budget; the annex CSV has every score
LEVELS = LEVEL_NAMES


def w3c_time(moment: datetime) -> str:
    """A time as the W3C datetime a PDF's <meta name="dcterms.created"> needs (with its zone:
    SQLite gives times back without one, and they are UTC)."""
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _num(x: float, language: str, digits: int = 1) -> str:
    return format_decimal(x, format="#,##0." + "0" * digits if digits else "#,##0", locale=language)


def percent(p: float, language: str) -> str:
    """A probability as a percentage no surer than the simulations allow (#50): '> 99' for
    0.995 and above, '< 1' below 0.005, else the whole percentage (the caller adds ' %')."""
    if p >= 0.995:
        return "> 99"
    if p < 0.005:
        return "< 1"
    return _num(100 * p, language, 0)


def heat_matrix(scores: pd.DataFrame, language: str) -> pd.DataFrame:
    """Country x crime type matrix of the population-weighted mean score."""
    roll = country_scores(scores)
    matrix = roll.pivot(index="country", columns="crime_type", values="score")
    matrix.index = [reference.country_name(c, language) for c in matrix.index]
    matrix.columns = [reference.crime_name(c, language, short=True) for c in matrix.columns]
    return matrix.sort_index()


OFFICIAL_POPULATION = ("official", "submitted", None)
INDICATOR_LABELS = {"incidents": "incidents", "victims": "victims", "persons_arrested": "persons arrested",
                    "seizures_kg": "seizures (kg)"}
POPULATION_LABELS = {"official": "official", "submitted": "sent by the country",
                     "interpolated": "interpolated", "extrapolated": "extrapolated",
                     "modelled": "modelled", "synthetic": "synthetic"}
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _harm_scale(profile: dict, harm: pd.Series, language: str) -> str | None:
    """With harm as a scale, the multiplier of the least harmful crime type scored."""
    spec = profile.get("harm") or {}
    if spec.get("mode") != "scale":
        return None
    floor = float(spec.get("floor", 0.5))
    return _num(floor + (1 - floor) * float(harm.dropna().min()) / 10, language, 2)


def _weights(profile: dict, language: str) -> dict | None:
    """The pillar weights in per cent as the score uses them: with harm as a scale, those of
    the data pillars, renormalised over them."""
    if "pillars" not in profile:
        return None
    names = ["magnitude", "trend", "harm", "spread"]
    if (profile.get("harm") or {}).get("mode") == "scale":
        names = ["magnitude", "trend", "spread"]
    total = sum(profile["pillars"][p]["weight"] for p in names)
    return {p: _num(profile["pillars"][p]["weight"] / total * 100, language, 0) for p in names}


def other_years(years: list[dict], language: str) -> list[str]:
    """What another reference year would change (window.best_year): one sentence per year."""
    _ = translations(language).gettext
    out = []
    for y in years or []:
        adds = ", ".join(reference.country_name(c, language) for c in y.get("adds") or [])
        left = ", ".join(reference.country_name(c, language) for c in y.get("leaves_out") or [])
        text = _("%(year)s would also assess %(adds)s") % {"year": y["year"], "adds": adds}
        if left:
            text += _(" and leave out %(left)s") % {"left": left}
        out.append(text + ".")
    return out


def marking(language: str) -> str:
    """The classification marking in the report's language: the demonstration marking (the
    demo's home) is translated; one set at `ideal init --marking` or in IDEAL_CLASSIFICATION is
    printed as the secretariat wrote it; an installation with none says so."""
    from ideal.config import DEFAULT_CLASSIFICATION

    text = get_settings().classification
    if text == DEFAULT_CLASSIFICATION:
        return translations(language).gettext("OFFICIAL USE - DEMONSTRATION DOCUMENT")
    if not text:
        return translations(language).gettext("NO CLASSIFICATION MARKING SET (ideal init --marking)")
    return text


def _model_facts(profile: dict, language: str) -> dict | None:
    """The figures the briefing's methodology paragraph of v4 states, from the profile that ran."""
    if (profile.get("smoothing") or {}).get("model") != "hierarchical":
        return None
    lo, hi = profile["normalisation"]["trend_goalposts"]
    pct = lambda x: f"{'+' if x > 0 else ''}{_num(x * 100, language, 0)} %"  # noqa: E731
    facts = {"years": profile["pillars"]["trend"]["window_years"] + 1, "lo": pct(lo), "hi": pct(hi),
             "coverage": _num(profile["missing"]["coverage_threshold"] * 100, language, 0),
             "carry": profile["missing"]["carry_forward_years"]}
    # the rate-trend trade-off of the score (#50): +10 points of yearly change move the trend
    # pillar by 10 x 0.1 / (hi - lo) points; the rate factor f that moves the magnitude pillar
    # as much, on its log scale between goalposts a ratio R apart, is R ** (w_t / w_m x 0.1 / (hi - lo))
    w_m, w_t = profile["pillars"]["magnitude"]["weight"], profile["pillars"]["trend"]["weight"]
    pairs = [g for g in (profile["normalisation"].get("goalposts") or {}).values()
             if isinstance(g, list) and len(g) == 2 and g[0] > 0]
    if profile["normalisation"].get("goalposts_scale") == "log" and pairs and w_m > 0 and hi > lo:
        ratio = float(np.median([g[1] / g[0] for g in pairs]))
        facts["tradeoff"] = _num(ratio ** (w_t / w_m * 0.1 / (hi - lo)), language, 2)
        facts["ratio"] = _num(ratio, language, 0)
    return facts


def _partial(text: str, _) -> str:
    """'annualised 9/12' -> 'annualised from 9 months'; 'nowcast 6/12: 80-120' -> 'estimated
    from 6 months (90 % interval 80-120)'; 'carried forward: 2025 covers 3/12' -> '2025 covers
    3 months; earlier year used'."""
    import re

    months = re.search(r"(\d+)/12", text)
    n = months.group(1) if months else "?"
    if text.startswith("annualised"):
        return _("annualised from %(n)s months") % {"n": n}
    if text.startswith("nowcast"):
        span = text.split(":", 1)[1].strip() if ":" in text else "?"
        return _("estimated from %(n)s months and the seasonal profile of earlier years (90 %% interval %(span)s)") % {
            "n": n, "span": span}
    year = re.search(r"(\d{4})", text)
    if text.endswith("looks partial"):
        return _("%(year)s looks partial and gives no months; an earlier year is used") % {
            "year": year.group(1) if year else ""}
    return _("%(year)s covers %(n)s months; an earlier year is used") % {
        "year": year.group(1) if year else "", "n": n}


def unit_reason(reason: str, _) -> str:
    """A region x crime unit's reason for not being scored, in words."""
    import re

    if reason.startswith("partial year"):
        return _("the year is partial and too short to estimate")
    if reason.startswith("no population"):
        year = re.search(r"(\d{4})", reason)
        return _("no population figure for %(year)s") % {"year": year.group(1) if year else ""}
    return _("no value in the assessment window")


def marks(r) -> dict:
    """How a score's value was obtained, as the tables mark it: ``partial`` (annualised from
    part of a year, †) or ``nowcast`` (a partial year's full-year value estimated from its
    months, §); ``imputed`` (an earlier year, *) is the score's own column."""
    text = getattr(r, "partial", None)
    text = text if isinstance(text, str) else ""
    return {"nowcast": text.startswith("nowcast"), "partial": text.startswith("annualised")}


def member_reason(rec: dict, _) -> str:
    """Why a member is not assessed (ideal.scoring.window.REASONS), in the reader's language."""
    from ideal.scoring.window import REASONS

    code, values = rec.get("code"), dict(rec.get("values") or {})
    if code not in REASONS:
        return rec.get("reason") or ""
    if code == "units":
        values["detail"] = unit_reason(values.get("detail", ""), _)
    return _(REASONS[code]) % values


def member_status(rec: dict, period: str, _) -> str:
    """One member's line of the coverage table: the years its scores' data come from (carried
    forward, nowcast, annualised), or why it is not assessed."""
    from ideal.scoring.window import ASSESSED, NATIONAL_ONLY

    if rec.get("status") == ASSESSED:
        years = rec.get("data_years") or {}
        text = _("assessed on data of %(years)s") % {"years": ", ".join(years) or str(rec.get("data_year"))}
        if years and max(int(y) for y in years) < int(period):
            text += " " + _("(latest year, carried forward)")
        if rec.get("nowcast"):
            text += "; " + _("%(n)s estimated from a partial year (nowcast)") % {"n": rec["nowcast"]}
        if rec.get("annualised"):
            text += "; " + _("%(n)s annualised from a partial year") % {"n": rec["annualised"]}
        if rec.get("later"):
            text += "; " + _("later data not yet complete: %(later)s") % {"later": rec["later"]}
        return text
    if rec.get("status") == NATIONAL_ONLY:
        return _("national figure only: listed apart, not ranked")
    return _("not assessed: %(reason)s") % {"reason": member_reason(rec, _)}


def pillar_labels(_) -> dict[str, str]:
    """The four pillars as a reader of the briefing and the annex names them."""
    return {"magnitude": _("magnitude"), "trend": _("trend"), "harm": _("harm"), "spread": _("spread")}


def _markets(scores: pd.DataFrame, language: str, leaders: int = 3) -> list[dict]:
    """One line per crime market, most threatening first: its leading regions across countries
    (the highest region of each of the ``leaders`` countries where it scores highest, so one
    country never fills the line) and how many regions of how many countries are high or very
    high."""
    scored = scores[scores["score"].notna()]
    out = []
    for crime, g in scored.groupby("crime_type"):
        best = g.sort_values(["score", "rate"], ascending=False).drop_duplicates("country").head(leaders)
        high = g[g["level"].isin(HIGH)]
        out.append({"crime": reference.crime_name(crime, language, short=True), "top": float(best["score"].iloc[0]),
                    "leaders": [{"region": reference.region_name(r.region), "country": r.country,
                                 "score": _num(r.score, language)} for r in best.itertuples()],
                    "high": _num(len(high), language, 0), "high_countries": _num(high["country"].nunique(), language, 0)})
    return sorted(out, key=lambda m: -m["top"])


def priorities(scores: pd.DataFrame, pairs: pd.DataFrame, language: str, _, most: int = 5) -> list[dict]:
    """Three to five crime markets proposed to CLASI as regional priorities (the job of the EU's
    SOCTA recommendations that COSI adopts), each with its evidence and what is uncertain.
    Markets with a region at a high or very high level come first, weighed by the number of their
    units expected in the overall top 15 (the sum of their probabilities, v4) and then by those
    regions; when fewer than three have one, markets with a region at a medium level complete the
    three, said as such (their evidence is their medium regions, and it is a doubt); a market
    with no region at a medium level or above is never proposed."""
    scored = scores[scores["score"].notna()]
    if scored.empty or "level" not in scored:
        return []
    has_p = "p_top15" in scored and scored["p_top15"].notna().any()
    rows = []
    for crime, g in scored.groupby("crime_type"):
        high = g[g["level"].isin(HIGH)]
        rows.append((crime, float(g["p_top15"].fillna(0).sum()) if has_p else 0.0, len(high), float(g["score"].max())))
    # markets with a region at a high or very high level first; at least three are proposed when
    # three have a region at a medium level or above (the committee weighs them; it is told)
    rows.sort(key=lambda r: (r[2] == 0, -r[1], -r[2], -r[3]))
    chosen = [r[0] for r in rows if r[2] > 0][:most]
    medium = scored[scored["level"].isin(("medium", *HIGH))]["crime_type"].unique()
    by_score = sorted((r for r in rows if r[2] == 0 and r[0] in medium), key=lambda r: -r[3])
    chosen += [r[0] for r in by_score][:max(0, 3 - len(chosen))]
    out = []
    for crime in chosen:
        g = scored[scored["crime_type"] == crime]
        high = g[g["level"].isin(HIGH)]
        if high.empty:  # proposed from its regions at a medium level: the evidence is theirs
            high = g[g["level"] == "medium"]
        countries = high.groupby("country").size().sort_values(ascending=False)
        lead = g[g["p_top15"].fillna(0) >= 0.5] if has_p else g.iloc[0:0]
        change = high["trend_change"].dropna() if "trend_change" in high else pd.Series(dtype=float)
        rising = 0
        if "trend_se" in high and len(change):
            lower = np.expm1(np.log1p(high["trend_change"]) - 1.96 * high["trend_se"])
            rising = int((lower > 0).sum())
        n_pairs = int((pairs["crime_type"] == crime).sum()) if len(pairs) else 0
        at = {"n": _num(len(high), language, 0), "m": _num(len(countries), language, 0),
              "list": ", ".join(f"{reference.country_name(c, language)} {_num(k, language, 0)}" for c, k in countries.items())}
        medium_only = not high["level"].isin(HIGH).any()
        evidence = [(_("no region at a high or very high level; %(n)s regions of %(m)s members at a medium level (%(list)s)")
                     if medium_only else
                     _("%(n)s regions of %(m)s members at a high or very high level (%(list)s)")) % at]
        if has_p:
            evidence.append(_("%(n)s of its regions in the top 15 in at least half of the simulations of the data") % {
                "n": _num(len(lead), language, 0)})
        if len(change):
            evidence.append(_("median yearly change of those regions %(change)s, %(rising)s rising beyond doubt") % {
                "change": f"{'+' if change.median() >= 0 else ''}{_num(change.median() * 100, language, 0)} %",
                "rising": _num(rising, language, 0)})
        evidence.append(_("%(n)s cross-border pairs") % {"n": _num(n_pairs, language, 0)})
        evidence.append(_("reliability %(r)s of 10") % {"r": _num(high["reliability"].mean(), language)})
        doubts = []
        if medium_only:
            doubts.append(_("no region reaches a high level: a market to watch more than to act on"))
        if len(countries) == 1:
            doubts.append(_("it rests on one member's data"))
        if has_p and lead.empty:
            doubts.append(_("none of its regions is in the top 15 in half of the simulations"))
        if "enforcement" in high and high["enforcement"].fillna(False).astype(bool).any():
            doubts.append(_("it rests on enforcement counts (arrests, seizures, or a crime found mostly by investigation), which grow with police effort as well as with crime"))
        if "imputed" in high and high["imputed"].fillna(False).astype(bool).mean() > 0.25:
            doubts.append(_("a quarter or more of its regions use data of an earlier year"))
        if "population_method" in high and (~high["population_method"].isin(OFFICIAL_POPULATION)).mean() > 0.25:
            doubts.append(_("a quarter or more of its regions use a population that is not official"))
        out.append({"crime_type": crime, "crime": reference.crime_name(crime, language), "evidence": "; ".join(evidence),
                    "doubts": "; ".join(doubts) if doubts else _("no particular doubt beyond the intervals shown")})
    return out


LIKELIHOOD = [(0.99, N_("almost certainly")), (0.90, N_("very likely")), (0.66, N_("likely")),
              (0.33, N_("about as likely as not")), (0.10, N_("unlikely")), (0.0, N_("very unlikely"))]


def largest_remainder(values: list[float], total: float, digits: int = 1) -> list[float]:
    """``values`` rounded to ``digits`` so that they add up to ``total`` (itself at that
    precision): each rounded down, then the units left given to the largest remainders
    (Hamilton's method), so the parts shown add up to the figure shown."""
    scale = 10 ** digits
    floors = [np.floor(v * scale) for v in values]
    left = int(round(total * scale - sum(floors)))
    order = sorted(range(len(values)), key=lambda i: -(values[i] * scale - floors[i]))
    for i in order[:max(0, left)]:
        floors[i] += 1
    return [f / scale for f in floors]


def listed(items: list[str], language: str, _, most: int) -> str:
    """'A, B, C and 4 more': the first ``most`` items, then how many are left."""
    text = ", ".join(items[:most])
    left = len(items) - most
    return text + (" " + _("and %(n)s more") % {"n": _num(left, language, 0)} if left > 0 else "")


def likely(p: float, _) -> str:
    """A probability in words on the scale of ICD 203 and the IPCC (stated once in the
    briefing): almost certainly >= 99 %, very likely 90-99 %, likely 66-90 %, about as likely
    as not 33-66 %, unlikely 10-33 %, very unlikely below."""
    return next(_(word) for cut, word in LIKELIHOOD if p >= cut)


NO_MARKET = N_("No criminal market can be proposed as a priority: no market is at 7 or more in two members "
               "or among the region's three most severe in half of the simulations, or the members sent no "
               "structured contributions and no data of the markets.")


def where_hotspots(scores: pd.DataFrame) -> pd.DataFrame:
    """The run's hotspots (v5's WHERE track) in the order of the evidence: the most probable
    first, then the farthest above their threshold; none without the track."""
    if "hotspot" not in scores:
        return scores.iloc[0:0]
    hot = scores[scores["hotspot"].fillna(False).astype(bool)]
    return hot.assign(_above=hot["rate"] / hot["exceed_threshold"]).sort_values(["p_exceed", "_above"], ascending=False)


def bottom_line(run: dict, scores: pd.DataFrame, language: str, _) -> list[str]:
    """v5's bottom line up front (#50, first part): the markets proposed with the members where
    each is severe, the clearest hotspots in words, and how sure, in likelihood words whose
    ranges are stated once."""
    out = []
    proposed = (run.get("info") or {}).get("priorities") or []
    names = reference.markets().set_index("code")[f"name_{language}"]
    if proposed:
        parts = []
        for m in proposed[:3]:
            where_ = listed([reference.country_name(x["country"], language) for x in m["severe"]], language, _, 3)
            parts.append(_("%(market)s (severe in %(where)s; %(likely)s among the region's three most severe)") % {
                "market": str(names.get(m["market"], m["market"])).lower(),
                "where": where_ or _("no member"), "likely": likely(m["p_top3"], _)})
        out.append(_("Proposed priorities for CLASI: %(list)s.") % {"list": "; ".join(parts)})
    else:  # said, never left out in silence
        out.append(_(NO_MARKET))
    hot = where_hotspots(scores)
    if len(hot):
        lead = hot.drop_duplicates("crime_type").head(3)
        parts = [_("%(crime)s in %(region)s (%(country)s), %(rate)s per 100,000, %(likely)s above %(k)s times the members' median") % {
            "crime": reference.crime_name(r.crime_type, language).lower(), "region": reference.region_name(r.region),
            "country": reference.country_name(r.country, language), "rate": _num(r.rate, language),
            "likely": likely(r.p_exceed, _), "k": _num((run["profile"].get("where") or {}).get("k", 2.0), language, 0)}
            for r in lead.itertuples()]
        out.append(_("%(n)s hotspots in %(m)s crime types; the clearest: %(list)s.") % {
            "n": _num(len(hot), language, 0), "m": _num(hot["crime_type"].nunique(), language, 0),
            "list": "; ".join(parts)})
    if "since" in run:
        out.append(since_sentence(run["since"], language, _))
    if out:
        out.append(_("Likelihood words: almost certainly 99 % or more, very likely 90-99 %, likely 66-90 %, "
                     "about as likely as not 33-66 %, unlikely 10-33 %, very unlikely below 10 % (the "
                     "share of the simulations of the data)."))
    return out


# what bench/early_warning.py measured of v5's early warning (bench/results/2026-12-07-early-warning.json):
# with nothing changed in 1,000 series, the share of runs with any alarm; in the mixture where one
# series in ten doubles, the false-discovery proportion and the doublings found within three months
EARLY_WARNING_BENCH = {"null": 0.067, "fdp": 0.040, "power": 0.822}


def since_sentence(change: dict, language: str, _) -> str:
    """What changed since the previous run of the same scope (ideal.scoring.compare.since), in
    one sentence for page 1; said also when nothing changed or there is no earlier run."""
    if change.get("first"):
        return _("This is the first run of this scope: there is no earlier run to compare with.")
    names = reference.markets().set_index("code")[f"name_{language}"]

    def market(code: str) -> str:
        return str(names.get(code, code)).lower()

    parts = []
    if change["n_new_hotspots"] or change["n_gone_hotspots"]:
        text = _("%(new)s new hotspots, %(gone)s no longer") % {
            "new": _num(change["n_new_hotspots"], language, 0), "gone": _num(change["n_gone_hotspots"], language, 0)}
        if change["new_hotspots"]:
            h = change["new_hotspots"][0]
            text += " " + _("(the clearest new one: %(crime)s in %(region)s, %(country)s)") % {
                "crime": reference.crime_name(h["crime_type"], language).lower(),
                "region": reference.region_name(h["region"]), "country": reference.country_name(h["country"], language)}
        parts.append(text)
    if change["proposed"]:
        parts.append(_("newly proposed: %(list)s") % {"list": listed([market(m) for m in change["proposed"]], language, _, 2)})
    if change["dropped"]:
        parts.append(_("no longer proposed: %(list)s") % {"list": listed([market(m) for m in change["dropped"]], language, _, 2)})
    for key, label in (("up", _("markets up: %(list)s")), ("down", _("markets down: %(list)s"))):
        if change[key]:
            parts.append(label % {"list": listed(
                [f"{market(m['market'])} {_num(m['before'], language)} → {_num(m['now'], language)}" for m in change[key]],
                language, _, 2)})
    if change["members_added"]:
        parts.append(_("members added: %(list)s") % {
            "list": listed([reference.country_name(c, language) for c in change["members_added"]], language, _, 2)})
    if change["members_removed"]:
        parts.append(_("no longer assessed: %(list)s") % {
            "list": listed([reference.country_name(c, language) for c in change["members_removed"]], language, _, 2)})
    head = _("Since the previous run of this scope (reference year %(period)s, run %(id)s)") % {
        "period": change["period"], "id": change["id"]}
    if not parts:
        return head + ": " + _("no hotspot, proposed priority, market severity (by half a point or more) or member changed.")
    return head + ": " + "; ".join(parts) + "."


def market_doubts(m: dict, language: str, _, short: bool) -> list[str]:
    """What is uncertain about a proposed market (ideal.scoring.markets.propose): the members
    where experts and data disagree, those resting on fewer than three assessors, and being
    severe in fewer than two members; ``short`` for the market page, in full for the annex."""
    doubts = []
    if m["disagree"]:
        members = ", ".join(reference.country_name(c, language) for c in m["disagree"])
        doubts.append((_("experts and data differ in %(list)s") if short else
                       _("experts and data disagree by 3 points or more in %(list)s: possible under-reporting "
                         "or enforcement effect")) % {"list": members})
    if m["few_assessors"]:
        doubts.append(_("%(n)s members rest on fewer than three assessors") % {"n": _num(m["few_assessors"], language, 0)})
    if len(m["severe"]) < 2:
        doubts.append(_("severe in fewer than two members") if short else
                      _("severe in fewer than two members: proposed for its place among the region's markets"))
    return doubts


def market_priorities(run: dict, language: str, _) -> list[dict]:
    """v5 (#48): the markets proposed from the WHAT track (ideal.scoring.markets.propose), each
    with the probability behind it, its evidence and its doubts, in the briefing's shape."""
    proposed = (run.get("info") or {}).get("priorities") or []
    names = reference.markets().set_index("code")[f"name_{language}"]
    areas = reference.clasi_areas().set_index("code")[f"name_{language}"]
    out = []
    for m in proposed:
        severe = ", ".join(f"{reference.country_name(x['country'], language)} {percent(x['p_seven'], language)} %"
                           for x in m["severe"])
        evidence = [_("regional severity %(s)s of 10 (90 %% interval %(lo)s–%(hi)s) over %(n)s members") % {
            "s": _num(m["severity"], language), "lo": _num(m["low"], language), "hi": _num(m["high"], language),
            "n": _num(m["members"], language, 0)},
            _("among the region's three most severe markets in %(p)s %% of the simulations") % {
                "p": percent(m["p_top3"], language)}]
        if m["severe"]:
            evidence.append(_("severe (7 or more) in %(n)s members, with the probability: %(list)s") % {
                "n": _num(len(m["severe"]), language, 0), "list": severe})
        if m["iccs"]:
            evidence.append(_("%(hot)s hotspot regions and %(rising)s rising regions in its crime types") % {
                "hot": _num(m["hotspots"], language, 0), "rising": _num(m["rising"], language, 0)})
        if m["areas"]:
            evidence.append(_("CLASI area: %(areas)s") % {"areas": ", ".join(str(areas.get(a, a)) for a in m["areas"])})
        doubts = market_doubts(m, language, _, short=False)
        out.append({"crime_type": (m["iccs"] or [None])[0], "crime": str(names.get(m["market"], m["market"])),
                    "evidence": "; ".join(evidence),
                    "doubts": "; ".join(doubts) if doubts else _("no particular doubt beyond the intervals shown")})
    return out


def market_page(run: dict, pairs: pd.DataFrame, language: str, _) -> list[dict]:
    """The market page (#50): one line per market proposed, with its regional severity and
    interval, the members at 7 or more, its hotspots and rising regions, the cross-border pairs
    of its crime types, how sure in likelihood words and what is uncertain, in short."""
    proposed = (run.get("info") or {}).get("priorities") or []
    names = reference.markets().set_index("code")[f"name_{language}"]
    areas = reference.clasi_areas().set_index("code")[f"name_{language}"]
    out = []
    for m in proposed:
        severe = [reference.country_name(x["country"], language) for x in m["severe"]]
        shown = listed(severe, language, _, 3)
        doubts = market_doubts(m, language, _, short=True)
        n_pairs = int(pairs["crime_type"].isin(m["iccs"]).sum()) if len(pairs) and m["iccs"] else 0
        out.append({"crime": str(names.get(m["market"], m["market"])),
                    "areas": ", ".join(str(areas.get(a, a)) for a in m["areas"]),
                    "severity": _num(m["severity"], language),
                    "interval": f"{_num(m['low'], language)}–{_num(m['high'], language)}",
                    "severe_n": _("%(n)s of %(m)s") % {"n": _num(len(severe), language, 0), "m": _num(m["members"], language, 0)},
                    "severe_names": shown,
                    "hotspots": _num(m["hotspots"], language, 0) if m["iccs"] else "-",
                    "rising": _num(m["rising"], language, 0) if m["iccs"] else "-",
                    "pairs": _num(n_pairs, language, 0) if m["iccs"] else "-",
                    "sure": likely(m["p_top3"], _), "p_top3": percent(m["p_top3"], language),
                    "doubts": "; ".join(doubts) if doubts else _("only the intervals shown")})
    return out


def where_track(scores: pd.DataFrame, profile: dict, language: str, _, most: int = 15) -> dict | None:
    """v5's WHERE track (#48) for the briefing: how many hotspots each crime type has (P(exceed)
    at or above the profile's) in how many members, and one table of the ``most`` most probable
    across crime types (then the farthest above their threshold), with the recorded rate, the
    threshold (k x the members' median), the probability and P(rising). Every region's P is in
    the annex and its CSV."""
    if "p_exceed" not in scores or scores["p_exceed"].isna().all():
        return None
    hot = where_hotspots(scores)
    counts = [{"crime": reference.crime_name(crime, language), "n": len(g), "m": int(g["country"].nunique())}
              for crime, g in sorted(hot.groupby("crime_type"), key=lambda kv: -len(kv[1]))]
    lead = hot.head(most)
    rows = [{"region": reference.region_name(r.region), "country": reference.country_name(r.country, language),
             "crime": reference.crime_name(r.crime_type, language, short=True),
             "rate": _num(r.rate, language), "threshold": _num(r.exceed_threshold, language),
             "p": percent(r.p_exceed, language),
             "rising": percent(r.p_rising, language) if pd.notna(r.p_rising) else "-",
             "year": int(r.data_year)} for r in lead.itertuples()]
    return {"counts": counts, "rows": rows, "total": len(hot),
            "crime_types": int(scores["crime_type"].nunique())}


def leading_group(group: pd.DataFrame, language: str, _) -> str:
    """'homicide in Loja, Sucumbíos and Manabí (Ecuador); arms trafficking in Santa Cruz
    (Bolivia)': the units of a leading group by crime type and country, in the order given."""
    parts = []
    for crime in pd.unique(group["crime_type"]):
        g = group[group["crime_type"] == crime]
        places = []
        for cc in pd.unique(g["country"]):
            regions = [reference.region_name(r) for r in g[g["country"] == cc]["region"]]
            names = regions[0] if len(regions) == 1 else _("%(list)s and %(last)s") % {
                "list": ", ".join(regions[:-1]), "last": regions[-1]}
            places.append(f"{names} ({reference.country_name(cc, language)})")
        parts.append(_("%(crime)s in %(region)s") % {"crime": reference.crime_name(crime, language).lower(),
                                                      "region": "; ".join(places)})
    return "; ".join(parts)


def shown_rate(r, language: str) -> dict:
    """The rate a threat's line shows (#48): the recorded rate of the data year, the official
    figure, as the headline; the modelled rate (what the score reads) and its 90 % interval
    beside it, labelled as such, where it differs from the recorded one by more than 5 %."""
    model = getattr(r, "rate_model", None)
    if model is None or pd.isna(model) or pd.isna(r.rate):
        return {"rate": _num(r.rate, language), "modelled": None}
    differs = abs(model - r.rate) > 0.05 * max(abs(r.rate), 1e-9)
    low, high = getattr(r, "rate_p5", None), getattr(r, "rate_p95", None)
    interval = (f"{_num(low, language)}–{_num(high, language)}"
                if low is not None and high is not None and pd.notna(low) and pd.notna(high) else None)
    return {"rate": _num(r.rate, language), "modelled": _num(model, language) if differs else None,
            "modelled_interval": interval if differs else None}


def chances(r, language: str) -> str:
    """'P(first) · P(top 10)' of a score row as percentages (v4), '-' without them."""
    p1, p10 = getattr(r, "p_first", None), getattr(r, "p_top10", None)
    if p1 is None or pd.isna(p1) or p10 is None or pd.isna(p10):
        return "-"
    return f"{percent(p1, language)}\u00a0%\u00a0·\u00a0{percent(p10, language)}\u00a0%"


BASIS = (N_("prevalence"), N_("enforcement"))  # the data track's basis, said in the reader's language
AGREEMENT = {"agree": N_("agree"), "disagree": N_("disagree: possible under-reporting or enforcement effect"),
             "experts_only": N_("experts only"), "data_only": N_("data only"), "none": "-"}


def priority_areas(run: dict, language: str, _) -> tuple[list[dict], list[dict]]:
    """CLASI's priority areas (#49): per area the region's severity with its 90 % interval and
    its most severe members; per area and member the severity, interval, assessors and whether
    data and experts agree."""
    sev = run.get("market_severities")
    regional = pd.DataFrame(((run.get("info") or {}).get("markets") or {}).get("regional") or [])
    if sev is None or sev.empty or regional.empty:
        return [], []
    regional = regional.set_index("market")
    names = reference.clasi_areas().set_index("code")[f"name_{language}"]
    summary, detail = [], []
    for code, name in names.items():
        key = f"area:{code}"
        rows = sev[sev["market"] == key].sort_values("severity", ascending=False)
        if rows.empty or key not in regional.index:
            continue
        reg = regional.loc[key]

        def interval(r) -> str:
            return f"{_num(r['low'], language)}–{_num(r['high'], language)}"

        members = [{"country": reference.country_name(r["country"], language), "severity": _num(r["severity"], language),
                    "interval": interval(r), "p_seven": percent(r["p_seven"], language),
                    "assessors": int(r["assessors"]), "experts": _num(r["experts"], language) if pd.notna(r["experts"]) else "-",
                    "data": _num(r["data"], language) if pd.notna(r["data"]) else "-",
                    "basis": _(r["data_basis"]) if isinstance(r["data_basis"], str) else "",
                    "agreement": _(AGREEMENT.get(r["agreement"], r["agreement"])), "flag": r["agreement"] == "disagree"}
                   for r in rows.to_dict("records")]
        few = int((rows["assessors"] < 3).sum())
        summary.append({"area": name, "severity": _num(reg["severity"], language), "interval": interval(reg),
                        "members": len(rows), "leaders": members[:3], "disagree": int((rows["agreement"] == "disagree").sum()),
                        "few": few, "severe": int((rows["p_seven"] >= 0.5).sum())})
        detail.append({"area": name, "members": members})
    return summary, detail


def build(run: dict, scores: pd.DataFrame, subs: pd.DataFrame, language: str = "es") -> dict:
    """The briefing's template context from the run, its scores and the submissions of its
    countries (ideal.store.queries.submissions_of)."""
    _ = translations(language).gettext
    labels = {k: _(v) for k, v in LEVELS.items()}
    profile = run["profile"] or load_profile(run["profile_name"])
    harm = reference.harm_weights((profile.get("harm") or {}).get("weights", "iccs"))  # the run's own
    period = run["period"]
    scope = list(run["countries"])
    top = top_threats(scores, harm, profile["top_threats"])
    info = run.get("info") or {}
    movers = {(m["country"], m["region"], m["crime_type"]): m["moved_most_by"]
              for m in (info.get("sobol") or {}).get("rank_movers") or []}
    pillar_names = pillar_labels(_)
    assumption = {"data": _("the data"), "normalisation": _("the normalisation"), "aggregation": _("the aggregation"),
                  "imputation": _("the imputation"), "harm_floor": _("the harm floor"),
                  "harm_weights": _("the harm weights")}

    def why(r) -> str:
        """In what the reader knows (#50): the yearly change, then the score's parts as points of
        the score shown (harm's factor inside them), rounded so that they add up to it, and what
        moves its rank where that differs between the rows."""
        text = ""
        change = getattr(r, "trend_change", None)
        if change is not None and pd.notna(change):
            text = _("%(change)s %% a year") % {"change": ("+" if change >= 0 else "−") + _num(abs(change) * 100, language, 0)}
        parts = [(p, getattr(r, f"contrib_{p}", None)) for p in ("magnitude", "trend", "spread")]
        parts = [(p, float(v)) for p, v in parts if v is not None and pd.notna(v) and v > 0]
        cut = getattr(r, "contrib_harm", None)
        if cut is not None and pd.notna(cut) and cut > 0:   # harm added (v2)
            parts.append(("harm", float(cut)))
        if parts and pd.notna(r.score):
            total = sum(v for _p, v in parts)
            # harm as a multiplier (v3-v5): each data pillar's points times the crime type's factor
            points = [(p, v * float(r.score) / total) for p, v in parts] if total > 0 else parts
            shown = largest_remainder([v for _p, v in points], round(float(r.score), 1))
            ordered = sorted(zip([p for p, _v in points], shown, strict=True), key=lambda kv: -kv[1])
            score_text = _("score %(score)s = %(parts)s") % {
                "score": _num(r.score, language),
                "parts": " + ".join(f"{pillar_names[p]} {_num(v, language)}" for p, v in ordered)}
            text = f"{text} · {score_text}" if text else score_text
        mover = movers.get((r.country, r.region, r.crime_type))
        if mover and mover != common_mover:  # the common one is said once, under the table
            name = assumption.get(mover, _("the weights") if mover.startswith("weight_") else mover)
            text += "; " + _("rank moved most by %(what)s") % {"what": name}
        return text

    top_movers = [movers.get((t.country, t.region, t.crime_type)) for t in top.itertuples()]
    common_mover = pd.Series([m for m in top_movers if m]).mode().iloc[0] if any(top_movers) else None
    top_rows = [{
        "why": why(r),
        "rank": i + 1,
        "country": reference.country_name(r.country, language),
        "region": reference.region_name(r.region),
        "crime": reference.crime_name(r.crime_type, language),
        **shown_rate(r, language),
        "value": _num(r.value, language, 0),
        "score": _num(r.score, language),
        "level": r.level, "level_label": labels[r.level],
        "reliability": _num(r.reliability, language) if pd.notna(r.reliability) else "-",
        "interval": (f"{int(r.rank_p5)}-{int(r.rank_p95)}" if pd.notna(r.rank_p5) else "-"),
        "chances": chances(r, language),
        "enforcement": bool(getattr(r, "enforcement", False)) if pd.notna(getattr(r, "enforcement", None)) else False,
        "imputed": bool(r.imputed) if pd.notna(r.imputed) else False,
        **marks(r),
        "data_year": int(r.data_year) if pd.notna(getattr(r, "data_year", None)) else None,
        "estimated_population": getattr(r, "population_method", "official") not in OFFICIAL_POPULATION,
    } for i, r in enumerate(top.itertuples())]

    scored_countries = sorted(scores["country"].unique())
    high = scores[scores["level"].isin(HIGH)]
    not_scored = pd.DataFrame((run.get("info") or {}).get("unscored") or [],
                              columns=["country", "region", "crime_type", "reason"])
    accounted = {c["country"]: c for c in info.get("countries") or []}
    used = set((run.get("params") or {}).get("submissions") or [])
    per_country = []
    for cc in scope:
        s = subs[subs["country"] == cc]
        mine = scores[scores["country"] == cc]
        rec = accounted.get(cc)
        if rec is not None:  # the run says what it did with each member
            status = member_status(rec, period, _)
            s_used = s[s["id"].isin(used)] if "id" in s else s
            rows = rec.get("observations", 0)
        else:  # a run stored before members were accounted for
            status = (_("data accepted") if cc in scored_countries else
                      _("not scored: %(reason)s") % {"reason": unit_reason(not_scored.loc[
                          not_scored["country"] == cc, "reason"].value_counts().index[0], _)}
                      if cc in set(not_scored["country"]) else
                      _("submission rejected") if (s["status"] == "rejected").any() else
                      _("nothing sent for the period"))
            partial = mine["partial"].dropna() if "partial" in mine else pd.Series(dtype=object)
            if len(partial):
                status += "; " + _("partial year (%(how)s)") % {"how": _partial(partial.iloc[0], _)}
            s_used, rows = s, int(s["rows_accepted"].sum())
        per_country.append({
            "code": cc, "name": reference.country_name(cc, language), "status": status,
            "assessed": cc in scored_countries,
            "reason": None if cc in scored_countries else (
                member_reason(rec, _) if rec is not None else status),
            "submissions": len(s_used), "accepted": int((s_used["status"].isin(["accepted", "superseded"])).sum()),
            "rejected": int((s["status"] == "rejected").sum()),
            "rows": _num(rows, language, 0),
            "warnings": int(s["n_warnings"].sum()), "errors": int(s["n_errors"].sum()),
            "regions": int(scores.loc[scores["country"] == cc, "region"].nunique()),
            "high": int((high["country"] == cc).sum()),
            "indicator": ", ".join(_(INDICATOR_LABELS.get(i, i)) for i in sorted(mine["indicator"].unique())) or "-",
            "population": ", ".join(_(POPULATION_LABELS.get(m, m)) for m in sorted(
                mine["population_method"].dropna().unique())) if "population_method" in mine else "-",
        })
    per_country.sort(key=lambda c: c["name"])
    missing = [c for c in per_country if c["code"] not in scored_countries]
    findings = [
        _("%(regions)s regions of %(countries)s countries and %(crimes)s crime types were assessed "
          "as of %(period)s, each country on its latest data, from %(obs)s observations.") % {
            "regions": scores["region"].nunique(), "countries": len(scored_countries),
            "crimes": scores["crime_type"].nunique(), "period": period,
            "obs": _num(run["n_observations"], language, 0)},
    ]
    first_place_said = False  # the uncertainty of the first place, said once
    if top_rows and "p_first" in top and pd.notna(top.iloc[0].get("p_first")):
        # v4: robust statements - a unit is called first only when it is first in at least half
        # of the simulations of the data; otherwise the leading group is named, with the share
        # of the simulations in which each of its members is in the top 10
        first_place_said = True
        first, t = top.iloc[0], top_rows[0]
        facts = {"crime": t["crime"].lower(), "region": t["region"], "country": t["country"],
                 "rate": t["rate"], "score": t["score"], "p": percent(first["p_first"], language),
                 "draws": (info.get("monte_carlo") or {}).get("draws", "")}
        if first["p_first"] >= 0.5:
            findings.append(_("The highest threat is %(crime)s in %(region)s (%(country)s): %(rate)s per "
                              "100,000 inhabitants, score %(score)s of 10, first in %(p)s %% of %(draws)s "
                              "simulations of the data.") % facts)
        else:
            ranked = scores[scores["p_top10"].notna()].sort_values(["p_top10", "score"], ascending=False)
            group = ranked[ranked["p_top10"] >= 0.9].head(6)
            if len(group) < 2:
                group = ranked.head(3)
            facts["group"] = leading_group(group, language, _)
            facts["least"] = percent(group["p_top10"].min(), language)
            findings.append(_("No threat is first in most simulations of the data. The leading group, each "
                              "in the top 10 in at least %(least)s %% of %(draws)s simulations: %(group)s. The "
                              "highest score, %(score)s of 10, is %(crime)s in %(region)s (%(country)s), first "
                              "in %(p)s %% of them.") % facts)
    elif top_rows:
        t = top_rows[0]
        findings.append(_("The highest relative threat is %(crime)s in %(region)s (%(country)s): "
                          "%(rate)s per 100,000 inhabitants, score %(score)s of 10.") % {
            "crime": t["crime"].lower(), "region": t["region"], "country": t["country"],
            "rate": t["rate"], "score": t["score"]})
        # say so when the uncertainty does not support the first place
        first = top.iloc[0]
        rivals = top[(top["rank_p5"] <= first["rank_p95"])] if "rank_p5" in top else top.iloc[0:0]
        if "rank_median" in top and pd.notna(first.get("rank_median")) and len(rivals) > 1:
            best = top.loc[top["rank_median"].idxmin()]
            facts = {"lo": int(first["rank_p5"]), "hi": int(first["rank_p95"]),
                     "med": int(first["rank_median"]), "n": len(rivals) - 1,
                     "crime": reference.crime_name(best["crime_type"], language).lower(),
                     "region": reference.region_name(best["region"]), "best": int(best["rank_median"])}
            first_place_said = True
            if best.name == first.name or best["rank_median"] >= first["rank_median"]:
                findings.append(_("The first place is not certain: in 90 %% of the simulations its "
                                  "rank lies between %(lo)s and %(hi)s (median %(med)s), and %(n)s "
                                  "other threats of this list could take it; none has a better "
                                  "median rank.") % facts)
            else:
                findings.append(_("The first place is not certain: in 90 %% of the simulations its rank "
                                  "lies between %(lo)s and %(hi)s (median %(med)s), and %(n)s other "
                                  "threats of this list could take it; the best median rank is that of "
                                  "%(crime)s in %(region)s (%(best)s).") % facts)
    if not high.empty:
        # shares, not raw counts: a large country has many units
        units_per = scores[scores["score"].notna()].groupby("country").size()
        share = (high.groupby("country").size() / units_per).dropna().sort_values(ascending=False)
        by_crime = high.groupby("crime_type").size().sort_values(ascending=False)
        findings.append(_("%(n)s region and crime combinations are at a high or very high level. "
                          "The largest shares of a country's combinations at those levels are in "
                          "%(countries)s; the most frequent crime at those levels is %(crime)s "
                          "(%(crn)s regions).") % {
            "n": len(high), "countries": ", ".join(
                f"{reference.country_name(c, language)} ({_num(v * 100, language, 0)} %)"
                for c, v in share.head(3).items()),
            "crime": reference.crime_name(by_crime.index[0], language).lower(), "crn": by_crime.iloc[0]})
    if missing:  # with the first sentence: what was assessed and what could not be
        findings[0] += " " + _("Not assessed: %(list)s.") % {"list": "; ".join(
            f"{c['name']} ({c['reason']})" for c in missing)}
    scored = scores[scores["score"].notna()]
    if not scored.empty and "reliability" in scores:
        low = scored[scored["reliability"] < 6]
        imputed = scored[scored["imputed"].fillna(False).astype(bool)]
        sentence = _("The mean reliability of the scores is %(r)s of 10.") % {
            "r": _num(scored["reliability"].mean(), language)}
        if len(imputed):
            sentence += " " + _("%(n)s scores use the latest value of an earlier year (%(countries)s).") % {
                "n": len(imputed), "countries": ", ".join(sorted(
                    {reference.country_name(c, language) for c in imputed["country"]}))}
        nowcast = scored[scored["partial"].fillna("").astype(str).str.startswith("nowcast")] \
            if "partial" in scored else scored.iloc[0:0]
        if len(nowcast):
            sentence += " " + _("%(n)s scores rest on a partial year whose full-year value is estimated "
                                "from the months known (%(countries)s).") % {
                "n": len(nowcast), "countries": ", ".join(sorted(
                    {reference.country_name(c, language) for c in nowcast["country"]}))}
        if len(low):
            sentence += " " + _("%(n)s have a low reliability (below 6).") % {"n": len(low)}
        insufficient = int((scores["status"] == "insufficient_data").sum()) if "status" in scores else 0
        if insufficient:
            sentence += " " + _("%(n)s region and crime combinations have too little data for a score "
                                "and are not shown.") % {"n": insufficient}
        findings.append(sentence)
        if top_rows and top_rows[0]["interval"] != "-" and not first_place_said:
            widest = max(top_rows, key=lambda t: int(t["interval"].split("-")[1]) - int(t["interval"].split("-")[0]))
            findings.append(_("Uncertainty: in 90 %% of the Monte Carlo simulations that vary "
                              "the weights, the method and the data, the rank of "
                              "%(crime)s in %(region)s lies between %(interval)s (the 5th and 95th "
                              "percentiles of its ranks), the widest of the top threats.") % {
                "crime": widest["crime"].lower(), "region": widest["region"],
                "interval": widest["interval"]})
    synthetic = bool(scores["synthetic_population"].any())
    if synthetic:
        n = scores.loc[scores["synthetic_population"], "country"].nunique()
        findings.append(_("The rates of %(n)s countries use synthetic demonstration population "
                          "figures: they must not be quoted as official.") % {"n": n})

    level_counts = [{"level": lv["level"], "label": labels[lv["level"]],
                     "count": int((scores["level"] == lv["level"]).sum())}
                    for lv in profile["bands"]]
    areas_summary, areas_detail = priority_areas(run, language, _)
    from_markets = (profile.get("priorities") or {}).get("basis") == "markets"  # v5: priorities from the markets
    every_hotspot = hotspots(scores)
    hot = every_hotspot.head(HOTSPOT_ROWS)
    created = run["created_at"]
    return {
        "language": language,
        "classification": marking(language),
        "period": period,
        "run": {"id": run["id"], "created": format_date(created, format="long", locale=language),
                "created_iso": w3c_time(created),
                "profile": run["profile_name"], "profile_version": int(profile.get("version", 0)), "profile_hash": run["profile_sha256"][:12],
                "observations": _num(run["n_observations"], language, 0),
                "scores": _num(run["n_scores"], language, 0)},
        "findings": findings,
        "priorities": (market_priorities(run, language, _) if from_markets
                       else priorities(scores, every_hotspot, language, _)),
        "where": where_track(scores, profile, language, _),
        "market_table": market_page(run, hotspots(scores, scores["hotspot"]) if "hotspot" in scores else
                                    every_hotspot.iloc[0:0], language, _) if from_markets else [],
        "bottom_line": bottom_line({**run, "profile": profile}, scores, language, _) if from_markets else [],
        "where_k": _num((profile.get("where") or {}).get("k", 2.0), language, 1),
        "where_p": _num(100 * (profile.get("where") or {}).get("hotspot", 0.8), language, 0),
        "top": top_rows,
        "top_mover": (_("Unless said on its line, what moved a threat's rank most in the method analysis: %(what)s.") % {
            "what": assumption.get(common_mover, _("the weights") if common_mover.startswith("weight_") else common_mover)}
            if common_mover else None),
        "markets": _markets(scores, language),
        "areas": areas_summary,
        "areas_detail": areas_detail,
        "emerging": [{"country": reference.country_name(w["country"], language), "region": reference.region_name(w["region"]),
                      "crime": reference.crime_name(w["crime_type"], language, short=True), "started": w["started"],
                      "ratio": _num(w["ratio"], language), "baseline": _num(w["baseline"], language),
                      "recent": _num(w["recent"], language)}
                     for w in (info.get("early_warning") or [])[:8]],
        "early_warning": "early_warning" in info,
        "ew_bench": ({k: _num(100 * v, language, 1 if v < 0.1 else 0) for k, v in EARLY_WARNING_BENCH.items()}
                     if (info.get("monitoring") or {}).get("dispersion") == "empirical_bayes" else None),
        "monitoring": info.get("monitoring"),
        "hotspots": [{"crime": reference.crime_name(h.crime_type, language, short=True),
                      "a": reference.region_name(h.region_a), "a_country": reference.country_name(h.country_a, language),
                      "a_score": _num(h.score_a, language), "a_level": h.level_a, "a_label": labels[h.level_a],
                      "b": reference.region_name(h.region_b), "b_country": reference.country_name(h.country_b, language),
                      "b_score": _num(h.score_b, language), "b_level": h.level_b, "b_label": labels[h.level_b]}
                     for h in hot.itertuples()],
        "hotspot_pairs": hot,  # the rows shown, for the inset map (ignored by the template)
        "hotspots_total": len(every_hotspot),
        "shared_shapes": shared_shapes(scope),
        "countries": per_country,
        "assessed": [c for c in per_country if c["assessed"]],
        "not_assessed": missing,
        "national": [{"country": reference.country_name(n["country"], language),
                      "crime": reference.crime_name(n["crime_type"], language, short=True),
                      "rate": _num(n["rate"], language) if n.get("rate") is not None else "-",
                      "value": _num(n["value"], language, 0) if n.get("value") is not None else "-",
                      "year": n["data_year"], "partial": bool(n.get("partial"))}
                     for n in info.get("national") or []],
        "remainder": [{"country": reference.country_name(r["country"], language),
                       "crime": reference.crime_name(r["crime_type"], language, short=True),
                       "value": _num(r["value"], language, 0), "national": _num(r["national_value"], language, 0),
                       "share": _num(100 * r["share"], language, 1) if r.get("share") is not None else "-",
                       "rate": _num(r["national_rate"], language, 1) if r.get("national_rate") is not None else "-",
                       "year": r["data_year"]}
                      for r in info.get("remainder") or []],
        "other_years": other_years(info.get("other_years"), language),
        "partial_classes": [{"country": reference.country_name(r["country"], language),
                             "crime": reference.crime_name(r["crime_type"], language, short=True),
                             "part": r["part"], "regions": r["regions"], "value": _num(r["value"], language, 0),
                             "rate": _num(r["rate"], language, 1) if r.get("rate") is not None else "-",
                             "year": r["data_year"]}
                            for r in info.get("partial_classes") or []],
        "partial_year": profile.get("partial_year") or {},
        "levels": level_counts,
        "bands": [{"label": labels[b["level"]], "max": b["max"]} for b in profile["bands"]],
        "rate_per": _num(profile["rate_per"], language, 0),
        "weights": _weights(profile, language),
        "harm_scale": _harm_scale(profile, harm, language),
        "model": _model_facts(profile, language),
        "draws": profile.get("uncertainty", {}).get("draws"),
        "mc_data": bool(profile.get("uncertainty", {}).get("data_variants")),
        "log_goalposts": profile.get("normalisation", {}).get("goalposts_scale") == "log",
        "synthetic": synthetic,
    }
