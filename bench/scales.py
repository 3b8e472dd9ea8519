"""Named scales of DESIGN.md: a decade of monthly data for the 18 members.

S: 355 regions x 129 months x 14 crime types x 1 indicator  = about 0.64 M observations
M: 355 regions x 129 months x 14 crime types x 4 indicators = about 2.56 M observations
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ideal import reference
from ideal.config import DEFAULT_MEMBERS
from ideal.contracts import OBSERVATION_COLUMNS

MONTHS = pd.period_range("2015-01", "2025-09", freq="M").strftime("%Y-%m").tolist()  # 129
INDICATORS = {"S": ["incidents"], "M": ["incidents", "victims", "persons_arrested", "seizures_kg"]}


def country_file(country: str, scale: str, seed: int = 1) -> pd.DataFrame:
    regions = reference.regions([country])["region"].tolist()
    crimes = reference.scored_crime_types()
    rng = np.random.default_rng([seed, *map(ord, country + scale)])
    idx = pd.MultiIndex.from_product([regions, MONTHS, crimes, INDICATORS[scale]],
                                     names=["region", "period", "crime_type", "indicator"])
    df = idx.to_frame(index=False)
    values = rng.poisson(20, len(df)).astype(float)
    kg = df["indicator"] == "seizures_kg"
    values[kg.to_numpy()] = np.round(rng.gamma(2.0, 15.0, kg.sum()), 1)
    return df.assign(country=country, value=values, obs_status="A")[OBSERVATION_COLUMNS]


def write_files(folder: Path, scale: str) -> list[tuple[str, Path, int]]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for cc in DEFAULT_MEMBERS:
        path = folder / f"{scale}-{cc}.csv"
        frame = country_file(cc, scale)
        if not path.exists():
            frame.to_csv(path, index=False)
        out.append((cc, path, len(frame)))
    return out
