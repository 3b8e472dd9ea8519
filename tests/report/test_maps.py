"""Boundaries matched to the reference regions, neighbours across borders, hotspots and the maps."""

from __future__ import annotations

import pandas as pd
import pytest
from shapely.geometry import shape

from ideal import reference
from ideal.config import DEFAULT_MEMBERS
from ideal.report import maps


def test_every_region_of_the_reference_list_has_a_shape_and_every_shape_a_region():
    doc = reference.boundaries()
    expected = set(reference.regions(DEFAULT_MEMBERS)["region"])
    drawn = [f["properties"]["region"] for f in doc["features"]]
    covered = [r for f in doc["features"] for r in f["properties"]["covers"]]
    assert len(drawn) == len(set(drawn)) and len(covered) == len(set(covered))  # no region twice
    assert set(covered) == expected
    assert set(drawn) <= expected
    # the regions without a shape of their own are those created after the boundaries were drawn
    assert set(covered) - set(drawn) == set(doc["shared"]) == {"CL-NB", "PA-10", "PA-NT"}
    for f in doc["features"]:
        geom = shape(f["geometry"])
        assert geom.is_valid and not geom.is_empty, f["properties"]["region"]
        west, south, east, north = geom.bounds
        assert -120 < west and east < -28 and -60 < south and north < 35  # Trindade (BR-ES) at 29.3 W
        assert geom.buffer(0.05).contains(shape({"type": "Point", "coordinates": f["properties"]["point"]}))
    assert "Natural Earth" in doc["source"] and "public domain" in doc["licence"]


def test_mislabelled_shapes_land_where_they_are():
    points = {f["properties"]["region"]: f["properties"]["point"] for f in reference.boundaries()["features"]}
    lon, lat = points["PE-PUN"]  # labelled "Callao" in the package: it is by Lake Titicaca
    assert -71.5 < lon < -68.5 and -17.5 < lat < -13
    lon, lat = points["PE-CAL"]  # Callao, by Lima
    assert -77.3 < lon < -76.9 and -12.2 < lat < -11.8
    lon, lat = points["DO-40"]  # Ozama: the Distrito Nacional and Santo Domingo province
    assert -70.2 < lon < -69.4 and 18.2 < lat < 19.0


@pytest.mark.parametrize("a, b", [
    ("MX-CHP", "GT-13"), ("GT-17", "MX-CAM"), ("CO-NSA", "VE-S"), ("AR-N", "BR-PR"), ("BR-PR", "PY-10"),
    ("BO-L", "PE-PUN"), ("CO-NAR", "EC-C"), ("CR-L", "PA-1"), ("HN-OC", "SV-CH"), ("BR-RS", "UY-RV"),
    ("CL-AP", "PE-TAC"), ("AR-M", "CL-RM"), ("CO-PUT", "EC-U"), ("BR-AM", "PE-LOR"), ("HN-CH", "NI-CI")])
def test_known_neighbours_across_borders(a, b):
    assert (a, b) in reference.cross_border() and (b, a) in reference.cross_border()


@pytest.mark.parametrize("a, b", [
    ("MX-YUC", "GT-17"),   # Yucatán does not reach Guatemala
    ("AR-B", "UY-CO"),     # the Río de la Plata between them
    ("BR-SP", "PY-10"), ("CL-RM", "BO-O"), ("CO-DC", "VE-S"), ("PE-CAL", "BO-L"),
    ("MX-CHP", "MX-TAB"),  # neighbours, but of one country: not a cross-border pair
])
def test_regions_that_are_not_neighbours_across_a_border(a, b):
    assert (a, b) not in reference.cross_border()


def _scores(rows):
    return pd.DataFrame(rows, columns=["country", "region", "crime_type", "score", "level"])


def test_hotspots_are_neighbours_of_two_members_high_for_the_same_crime_type():
    s = _scores([
        ("MX", "MX-CHP", "0101", 7.5, "high"), ("GT", "GT-13", "0101", 8.8, "very_high"),
        ("GT", "GT-13", "0202", 7.0, "high"), ("MX", "MX-CHP", "0202", 5.0, "medium"),  # one side not high
        ("MX", "MX-TAB", "0101", 7.1, "high"),                                          # same country as CHP
        ("MX", "MX-YUC", "0101", 9.9, "very_high"),                                     # not a neighbour of GT-13
        ("CO", "CO-NSA", "0401", 6.5, "high"), ("VE", "VE-S", "0401", 9.0, "very_high"),
        ("CO", "CO-NAR", "0101", None, None),                                           # no score
    ])
    hot = maps.hotspots(s)
    assert list(zip(hot["crime_type"], hot["region_a"], hot["region_b"], strict=True)) == [
        ("0101", "GT-13", "MX-CHP"),  # the stronger pair (lower score 7.5) first
        ("0401", "CO-NSA", "VE-S")]
    assert hot.loc[0, "score_a"] == 8.8 and hot.loc[0, "level_b"] == "high"
    assert maps.hotspots(_scores([("MX", "MX-CHP", "0101", 5.0, "medium")])).empty


def test_hotspots_stay_linear_in_the_scores_of_a_municipal_run():
    """40,000 high units of two members (a municipal run): their pairs by crime type alone
    would be 400 million rows; through the neighbours list only the neighbouring pairs are."""
    rows = [("BR", f"BR-{i:05d}", "0101", 8.0, "high") for i in range(20_000)]
    rows += [("CO", f"CO-{i:05d}", "0101", 8.0, "high") for i in range(20_000)]
    rows += [("BR", "BR-AM", "0101", 7.0, "high"), ("CO", "CO-AMA", "0101", 9.0, "very_high")]
    hot = maps.hotspots(_scores(rows))
    assert list(zip(hot["region_a"], hot["region_b"], strict=True)) == [("BR-AM", "CO-AMA")]


def test_region_levels_take_the_highest_and_a_shared_shape_the_higher_of_its_regions():
    s = _scores([("CL", "CL-BI", "0101", 2.0, "low"), ("CL", "CL-BI", "0401", 6.0, "medium"),
                 ("CL", "CL-NB", "0101", 9.0, "very_high")])
    assert maps.region_levels(s) == {"CL-BI": "medium", "CL-NB": "very_high"}
    assert maps.region_levels(s, "0401") == {"CL-BI": "medium"}
    fills = {f["properties"]["region"]: shape_fill for f, shape_fill in zip(
        reference.boundaries()["features"], maps._fills(maps.region_levels(s), {"CL", "AR"}), strict=True)}
    assert fills["CL-BI"]["fill"] == maps.LEVEL_COLOURS["very_high"]  # Biobío's shape holds Ñuble
    assert fills["CL-VS"]["hatch"] and fills["CL-VS"]["fill"] == maps.NO_DATA  # in the run, no score
    assert fills["AR-B"]["hatch"]
    assert not fills["MX-JAL"]["hatch"] and fills["MX-JAL"]["fill"] == maps.OUTSIDE  # not in the run


def test_level_map_and_hotspot_map_are_vector_svg_with_their_legend():
    s = _scores([("MX", "MX-CHP", "0101", 7.5, "high"), ("GT", "GT-13", "0101", 8.8, "very_high"),
                 ("MX", "MX-JAL", "0101", 1.0, "very_low")])
    legend = maps.legend_for(["MX", "GT"], "pt")
    svg = maps.level_map(s, ["MX", "GT"], legend).decode()
    assert svg.startswith("<?xml") and "<image" not in svg
    assert "muito alto" in svg and "sem pontuação" in svg and "membro fora desta avaliação" in svg
    assert "<pattern" in svg  # the hatching of the regions without a score
    inset = maps.hotspot_map(maps.hotspots(s), ["MX", "GT"], legend[:2]).decode()
    assert "Chiapas" in inset and "Huehuetenango" in inset and "<image" not in inset


def test_a_boundary_is_simplified_once_per_print_size():
    """#33: the briefing's and the annex's small multiples simplified the same boundaries for
    every panel at the same tolerance; each is now simplified once (per geometry and tolerance)."""
    from ideal import reference
    from ideal.report import charts

    geometry = reference.boundaries()["features"][0]["geometry"]
    first = charts._path(geometry, 0.05)
    assert charts._path(geometry, 0.05) is first
    assert charts._path(geometry, 0.01) is not first  # another print size: simplified again
    copy = {"type": geometry["type"], "coordinates": geometry["coordinates"]}
    assert charts._path(copy, 0.05) is not first  # another object is never taken for this one
    assert len(charts._path(geometry, 0.0).vertices) > len(first.vertices)
