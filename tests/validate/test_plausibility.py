import pandas as pd

from ideal.config import get_settings
from ideal.validate import plausibility as p

CFG = p.checks_config()
COLS = ["country", "region", "period", "crime_type", "indicator", "value_number", "source_row", "action"]
HIST = ["region", "period", "crime_type", "indicator", "value_number"]


def frame(rows):
    return pd.DataFrame([(*r, i + 2, "I") for i, r in enumerate(rows)], columns=COLS)


def history(rows):
    return pd.DataFrame(rows, columns=HIST)


def test_national_total_beside_regions_keeps_regions_and_checks_the_sum():
    f = frame([("MX", "MX", "2024", "0101", "incidents", 30.0),
               ("MX", "MX-JAL", "2024", "0101", "incidents", 10.0),
               ("MX", "MX-COL", "2024", "0101", "incidents", 20.0),
               ("MX", "MX", "2024", "0601", "incidents", 7.0)])
    kept, found = p.national_beside_regions(f, CFG["national_beside_regions"])
    assert sorted(kept["region"]) == ["MX", "MX-COL", "MX-JAL"]  # 0601 national kept: no regions
    assert "equals the sum of the regions in 1 of 1" in found[0][5]
    f.loc[0, "value_number"] = 31.0
    _, found = p.national_beside_regions(f, CFG["national_beside_regions"])
    assert "differs in 1" in found[0][5]


def test_regional_total_beside_its_municipalities_keeps_one_level():
    f = frame([("CO", "CO-ANT", "2024", "0101", "victims", 12.0),
               ("CO", "CO-05001", "2024", "0101", "victims", 5.0),
               ("CO", "CO-05088", "2024", "0101", "victims", 7.0),
               ("CO", "CO-DC", "2024", "0101", "victims", 9.0),  # no municipality of Bogotá sent
               ("CO", "CO-ANT", "2024", "0102", "victims", 4.0)])
    cfg = CFG["regions_beside_municipalities"]
    kept, found = p.regions_beside_municipalities(f, cfg)
    assert sorted(kept["region"]) == ["CO-05001", "CO-05088", "CO-ANT", "CO-DC"]
    assert kept[kept["region"] == "CO-ANT"]["crime_type"].tolist() == ["0102"]  # no municipalities: kept
    assert found[0][1] == "regions_beside_municipalities" and found[0][4] == "CO-ANT"
    assert "equals the sum of the municipalities in 1 of 1" in found[0][5]
    kept, _ = p.regions_beside_municipalities(f, {**cfg, "keep": "regions"})
    assert sorted(kept["region"]) == ["CO-ANT", "CO-ANT", "CO-DC"]
    # a file of first-level regions only is returned as it is, with nothing to say
    same, none = p.regions_beside_municipalities(f[~f["region"].str.contains(r"\d")], cfg)
    assert len(same) == 3 and none == []


def test_iccs_parent_and_child():
    f = frame([("MX", "MX-JAL", "2024", "0202", "incidents", 3.0),
               ("MX", "MX-JAL", "2024", "02022", "incidents", 2.0)])
    assert "0202 + 02022" in p.iccs_parent_and_child(f, CFG["iccs_parent_and_child"])[0][4]


def test_partial_year_flagged_against_the_previous_year_in_file_or_history():
    f = frame([("MX", "MX-JAL", "2024", "0101", "incidents", 100.0),
               ("MX", "MX-JAL", "2025", "0101", "incidents", 48.0)])
    found = p.partial_period(f, history([]), CFG["partial_period"])
    assert found and "2025 looks partial" in found[0][5] and "48%" in found[0][5]
    only_2025 = f[f["period"] == "2025"]
    assert p.partial_period(only_2025, history([("MX-JAL", "2024", "0101", "incidents", 100.0)]),
                            CFG["partial_period"])
    assert not p.partial_period(frame([("MX", "MX-JAL", "2025", "0101", "incidents", 95.0)]),
                                history([("MX-JAL", "2024", "0101", "incidents", 100.0)]),
                                CFG["partial_period"])


def test_change_against_previous_period_asks_to_confirm():
    h = history([("MX-JAL", "2024", "0101", "incidents", 100.0)])
    found = p.change_vs_previous(frame([("MX", "MX-JAL", "2025", "0101", "incidents", 300.0)]), h,
                                 CFG["change_vs_previous"])
    assert "+200%" in found[0][5] and "confirm" in found[0][5]
    assert not p.change_vs_previous(frame([("MX", "MX-JAL", "2025", "0101", "incidents", 120.0)]), h,
                                    CFG["change_vs_previous"])
    # small numbers: 1 -> 4 is +300% but below the minimum difference
    assert not p.change_vs_previous(frame([("MX", "MX-JAL", "2025", "0101", "incidents", 4.0)]),
                                    history([("MX-JAL", "2024", "0101", "incidents", 1.0)]),
                                    CFG["change_vs_previous"])


def test_revision_and_disappeared():
    h = history([("MX-JAL", "2024", "0101", "incidents", 100.0),
                 ("MX-COL", "2024", "0101", "incidents", 5.0),
                 ("MX-JAL", "2024", "0601", "incidents", 5.0)])
    f = frame([("MX", "MX-JAL", "2024", "0101", "incidents", 150.0),
               ("MX", "MX-JAL", "2025", "0101", "incidents", 150.0)])
    rev = p.revision_of_stored(f, h, CFG["revision_of_stored"])
    assert "revises the stored value 100 to 150" in rev[0][5]
    gone = {x[2]: x[4] for x in p.disappeared(f, h, CFG["disappeared"])}
    assert gone == {"region": "MX-COL", "crime_type": "0601"}


def test_severity_is_configuration(tmp_path, monkeypatch):
    over = tmp_path / "checks.yaml"
    over.write_text("partial_period: {severity: error}\n")
    monkeypatch.setenv("IDEAL_CHECKS", str(over))
    f = frame([("MX", "MX-JAL", "2024", "0101", "incidents", 100.0),
               ("MX", "MX-JAL", "2025", "0101", "incidents", 40.0)])
    _, found = p.run(f, history([]), get_settings().checks_path)
    assert found.set_index("rule").at["partial_period", "severity"] == "error"


def test_another_indicator_of_the_same_crime_types_has_not_disappeared():
    h = history([("MX-JAL", "2023", "0101", "incidents", 10.0), ("MX-COL", "2023", "0101", "incidents", 5.0)])
    victims = frame([("MX", "MX-JAL", "2024", "0101", "victims", 12.0)])
    assert p.disappeared(victims, h, CFG["disappeared"]) == []
    incidents = frame([("MX", "MX-JAL", "2024", "0101", "incidents", 12.0)])
    assert [x[4] for x in p.disappeared(incidents, h, CFG["disappeared"])] == ["MX-COL"]


def test_the_checks_read_only_the_stored_years_they_compare_with(monkeypatch):
    """#33: the checks joined a country's whole history to each file; they now take its periods
    and the year before each, and find exactly what they found with everything."""
    from ideal.ingest.demo import country_frame

    stored = country_frame("MX", years=list(range(2015, 2025)))
    stored = stored.assign(value_number=stored["value"].astype(float))
    sent = country_frame("MX", years=[2025])
    sent = sent.assign(value_number=sent["value"].astype(float) * 1.0, source_row=range(2, len(sent) + 2),
                       action="I")
    sent.loc[sent.index[:5], "value_number"] *= 3  # large changes against 2024
    sent = sent[sent["region"] != "MX-COL"]  # a region sent for 2024, missing for 2025
    kept = p._relevant(stored, sent)
    assert set(kept["period"]) == {"2024"} and len(kept) < len(stored) / 5
    _, found = p.run(sent, stored)
    monkeypatch.setattr(p, "_relevant", lambda history, _frame: history)
    _, everything = p.run(sent, stored)
    assert {"change_vs_previous", "disappeared"} <= set(found["rule"])
    pd.testing.assert_frame_equal(found.drop(columns="said"), everything.drop(columns="said"))


def test_a_period_of_unicode_digits_is_no_year_to_compare_with():
    """bench/fuzz.py through a running server: a period '201²' (str.isdigit is true for '²')
    answered 500."""
    frame = pd.DataFrame({"country": ["MX"], "region": ["MX-JAL"], "period": ["201²"], "crime_type": ["0101"],
                          "indicator": ["incidents"], "value": ["3"], "value_number": [3.0], "obs_status": ["A"],
                          "source_row": [2], "action": ["I"]})
    history = pd.DataFrame({"region": ["MX-JAL"], "period": ["2023"], "crime_type": ["0101"],
                            "indicator": ["incidents"], "value_number": [100.0]})
    to_load, found = p.run(frame, history)
    assert len(to_load) == 1
