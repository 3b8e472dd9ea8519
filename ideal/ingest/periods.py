"""Periods as national exports write them, to ISO 8601 (2025, 2025-Q1, 2025-03), and how
much of each year a submission covers.

Months come as numbers or as names and abbreviations in Spanish, Portuguese or English, any
case, with or without accents (`janeiro`, `ene`, `Sept.`); dates as ISO, day-first, month-first
or Excel serial numbers, the format declared or detected and stated. A year for which a unit
(region, crime type, indicator) has fewer than 12 months or 4 quarters is partial: flagged in
the feedback and stored with the observations.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd

from ideal.errors import SubmissionError
from ideal.frames import per_unique
from ideal.i18n import tr

_MONTHS = {
    1: "enero ene janeiro jan january",
    2: "febrero feb fevereiro fev february",
    3: "marzo mar marco march",
    4: "abril abr april apr",
    5: "mayo may maio mai",
    6: "junio jun junho june",
    7: "julio jul julho july",
    8: "agosto ago august aug",
    9: "septiembre setiembre sep sept set setembro september",
    10: "octubre oct outubro out october",
    11: "noviembre nov novembro november",
    12: "diciembre dic dezembro dez december dec",
}
MONTHS = {name: n for n, names in _MONTHS.items() for name in names.split()}
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}


def fold(text) -> str:
    """Case-, accent- and spacing-insensitive form of a label."""
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode().casefold()
    return re.sub(r"\s+", " ", text).strip()


def _month(value: str) -> float:
    v = fold(value).rstrip(".").strip()
    if re.fullmatch(r"\d{1,2}(\.0)?", v):
        n = int(float(v))
        return float(n) if 1 <= n <= 12 else float("nan")
    if v in MONTHS:
        return float(MONTHS[v])
    hits = {n for name, n in MONTHS.items() if len(v) >= 3 and name.startswith(v)}
    return float(hits.pop()) if len(hits) == 1 else float("nan")


def month_numbers(values: pd.Series) -> pd.Series:
    """1-12 per value (names or numbers); NaN where the value is not a month."""
    return per_unique(values.astype(str), lambda u: u.map(_month)).astype("float64")


def _quarter(value: str) -> float:
    v = fold(value).rstrip(".")
    v = re.sub(r"^(q|t|trim(estre)?|trimestre)\s*", "", v)
    if v in _ROMAN:
        return float(_ROMAN[v])
    return float(int(v)) if re.fullmatch(r"[1-4]", v) else float("nan")


def quarter_numbers(values: pd.Series) -> pd.Series:
    return per_unique(values.astype(str), lambda u: u.map(_quarter)).astype("float64")


def years(values: pd.Series) -> pd.Series:
    v = values.astype(str).str.strip().str.replace(r"\.0$", "", regex=True)
    y = pd.to_numeric(v.where(v.str.fullmatch(r"\d{4}")), errors="coerce")
    return y.where((y >= 1900) & (y <= 2100))


_DMY = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")


def date_format(values: pd.Series, column: str, filename: str) -> str:
    """The format of a date column: 'iso', 'excel', '%d/%m/%Y' or '%m/%d/%Y' (refused when
    day-first and month-first both fit every value)."""
    v = pd.Series(values.astype(str).str.strip().unique())
    v = v[v != ""]
    if v.empty:
        raise SubmissionError(tr("%(file)s: the date column '%(column)s' is empty.", file=filename, column=column))
    if v.str.match(r"^\d{4}-\d{2}-\d{2}").all():
        return "iso"
    if v.str.fullmatch(r"\d{4,5}(\.0+)?").all():
        return "excel"
    parts = v.str.extract(_DMY)
    if parts.notna().all().all():
        first, second = parts[0].astype(int), parts[1].astype(int)
        sep = v.iloc[0].strip()[len(parts.iloc[0, 0])]
        if (first > 12).any() and (second <= 12).all():
            return f"%d{sep}%m{sep}%Y"
        if (second > 12).any() and (first <= 12).all():
            return f"%m{sep}%d{sep}%Y"
        if (first <= 12).all() and (second <= 12).all():
            raise SubmissionError(tr(
                "%(file)s: the dates in '%(column)s' (e.g. '%(example)s') fit both day/month/year "
                "and month/day/year; state it in the profile (period.date_format: '%%d/%%m/%%Y' "
                "or '%%m/%%d/%%Y').", file=filename, column=column, example=v.iloc[0]))
    bad = v[~v.str.match(r"^\d{4}-\d{2}-\d{2}") & parts[0].isna()]
    raise SubmissionError(tr("%(file)s: the dates in '%(column)s' are not in one known format "
                             "(e.g. '%(example)s'); state it in the profile (period.date_format, "
                             "e.g. '%%d/%%m/%%Y', 'iso' or 'excel').", file=filename, column=column,
                             example=bad.iloc[0] if len(bad) else v.iloc[0]))


def parse_dates(values: pd.Series, fmt: str) -> pd.Series:
    """Dates (NaT where a value does not fit the format)."""
    def one(u: pd.Series) -> pd.Series:
        text = u.astype(str).str.strip()
        if fmt == "excel":
            days = pd.to_numeric(text, errors="coerce")
            return pd.to_datetime(days, unit="D", origin="1899-12-30", errors="coerce")
        if fmt == "iso":
            return pd.to_datetime(text.str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
        return pd.to_datetime(text.str.extract(r"^\s*(\S+)")[0], format=fmt, errors="coerce")
    return per_unique(values.astype(str), one)


def iso(year: pd.Series, month: pd.Series | None = None, quarter: pd.Series | None = None) -> pd.Series:
    """ISO periods from numbers (NaN -> None)."""
    ok = year.notna()
    text = year.fillna(0).astype(int).astype(str)
    if month is not None:
        ok &= month.notna()
        text = text + "-" + month.fillna(0).astype(int).map("{:02d}".format)
    elif quarter is not None:
        ok &= quarter.notna()
        text = text + "-Q" + quarter.fillna(0).astype(int).astype(str)
    return text.where(ok, None).astype("object")


def of_dates(dates: pd.Series, level: str) -> pd.Series:
    if level == "year":
        return iso(dates.dt.year.astype("float64"))
    if level == "quarter":
        return iso(dates.dt.year.astype("float64"), quarter=dates.dt.quarter.astype("float64"))
    return iso(dates.dt.year.astype("float64"), month=dates.dt.month.astype("float64"))


# --- how much of a year a submission covers --------------------------------------------------

UNIT = ["region", "crime_type", "indicator"]


def _split(period: pd.Series) -> pd.DataFrame:
    """Year, kind (year, quarter, month) and part (the quarter or month) of each period,
    parsed once per distinct period (a file has a few hundred in millions of rows)."""
    codes, uniques = pd.factorize(period.astype(str), use_na_sentinel=False)
    parts = pd.Series(uniques, dtype="object").str.extract(r"^(\d{4})(?:-(Q)?(\d{1,2}))?$")
    kind = pd.Series("year", index=parts.index).mask(parts[2].notna(), "month").mask(parts[1].eq("Q"), "quarter")
    one = pd.DataFrame({"year": parts[0], "kind": kind, "part": pd.to_numeric(parts[2], errors="coerce")})
    return one.iloc[codes].set_index(period.index)


def span(parts: list[int], kind: str) -> str:
    if kind == "quarter":
        return ", ".join(f"Q{p}" for p in parts)
    runs, start = [], parts[0]
    for a, b in zip(parts, parts[1:] + [None], strict=False):
        if b != a + 1:
            runs.append(f"{start:02d}" if start == a else f"{start:02d}-{a:02d}")
            start = b
    return ", ".join(runs)


def _short_years(rows: pd.DataFrame, cols: list[str], full: dict[str, int]) -> dict:
    """(region, crime type, indicator, year) -> (kind, the months or quarters present) for
    each unit and year short of a whole year. The months present are counted as a bit mask
    per unit (vectorised: a decade of monthly data has tens of thousands of units), and each
    distinct mask spelled out once."""
    if not rows["part"].dropna().between(1, 12).all():  # an impossible month: spelled out one by one
        parts = rows.groupby(cols)["part"].agg(lambda s: tuple(sorted(set(s.dropna().astype(int)))))
        return {k[:4]: (k[4], p) for k, p in parts.items() if len(p) < full[k[4]]}
    bits = rows.dropna(subset=["part"]).drop_duplicates([*cols, "part"])
    bits = bits.assign(_bit=np.left_shift(np.int64(1), bits["part"].astype("int64").to_numpy() - 1))
    groups = rows[cols].drop_duplicates().merge(
        bits.groupby(cols)["_bit"].sum().rename("_mask").reset_index(), on=cols, how="left"
    ).sort_values(cols, ignore_index=True)  # in groupby's order: a unit's quarters after its months
    masks = groups["_mask"].fillna(0).astype("int64").to_numpy()
    kinds = groups["kind"].to_numpy()
    shapes = {(k, int(m)): tuple(i + 1 for i in range(12) if int(m) >> i & 1)
              for k, m in set(zip(kinds, masks, strict=True))}
    present = [shapes[(k, int(m))] for k, m in zip(kinds, masks, strict=True)]
    short = [len(p) < full[k] for p, k in zip(present, kinds, strict=True)]
    keys = zip(*(groups[c].to_numpy() for c in UNIT + ["year"]), strict=True)
    return {tuple(key): (k, p) for key, k, p, s in zip(keys, kinds, present, short, strict=True) if s}


def coverage(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[tuple]]:
    """(frame with a ``coverage`` column, findings).

    For monthly and quarterly rows, the months (quarters) of the same year present for the
    same unit: ``None`` when the year is complete, else e.g. ``'3/12: 01-03'``. Where a unit
    has both an annual figure and months of the same year, the rule is: complete months are
    kept (finer; the annual figure is checked against their sum and not loaded), incomplete
    months are not loaded and the annual figure is kept."""
    if frame.empty:
        return (frame if "coverage" in frame else frame.assign(coverage=None)), []
    split = _split(frame["period"])
    sub = split["kind"].ne("year")
    out = frame if "coverage" in frame else frame.assign(coverage=None)
    findings: list[tuple] = []
    if not sub.any():
        return out, findings
    full = {"month": 12, "quarter": 4}
    cols = UNIT + ["year", "kind"]
    label = _short_years(split.loc[sub].assign(**{c: frame.loc[sub, c].astype(str) for c in UNIT}),
                         cols, full)
    if label:
        unit_year = UNIT + ["year"]
        text = pd.DataFrame([(*k, f"{len(p)}/{full[kind]}: {span(list(p), kind)}")
                             for k, (kind, p) in label.items()], columns=[*unit_year, "_text"])
        # only the rows of the years that are short somewhere (usually the last one) are matched
        near = sub & split["year"].isin(set(text["year"]))
        rows = pd.DataFrame({c: frame.loc[near, c].astype(str).to_numpy() for c in UNIT}).assign(
            year=split.loc[near, "year"].to_numpy())
        cov = pd.Series(rows.merge(text, on=unit_year, how="left")["_text"].to_numpy(),
                        index=frame.index[near.to_numpy()])
        out = out.assign(coverage=cov.reindex(frame.index).where(near, out["coverage"]))
        # one finding per (year, coverage), counting the units
        by: dict[tuple, list] = {}
        for (region, crime, _ind, year), (kind, present) in label.items():
            by.setdefault((year, kind, present), []).append(f"{region} {crime}")
        for (year, kind, present), units in sorted(by.items()):
            findings.append(("warning", "period_partial", "period", None, year,
                             tr("%(year)s is partial for %(n)s region/crime type(s): only %(parts)s "
                                "(%(k)s of %(full)s), e.g. %(units)s. The rows are flagged partial "
                                "and a year total built from them is not a whole year.", year=year,
                                n=len(units), parts=span(list(present), kind), k=len(present),
                                full=tr("12 months") if kind == "month" else tr("4 quarters"),
                                units=", ".join(units[:3])), len(units)))
    # annual and sub-annual figures for the same unit and year
    annual = ~sub
    if annual.any():
        key = [frame[c].astype(str) for c in UNIT] + [split["year"]]
        ukey = pd.Series(list(zip(*key, strict=False)), index=frame.index)
        both = set(ukey[annual]) & set(ukey[sub])
        if both:
            incomplete = {k for k in both if k in label}
            complete = both - incomplete
            drop = (ukey.isin(incomplete) & sub) | (ukey.isin(complete) & annual)
            kept_annual, kept_months = len(incomplete), len(complete)
            findings.append(("warning", "period_annual_and_monthly", "period", None, None,
                             tr("%(n)s region/crime type/year(s) have both a yearly figure and "
                                "monthly or quarterly figures. Rule: complete months are kept and "
                                "the yearly figure is not loaded (%(months)s); incomplete months "
                                "are not loaded and the yearly figure is kept (%(years)s).",
                                n=len(both), months=kept_months, years=kept_annual), len(both)))
            findings += _compare(frame, ukey, complete, annual, sub)
            out = out[~drop]
    return out, findings


def _compare(frame: pd.DataFrame, ukey: pd.Series, complete: set, annual: pd.Series,
             sub: pd.Series) -> list[tuple]:
    """Complete months against the yearly figure they replace: a difference is a warning."""
    if not complete or "value_number" not in frame:
        return []
    values = frame["value_number"].astype("float64")
    months = values[sub & ukey.isin(complete)].groupby(ukey[sub & ukey.isin(complete)]).sum()
    years = values[annual & ukey.isin(complete)].groupby(ukey[annual & ukey.isin(complete)]).sum()
    diff = (months - years.reindex(months.index)).abs()
    off = diff[diff > 0.5]
    if off.empty:
        return []
    k = off.index[0]
    return [("warning", "period_annual_and_monthly", "value", None, f"{k[0]} {k[1]} {k[3]}",
             tr("The months differ from the yearly figure in %(n)s of %(k)s region/crime "
                "type/years (e.g. %(unit)s: months %(months)s, year %(year)s); the months are "
                "kept.", n=len(off), k=len(months), unit=f"{k[0]} {k[1]} {k[3]}",
                months=f"{months[k]:g}", year=f"{years[k]:g}"), len(off))]
