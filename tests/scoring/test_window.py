"""Which year each member is assessed on (ideal.scoring.window): the reference year and each
member's status, on the shapes real exports come in (annual, monthly, quarterly, partial)."""

import pandas as pd

from ideal.scoring import window as w


def cy(rows):
    return pd.DataFrame(rows, columns=["country", "year", "period", "coverage", "n"])


KNOWN = w.months_known(cy([
    ("BR", 2021, "2021", None, 100), ("BR", 2022, "2022", None, 120),          # up to 2022
    ("CR", 2023, "2023", "3/12: 01-03", 63),                                    # Jan-Mar 2023
    *[("EC", 2024, f"2024-{m:02d}", None, 10) for m in range(1, 13)],           # monthly 2024
    *[("EC", 2025, f"2025-{m:02d}", None, 10) for m in range(1, 12)],           # to November 2025
    ("NI", 2019, "2019", None, 50),                                             # too old
    ("PE", 2024, "2024-Q1", None, 5), ("PE", 2024, "2024-Q2", None, 5),         # half a year
]))


def test_months_known_reads_annual_monthly_quarterly_and_stated_coverage():
    k = KNOWN.set_index(["country", "year"])["months"]
    assert k[("BR", 2022)] == 12 and k[("CR", 2023)] == 3
    assert k[("EC", 2024)] == 12 and k[("EC", 2025)] == 11 and k[("PE", 2024)] == 6
    assert KNOWN.set_index(["country", "year"]).at[("EC", 2025), "n"] == 110


def test_the_reference_year_assesses_the_most_members_and_says_what_other_years_add():
    """#47: five members, the default (the latest complete year, 2024) left out Ecuador, whose
    file holds 11 months of 2025; 2025 assesses as many, Ecuador among them."""
    known = w.months_known(cy([
        *[(cc, y, str(y), None, 100) for cc in ("AR", "CL", "MX", "UY") for y in (2023, 2024)],
        *[("EC", 2025, f"2025-{m:02d}", None, 10) for m in range(1, 12)]]))
    members = ["AR", "CL", "EC", "MX", "UY"]
    year, others = w.best_year(known, members, carry=1, need=6)
    assert year == 2025 and others == []  # no year adds a member to 2025
    year, others = w.best_year(known, members, carry=1, need=6, year=2024)  # asked for 2024
    assert others == [{"year": 2025, "assessed": 5, "adds": ["EC"], "leaves_out": []}]
    # only complete years scored: EC is assessed in no year, the others in 2023-2025 alike, and
    # on their own year's data in 2023 and 2024 only: the latest of those
    year, others = w.best_year(known, members, carry=1, need=None)
    assert year == 2024 and others == []
    assert w.best_year(KNOWN, ["BR", "CR"], 2, 6)[0] == 2022  # BR on its own 2022 data; CR never
    assert w.best_year(KNOWN, ["VE"], 2, 6) == (None, [])


def test_each_member_is_assessed_on_its_latest_year_in_the_window_or_told_why_not():
    s = {r["country"]: r for r in w.statuses(KNOWN, ["BR", "CR", "EC", "NI", "PE", "VE", "UY"], 2024, 2, 6,
                                             {"VE": ["VE-1"]})}
    assert s["BR"]["status"] == "assessed" and s["BR"]["data_year"] == 2022
    assert s["EC"]["data_year"] == 2024 and s["EC"]["later"] == "2025 (11/12)"
    assert s["PE"]["status"] == "assessed" and s["PE"]["months"] == 6       # nowcast from 6 months
    assert s["CR"]["status"] == "not_assessed"
    assert s["CR"]["reason"] == "2023 covers 3 of 12 months, fewer than the 6 needed, and no complete year in 2022-2024"
    assert s["NI"]["reason"] == "latest data are for 2019, older than the window 2022-2024"
    assert s["VE"]["reason"] == "submission rejected (VE-1); no accepted data"
    assert s["UY"]["reason"] == "no data submitted"
    # an earlier reference year: EC's data are all after it
    early = {r["country"]: r for r in w.statuses(KNOWN, ["EC"], 2021, 2, 6)}
    assert early["EC"]["reason"].startswith("no data in 2019-2021; its data are for 2024 (12/12)")


def test_need_months_follows_the_profile():
    assert w.need_months({"partial_year": {"method": "nowcast", "nowcast_from_months": 6,
                                           "annualise_from_months": 9}}) == 6
    assert w.need_months({"partial_year": {"annualise_from_months": 9}}) == 9
    assert w.need_months({}) is None


def test_account_completes_each_member_with_what_the_run_did():
    statuses = w.statuses(KNOWN, ["BR", "CR", "PE", "GT"], 2024, 2, 6)
    scores = pd.DataFrame({"country": ["BR", "BR"], "data_year": [2022, 2022], "partial": [None, "nowcast 6/12: 80-120"]})
    unscored = pd.DataFrame({"country": ["PE", "PE"], "region": ["PE-LIM", "PE-CUS"], "crime_type": ["0101"] * 2,
                             "reason": ["no population figure for 2024"] * 2})
    national = [{"country": "CR", "crime_type": "0101", "data_year": 2023}]
    out = {r["country"]: r for r in w.account(statuses, scores, unscored, national, {"BR": 220})}
    assert out["BR"]["status"] == "assessed" and out["BR"]["data_years"] == {"2022": 2}
    assert out["BR"]["observations"] == 220
    assert out["BR"]["nowcast"] == 1
    assert out["PE"]["status"] == "not_assessed"     # data in the window, but no unit could be scored
    assert out["PE"]["reason"] == "no population figure for 2024 (2 of 2 region x crime units)"
    assert out["CR"]["status"] == w.NATIONAL_ONLY
    assert out["GT"]["status"] == "not_assessed"
    assert out["GT"]["reason"] == "no data submitted"    # the window's reason comes first
    message = w.nothing_scored("2024", list(out.values()))
    assert "GT: no data submitted" in message and "BR:" in message


def test_what_another_year_would_add_is_said_in_the_readers_language():
    from ideal.report.context import other_years

    years = [{"year": 2025, "assessed": 5, "adds": ["EC"], "leaves_out": ["NI"]}]
    assert other_years(years, "es") == ["2025 también evaluaría a Ecuador y dejaría fuera a Nicaragua."]
    assert other_years(years, "en") == ["2025 would also assess Ecuador and leave out Nicaragua."]
