"""How much of a year each unit's months or quarters cover (ideal.ingest.periods.coverage)."""

import pandas as pd

from ideal.ingest.periods import coverage


def _frame(rows):
    return pd.DataFrame(rows, columns=["region", "crime_type", "indicator", "period"]).assign(
        country="MX", value_number=1.0, source_row=lambda d: range(2, len(d) + 2), action="I")


def test_each_unit_short_of_a_year_is_labelled_with_what_it_has():
    rows = [("MX-JAL", "0101", "incidents", f"2024-{m:02d}") for m in range(1, 13)]  # whole
    rows += [("MX-SON", "0101", "incidents", f"2024-{m:02d}") for m in (1, 2, 3, 7, 3)]  # a repeat
    rows += [("MX-SON", "0201", "incidents", f"2024-Q{q}") for q in (1, 3)]
    rows += [("MX-YUC", "0101", "incidents", "2024")]  # annual: no coverage
    rows += [(f"MX-{c}", "0101", "victims", f"2025-{m:02d}") for c in ("AGU", "BCN") for m in (1, 2, 3)]
    out, findings = coverage(_frame(rows))
    got = dict(zip(out["region"] + " " + out["crime_type"] + " " + out["period"],
                   out["coverage"].astype(object).where(out["coverage"].notna(), None), strict=True))
    assert got["MX-JAL 0101 2024-05"] is None
    assert got["MX-SON 0101 2024-07"] == "4/12: 01-03, 07"
    assert got["MX-SON 0201 2024-Q3"] == "2/4: Q1, Q3"
    assert got["MX-YUC 0101 2024"] is None
    assert got["MX-BCN 0101 2025-02"] == "3/12: 01-03"
    # one warning per year and shape, with the units it stands for
    partial = sorted((f[4], f[6]) for f in findings if f[1] == "period_partial")
    assert partial == [("2024", 1), ("2024", 1), ("2025", 2)]
