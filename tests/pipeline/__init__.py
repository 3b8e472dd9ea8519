"""Helpers of the pipeline slices."""

from datetime import date

import pandas as pd
from sqlalchemy import func, select

TODAY = date(2026, 11, 28)


def csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def count(engine, model, *where) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model).where(*where)).scalar()
