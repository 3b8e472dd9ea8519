"""Maps of a run from the shipped boundaries (ideal.reference.boundaries): the threat level by
region, the levels of one crime type, and the cross-border hotspots (regions of two members that
share a border and are both at a high or very high level for the same crime type)."""

from __future__ import annotations

import pandas as pd

from ideal import reference
from ideal.config import get_settings
from ideal.contracts import LEVEL_NAMES
from ideal.i18n import translations
from ideal.report import charts

LEVEL_ORDER = ("very_low", "low", "medium", "high", "very_high")
LEVEL_COLOURS = {"very_low": "#ffffcc", "low": "#fed976", "medium": "#fd8d3c", "high": "#e31a1c",
                 "very_high": "#800026"}  # as the level badges of briefing.css
HIGH = ("high", "very_high")
NO_DATA = "#ffffff"   # hatched: a region of a country of the run without a score
OUTSIDE = "#e4e4e4"   # a member outside the run
QUIET = "#ececec"     # on the hotspot map: a region of the run that is not a hotspot


def region_levels(scores: pd.DataFrame, crime_type: str | None = None) -> dict[str, str]:
    """Region -> its highest threat level (of one crime type, or of any)."""
    s = scores[scores["level"].isin(LEVEL_ORDER)]
    if crime_type is not None:
        s = s[s["crime_type"] == crime_type]
    if s.empty:
        return {}
    rank = s["level"].map(LEVEL_ORDER.index)
    best = rank.groupby(s["region"]).max()
    return {region: LEVEL_ORDER[int(r)] for region, r in best.items()}


def _fills(levels: dict[str, str], scope: set[str], quiet: bool = False) -> list[dict]:
    """One drawable shape per boundary: coloured by the highest level of the regions it covers
    (a shape drawn for two regions takes the higher), hatched where the run has no score for it,
    grey outside the run's countries."""
    shapes = []
    for f in reference.boundaries()["features"]:
        p = f["properties"]
        known = [levels[r] for r in p["covers"] if r in levels]
        if known:
            fill, hatch = LEVEL_COLOURS[max(known, key=LEVEL_ORDER.index)], False
        elif p["country"] in scope:
            fill, hatch = (QUIET, False) if quiet else (NO_DATA, True)
        else:
            fill, hatch = OUTSIDE, False
        shapes.append({"geometry": f["geometry"], "fill": fill, "hatch": hatch})
    return shapes


def legend_for(scope: list[str], language: str) -> list[tuple[str, str, bool]]:
    """The maps' legend in the language: the levels, no score, and members outside the run."""
    _ = translations(language).gettext
    labels = {k: _(v) for k, v in LEVEL_NAMES.items()}
    outside = _("member outside this run") if set(get_settings().members) - set(scope) else None
    return legend(labels, _("no score"), outside)


def legend(labels: dict[str, str], no_data: str, outside: str | None) -> list[tuple[str, str, bool]]:
    """Legend rows, highest level first: (label, colour, hatched)."""
    rows = [(labels[lv], LEVEL_COLOURS[lv], False) for lv in reversed(LEVEL_ORDER)]
    rows.append((no_data, NO_DATA, True))
    if outside:
        rows.append((outside, OUTSIDE, False))
    return rows


MEMBERS_EXTENT = (-118.0, -56.0, -33.5, 33.0)  # the mainland of the 18 members (Easter Island, 109 W, off it)
MAP_CRIMES = 6  # the leading crime types (by their highest score) get a map each in the annex: three pages
SMALL = (3.35, 3.3)  # inches: the annex's maps, two to a row (49 % of the 6.85 in text width: printed 1:1)
BRIEFING_MAPS = 4  # the briefing's small multiples: the leading crime markets


def leading_crime_types(scores: pd.DataFrame, n: int = MAP_CRIMES) -> list[str]:
    """The ``n`` crime types with the highest scores, highest first."""
    best = scores.loc[scores["score"].notna()].groupby("crime_type")["score"].max()
    return best.sort_values(ascending=False, kind="stable").index[:n].tolist()


def level_map(scores: pd.DataFrame, scope: list[str], legend_rows: list, crime_type: str | None = None,
              size: tuple[float, float] = (7.2, 7.0)) -> bytes:
    """The members' regions coloured by threat level (the highest of any crime type, or of one)."""
    return charts.choropleth(_fills(region_levels(scores, crime_type), set(scope)), reference.boundaries()["countries"],
                             legend_rows, extent=MEMBERS_EXTENT, size=size, legend_loc="lower left")


def market_maps(scores: pd.DataFrame, scope: list[str], crimes: list[str], titles: list[str],
                legend_rows: list) -> bytes:
    """Small multiples: one map per crime market (each region at its level for that crime type,
    not the highest of any), two to a row, one legend; printed at the page's text width."""
    doc = reference.boundaries()
    panels = [(title, _fills(region_levels(scores, crime), set(scope))) for crime, title in zip(crimes, titles, strict=True)]
    return charts.choropleths(panels, doc["countries"], legend_rows, extent=MEMBERS_EXTENT)


def shared_shapes(scope: list[str]) -> list[str]:
    """"Region (region it is drawn with)" for the run's countries: regions created after the
    boundaries were drawn."""
    return [f"{reference.region_name(new)} ({reference.region_name(s['drawn_with'])})"
            for new, s in reference.boundaries()["shared"].items() if new.split("-")[0] in scope]


def hotspots(scores: pd.DataFrame, mask: pd.Series | None = None) -> pd.DataFrame:
    """Pairs of neighbouring regions of two members both at a high or very high level for the same
    crime type (or both in ``mask``: v5's hotspots): crime_type, region_a, country_a, score_a,
    level_a, region_b, ... (a's country first alphabetically), the strongest pair (by its lower
    score) first."""
    cols = ["region", "country", "crime_type", "score", "level"]
    chosen = scores["level"].isin(HIGH) if mask is None else mask.fillna(False).astype(bool)
    high = scores.loc[chosen & scores["score"].notna(), cols]
    # joined through the list of neighbours (linear in the scores: a municipal run has tens of
    # thousands of high units, whose pairs by crime type alone would not fit in memory)
    neighbours = pd.DataFrame(sorted(reference.cross_border()), columns=["region_a", "region_b"])
    pairs = (neighbours.merge(high.add_suffix("_a"), on="region_a")
             .merge(high.add_suffix("_b"), left_on=["region_b", "crime_type_a"],
                    right_on=["region_b", "crime_type_b"]))
    pairs = pairs[pairs["country_a"] < pairs["country_b"]].rename(columns={"crime_type_a": "crime_type"})
    pairs = pairs[["region_a", "country_a", "crime_type", "score_a", "level_a",
                   "region_b", "country_b", "score_b", "level_b"]]
    order = pairs[["score_a", "score_b"]].min(axis=1).sort_values(ascending=False, kind="stable").index
    return pairs.loc[order].reset_index(drop=True)


def hotspot_map(pairs: pd.DataFrame, scope: list[str], legend_rows: list,
                size: tuple[float, float] = (6.85, 2.8)) -> bytes:
    """The regions of the hotspots at their highest level, framed on them, each named in a
    column beside the map with a leader line to it (no label over a fill)."""
    doc = reference.boundaries()
    points = {f["properties"]["region"]: f["properties"]["point"] for f in doc["features"]}
    geoms = {f["properties"]["region"]: f["geometry"] for f in doc["features"]}
    levels = region_levels(pd.DataFrame({  # both sides of every pair, each region at its highest level
        "region": [*pairs["region_a"], *pairs["region_b"]], "level": [*pairs["level_a"], *pairs["level_b"]]}))
    west, south, east, north = charts.bounds([geoms[_drawn(r)] for r in levels], margin=0.6)
    marks = [(*points[_drawn(r)], reference.region_name(r)) for r in sorted(levels)]
    return charts.choropleth(_fills(levels, set(scope), quiet=True), doc["countries"], legend_rows,
                             extent=(west, south, east, north), marks=marks, size=size)


def _drawn(region: str) -> str:
    """The region whose shape draws ``region``."""
    return reference.boundaries()["shared"].get(region, {}).get("drawn_with", region)


# v5's WHERE track (#50): each region by its P(rate > k x the members' median) for one crime
# type, on the whole region and on an inset of Central America and the Caribbean, where 7 of
# the 18 members are a few millimetres wide at print size
P_BANDS = ((0.8, "#54278f"), (0.5, "#9e9ac8"), (0.2, "#dadaeb"), (0.0, "#f6f5fa"))
WHERE_MAPS = 2  # the briefing's WHERE maps: two crime types, each with its inset
INSET_EXTENT = (-93.5, 6.8, -59.5, 22.5)  # Guatemala to Barbados, Panama to Cuba


def where_legend(language: str) -> list[tuple[str, str, bool]]:
    """The WHERE maps' legend: the bands of P(above the threshold), a hotspot first."""
    _ = translations(language).gettext
    return [(_("hotspot (P ≥ 80 %)"), P_BANDS[0][1], False), (_("P 50-80 %"), P_BANDS[1][1], False),
            (_("P 20-50 %"), P_BANDS[2][1], False), (_("P < 20 %"), P_BANDS[3][1], False),
            (_("no score"), NO_DATA, True)]


def where_fills(scores: pd.DataFrame, crime_type: str, scope: set[str]) -> list[dict]:
    """One shape per boundary coloured by the highest P(exceed) of the regions it covers for
    ``crime_type`` (hatched without one, grey outside the run)."""
    s = scores[(scores["crime_type"] == crime_type) & scores["p_exceed"].notna()]
    best = s.groupby("region")["p_exceed"].max().to_dict() if len(s) else {}
    shapes = []
    for f in reference.boundaries()["features"]:
        p = f["properties"]
        known = [best[r] for r in p["covers"] if r in best]
        if known:
            fill, hatch = next(c for cut, c in P_BANDS if max(known) >= cut), False
        elif p["country"] in scope:
            fill, hatch = NO_DATA, True
        else:
            fill, hatch = OUTSIDE, False
        shapes.append({"geometry": f["geometry"], "fill": fill, "hatch": hatch})
    return shapes


def where_maps(scores: pd.DataFrame, scope: list[str], crime_type: str, language: str) -> tuple[bytes, bytes]:
    """(the members' mainland, the inset) of one crime type's P(exceed), each printed at half
    the text width; the legend on the first."""
    shapes = where_fills(scores, crime_type, set(scope))
    outlines = reference.boundaries()["countries"]
    whole = charts.choropleth(shapes, outlines, where_legend(language), extent=MEMBERS_EXTENT, size=SMALL,
                              legend_loc="lower left")
    inset = charts.choropleth(shapes, outlines, [], extent=INSET_EXTENT, size=(SMALL[0], SMALL[1] * 0.62))
    return whole, inset
