"""The demo is generated around real published levels (#32, item 7): each member's national
homicide rate is UNODC's, the regional pattern of Mexico, Argentina and Colombia is that of their
real exports, and the levels table is what scripts/demo_levels.py makes of the shared files."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ideal import reference
from ideal.ingest import demo

ROOT = Path(__file__).resolve().parents[2]
REAL = ROOT.parent / "shared" / "data" / "real"


def _national(country: str, crime: str = "0101", indicator: str = "victims", year: str = "2022") -> float:
    f = demo.country_frame(country)
    f = f[(f["crime_type"] == crime) & (f["indicator"] == indicator) & (f["period"] == year)]
    pop = reference.population()
    pop = pop[(pop["country"] == country) & (pop["year"] == int(year)) & pop["region"].isin(f["region"])]
    return f["value"].sum() / pop["population"].sum() * 1e5


def test_national_homicide_rate_is_unodcs():
    """The demo's first year sums to UNODC's published rate (victims) for every member, within
    the noise of one year's counts (negative binomial: each region's year varies by about 14 %),
    and without a bias across the members."""
    published = {cc: rate for (cc, crime), (rate, _) in demo.levels()["national"].items() if crime == "0101"}
    assert len(published) == 18
    ratios = pd.Series({cc: _national(cc) / rate for cc, rate in published.items()})
    assert ratios.between(0.8, 1.2).all(), ratios[~ratios.between(0.8, 1.2)]
    assert abs(ratios.mean() - 1) < 0.03


def test_the_leading_threats_are_where_the_region_is_most_violent():
    """Homicide in the demo ranks El Salvador, Honduras and Venezuela above Chile, Argentina and
    Uruguay (the UNODC ranking), not the other way round (#32: Loja at 118.6 led the list)."""
    rates = {cc: _national(cc) for cc in ["SV", "HN", "CL", "AR", "UY"]}
    assert min(rates["SV"], rates["HN"]) > 3 * max(rates["CL"], rates["AR"], rates["UY"])


def test_mexicos_states_keep_their_real_pattern():
    """Mexico's states take their relative homicide rates from INEGI: Colima is above the
    national rate, Yucatán below, as in the real file."""
    rel = demo.levels()["relative"]
    assert rel[("MX-COL", "0101")] > 2 > 0.5 > rel[("MX-YUC", "0101")]
    f = demo.country_frame("MX")
    f = f[(f["crime_type"] == "0101") & (f["indicator"] == "incidents") & (f["period"] == "2022")].set_index("region")
    assert f.loc["MX-COL", "value"] / 7.3e5 > f.loc["MX-YUC", "value"] / 2.4e6  # per head, roughly


def test_drawn_regions_add_up_to_the_national_rate():
    pop = [1e6, 2e5, 3e5, 5e6]
    factors = demo.regional_factors("GT", "0401", ["GT-01", "GT-02", "GT-03", "GT-04"], pop)
    assert (factors * pop).sum() / sum(pop) == pytest.approx(1.0)
    sd = demo.levels()["spread"]["0401"]
    assert factors.max() / factors.min() <= np.exp(2 * sd) + 1e-9  # drawn within one sd either side


@pytest.mark.skipif(not REAL.is_dir(), reason="the shared real data are not beside the project")
def test_the_levels_table_is_what_the_script_makes_of_the_real_files():
    sys.path.insert(0, str(ROOT / "scripts"))
    from demo_levels import main

    made = main(REAL).reset_index(drop=True)
    shipped = pd.read_csv(ROOT / "ideal" / "reference" / "data" / "demo_levels.csv", dtype={"crime_type": str})
    assert len(made) == len(shipped)
    assert made["key"].tolist() == shipped["key"].tolist()
    assert made["value"].to_numpy() == pytest.approx(shipped["value"].to_numpy(), rel=1e-6)
