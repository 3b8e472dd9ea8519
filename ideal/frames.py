"""Vectorised helpers on canonical frames that every stage uses."""

from __future__ import annotations

import numpy as np
import pandas as pd


def per_unique(series: pd.Series, fn) -> pd.Series:
    """Apply a vectorised string function to the distinct values only, then map back: a
    submission has a few hundred distinct periods or codes in millions of rows."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    mapped = fn(pd.Series(uniques, dtype="object")).to_numpy()
    out = pd.Series(mapped[codes] if len(mapped) else np.full(len(codes), np.nan), index=series.index)
    return out.where(codes >= 0)
