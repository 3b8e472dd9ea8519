"""Build ideal/reference/data/population.csv (population per first-level region and year).

Mexico: real CONAPO mid-year projections (pob_mid_year, genero == Total), mapped from the
two-digit INEGI state code to ISO 3166-2. Every other member: SYNTHETIC figures, a rounded
national total split over the country's ISO 3166-2 regions by fixed pseudo-random weights,
marked synthetic=1 in the file. Replace them with official figures as countries send them.

    uv run python scripts/build_population.py --conapo ../shared/data/real/mx_conapo_poblacion_estatal/conapo_pob_ent_gender_1950_2070.csv
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import pandas as pd
import pycountry

from ideal import reference

YEARS = range(2015, 2027)
# Rounded national populations in millions, 2020, order of magnitude of UN WPP 2022;
# used only to make the synthetic regional figures plausible.
NATIONAL_2020_M = {
    "AR": 45.4, "BO": 11.9, "BR": 213.2, "CL": 19.3, "CO": 50.9, "CR": 5.1, "DO": 10.9,
    "EC": 17.6, "SV": 6.3, "GT": 17.4, "HN": 10.1, "NI": 6.8, "PA": 4.3, "PY": 6.6,
    "PE": 33.3, "UY": 3.4, "VE": 28.5,
}
GROWTH = 0.009  # synthetic yearly growth


def _weight(code: str) -> float:
    h = int(hashlib.sha256(code.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return 0.3 + 2.7 * h


def synthetic(country: str) -> pd.DataFrame:
    regions = sorted(s.code for s in pycountry.subdivisions.get(country_code=country)
                     if s.parent_code is None)
    w = pd.Series({r: _weight(r) for r in regions})
    share = w / w.sum()
    rows = []
    for year in YEARS:
        total = NATIONAL_2020_M[country] * 1e6 * (1 + GROWTH) ** (year - 2020)
        for r in regions:
            rows.append((country, r, year, round(total * share[r]), 1,
                         "synthetic: rounded national total split by fixed weights"))
    return pd.DataFrame(rows, columns=["country", "region", "year", "population", "synthetic", "source"])


def mexico(conapo: Path) -> pd.DataFrame:
    df = pd.read_csv(conapo, dtype={"cve_ent": str})
    inegi = reference.crosswalk("mx_inegi_entidades")
    df = df[(df["genero"] == "Total") & (df["cve_ent"] != "00") & df["n_year"].isin(list(YEARS))]
    return pd.DataFrame({
        "country": "MX",
        "region": df["cve_ent"].map(inegi.set_index("cve_ent")["region"]),
        "year": df["n_year"].astype(int),
        "population": df["pob_mid_year"].round().astype(int),
        "synthetic": 0,
        "source": "CONAPO, Proyecciones de la población 2020-2070, mid-year, total",
    })


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--conapo", type=Path, required=True)
    ap.add_argument("--out", type=Path, default=Path("ideal/reference/data/population.csv"))
    args = ap.parse_args()
    parts = [mexico(args.conapo)] + [synthetic(c) for c in NATIONAL_2020_M]
    out = pd.concat(parts).sort_values(["country", "region", "year"])
    out.to_csv(args.out, index=False)
    print(f"wrote {len(out)} rows to {args.out}")


if __name__ == "__main__":
    main()
