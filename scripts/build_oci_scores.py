"""Write ideal/reference/data/oci_scores.csv: the Organized Crime Index's market and actor
scores of the members (2021, 2023, 2025), from the shared published file
(shared/data/published/oci_scores_2021_2025.csv; its README gives the source), with IDEAL's
market codes (reference.markets' oci_name). The demo's contributions are generated around the
2025 scores; bench/markets.py compares IDEAL's severities with 2023 and 2025.

    python scripts/build_oci_scores.py [PATH_TO_SHARED_CSV]
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from ideal import reference

ROOT = Path(__file__).resolve().parent.parent


def main(source: Path) -> None:
    oci = pd.read_csv(source, dtype={"iso2": str})
    codes = reference.markets().set_index("oci_name")["code"]
    kept = oci[oci["indicator"].isin(codes.index)]
    out = pd.DataFrame({"country": kept["iso2"], "year": kept["year"], "market": kept["indicator"].map(codes),
                        "score": kept["score"]}).sort_values(["country", "year", "market"])
    target = ROOT / "ideal" / "reference" / "data" / "oci_scores.csv"
    out.to_csv(target, index=False, lineterminator="\n")
    print(f"{target.relative_to(ROOT)}: {len(out)} scores")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "data" / "published"
         / "oci_scores_2021_2025.csv")
