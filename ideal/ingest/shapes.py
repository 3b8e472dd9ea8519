"""The shapes national exports come in, brought to one row per source figure with its
period and region: periods as columns (wide), one row per event or victim (microdata),
periods from dates or from year and month columns, regions by code or by name, totals rows.

Every row left out is counted in a finding that names the source value and column.
"""

from __future__ import annotations

import re

import pandas as pd

from ideal import reference
from ideal.errors import SubmissionError
from ideal.i18n import spoken, tr
from ideal.ingest import periods
from ideal.ingest.profile import Profile
from ideal.ingest.sniff import Assumptions

EXAMPLES = 5
WIDE_HEADER, WIDE_VALUE = "(column header)", "(period columns)"  # a wide table, melted


def finding(severity, rule, column, row, value, message, rows: int = 1) -> tuple:
    """A finding made while reading; ``rows``: how many source rows it stands for."""
    return (severity, rule, column, None if row is None else int(row), value, message, int(rows))


def _rows(df: pd.DataFrame, mask: pd.Series) -> str:
    rows = df.loc[mask, "source_row"].astype(int).tolist()
    shown = ", ".join(map(str, rows[:EXAMPLES]))
    return tr("rows %(rows)s", rows=shown + (" ..." if len(rows) > EXAMPLES else ""))


def columns_used(prof: Profile) -> list[str]:
    """Every source column the profile reads (checked before anything else)."""
    p, r = prof.period, prof.region
    cols = [*prof.detect, p.year, p.month, p.quarter, p.date, r.column, r.name_column,
            *prof.category.columns, *(v.column for v in prof.values),
            prof.count.weight if prof.count else None,
            *(x for rate in prof.rates for x in (rate.column, rate.count))]
    return list(dict.fromkeys(c for c in cols if c))


def check_columns(df: pd.DataFrame, prof: Profile, filename: str) -> None:
    missing = [c for c in columns_used(prof) if c not in df.columns]
    if missing:
        raise SubmissionError(
            tr("%(file)s: the profile %(profile)s reads the column(s) %(missing)s, which the file "
               "does not have. Columns found: %(found)s.", file=filename, profile=prof.name,
               missing=", ".join(missing),
               found=", ".join(c for c in map(str, df.columns[:15]) if not c.startswith("_"))))


def figures(df: pd.DataFrame, prof: Profile, notes: Assumptions) -> tuple[pd.DataFrame, list[dict]]:
    """(frame, value specs): wide tables melted to one figure per row (``_wide`` holds the
    header), microdata given a ``_count`` column of ones (or the weight)."""
    if prof.wide is not None:
        pattern = re.compile(prof.wide.columns)
        cols = [c for c in df.columns if not c.startswith("_") and c != "source_row"
                and pattern.search(str(c))]
        if not cols:
            raise SubmissionError(tr(
                "no column header matches wide.columns %(pattern)r of profile %(profile)s; "
                "headers: %(found)s.", pattern=prof.wide.columns, profile=prof.name,
                found=", ".join(c for c in df.columns[:15] if not c.startswith("_"))))
        keep = [c for c in df.columns if c not in cols]
        long = df.melt(id_vars=keep, value_vars=cols, var_name=WIDE_HEADER, value_name=WIDE_VALUE)
        notes.add(tr("periods as columns: %(n)s (%(first)s ... %(last)s), read as years", n=len(cols),
                     first=cols[0], last=cols[-1]) if prof.wide.period == "year" else
                  tr("periods as columns: %(n)s (%(first)s ... %(last)s), read as months", n=len(cols),
                     first=cols[0], last=cols[-1]))
        return long, [{"column": WIDE_VALUE, "label": tr("the period columns"),
                       "indicator": prof.wide.indicator, "empty": "skip",
                       "empty_reason": tr("an empty cell of a period column is no figure")}]
    if prof.count is not None:
        weight = prof.count.weight
        what = (tr("one row per event: rows counted") if prof.count.indicator == "incidents"
                else tr("one row per victim: rows counted"))
        notes.add(what + (tr(", weighted by %(column)r", column=weight) if weight else ""))
        ones = df[weight] if weight else pd.Series("1", index=df.index)
        return df.assign(_count=ones), [{"column": "_count", "indicator": prof.count.indicator}]
    return df, [v.model_dump(exclude_none=True) for v in prof.values]


def _period_error(df, bad, column, what, findings) -> None:
    for value, group in df[bad].groupby(df.loc[bad, column].astype(str), sort=False):
        findings.append(finding(
            "error", "period_readable", column, group["source_row"].iloc[0], value,
            tr("%(column)s = %(value)r is not %(what)s (%(n)s rows, %(rows)s); correct the file "
               "or the profile's period keys.", column=column, value=value, what=what, n=len(group),
               rows=_rows(df, df.index.isin(group.index))), rows=len(group)))


def period_of_rows(df: pd.DataFrame, prof: Profile, filename: str, notes: Assumptions,
                   findings: list) -> tuple[pd.Series, pd.Series | None]:
    """(ISO period per row, None where unreadable with an error naming the source value;
    the month of each row's date when dates are counted by quarter or year, else None)."""
    spec = prof.period
    out = pd.Series(None, index=df.index, dtype="object")
    months = None
    if spec.fixed:
        out[:] = str(spec.fixed)
    elif spec.date:
        fmt = spec.date_format or periods.date_format(df[spec.date], spec.date, filename)
        notes.add(tr("dates in '%(column)s': %(format)s; counted by %(level)s", column=spec.date,
                     format=fmt + ("" if spec.date_format else tr(" (detected)")), level=tr(spec.level)))
        dates = periods.parse_dates(df[spec.date], fmt)
        _period_error(df, dates.isna(), spec.date, tr("a date in the format %(format)s", format=fmt), findings)
        out = periods.of_dates(dates, spec.level)
        if spec.level != "month":
            months = dates.dt.month
    elif spec.year:
        year = periods.years(df[spec.year])
        _period_error(df, year.isna(), spec.year, tr("a year"), findings)
        if spec.month:
            month = periods.month_numbers(df[spec.month])
            _period_error(df, year.notna() & month.isna(), spec.month, tr("a month (1-12 or a month's name)"), findings)
            out = periods.iso(year, month=month)
        elif spec.quarter:
            quarter = periods.quarter_numbers(df[spec.quarter])
            _period_error(df, year.notna() & quarter.isna(), spec.quarter, tr("a quarter (1-4, Q1-Q4)"), findings)
            out = periods.iso(year, quarter=quarter)
        else:
            out = periods.iso(year)
    if prof.wide is not None:
        if prof.wide.period == "year":
            year = periods.years(df[WIDE_HEADER])
            _period_error(df, year.isna(), WIDE_HEADER, tr("a year (the column header)"), findings)
            out = periods.iso(year)
        else:
            month = periods.month_numbers(df[WIDE_HEADER])
            _period_error(df, month.isna(), WIDE_HEADER, tr("a month (the column header)"), findings)
            base = out.str.slice(0, 4) if out.notna().any() else pd.Series(None, index=df.index)
            out = periods.iso(pd.to_numeric(base, errors="coerce"), month=month)
    return out, months


def totals(df: pd.DataFrame, prof: Profile, findings: list) -> pd.DataFrame:
    """Rows whose category is a total ('Total', 'TOTAL GENERAL') are not loaded: their parts
    are. A totals row of the region column is the national figure (region = country)."""
    marks = {periods.fold(t) for t in prof.category.totals}
    out = df
    for col in prof.category.columns:
        is_total = out[col].map(lambda v: periods.fold(v) in marks)
        if is_total.any():
            findings.append(finding(
                "info", "totals_not_loaded", col, out.loc[is_total, "source_row"].iloc[0],
                out.loc[is_total, col].iloc[0],
                tr("%(n)s totals rows (%(column)s = %(value)r) were not loaded: they sum the "
                   "categories that are loaded, and would count twice.", n=int(is_total.sum()),
                   column=col, value=out.loc[is_total, col].iloc[0]),
                rows=int(is_total.sum())))
            out = out[~is_total]
    return out


# the words in front of a region's name that exports write or leave out ("Región de Valparaíso",
# "Departamento de Montevideo", "Comarca Ngäbe-Buglé", "Provincia de Panamá")
PREFIX = re.compile(r"^(la |el )?(region|regiao|provincia|departamento|depto\.?|dpto\.?|estado|comarca|"
                    r"distrito|territorio|municipio)( metropolitana)?( de la| de los| de las| del| de| do| da)?\s+")


FIRST_WORD = re.compile(r"^(region|regiao|provincia|departamento|comarca|estado)( de la| del| de| do| da)?\s+")


def core(folded: str) -> str:
    """A folded region name without the words in front of it (región de, comarca, ...) and its
    punctuation: the name exports and ISO 3166-2 share."""
    text = re.sub(r"\s+", " ", re.sub(r"[^a-z0-9 ]", " ", folded)).strip()
    stripped = PREFIX.sub("", text + " ").strip()
    return stripped or text


def cores(folded: str) -> set[str]:
    """The name's cores: without every word in front (región metropolitana de), and without the
    first one only (región): "Región Metropolitana de Santiago" is also "Metropolitana de Santiago"."""
    text = re.sub(r"\s+", " ", re.sub(r"[^a-z0-9 ]", " ", folded)).strip()
    out = {core(folded), FIRST_WORD.sub("", text + " ").strip() or text}
    return out | {re.sub(r"^(la|el|los|las|o|a) ", "", c) for c in out}


PROPOSE_AT = 80  # a similarity below this proposes nothing ('CARCEL' is not Canelones)


def propose(value: str, country: str) -> tuple[str, str, int] | None:
    """The ISO 3166-2 subdivision of ``country`` whose name is closest to ``value`` (official names
    and their cores, forgiving case, accents and the words in front): (code, name, similarity
    0-100, rapidfuzz's WRatio); None below PROPOSE_AT or when two codes tie."""
    from rapidfuzz import fuzz, process

    subs = reference.regions([country])
    names = {}
    for code, name in zip(subs["region"], subs["name"], strict=False):
        for key in {periods.fold(name), *cores(periods.fold(name))}:
            names[key] = (code, name)
    target = core(periods.fold(value))
    if not target or not names:
        return None
    hits = process.extract(target, list(names), scorer=fuzz.WRatio, limit=4)
    if not hits or hits[0][1] < PROPOSE_AT:
        return None
    best = hits[0]
    rivals = [h for h in hits[1:] if names[h[0]][0] != names[best[0]][0] and h[1] >= best[1]]
    if rivals:
        return None
    code, name = names[best[0]]
    return code, name, int(round(best[1]))


def lookup(country: str, crosswalk: str | None, name_keys: list[str], aliases: dict[str, str],
           key: str | None = None) -> dict[str, str]:
    """Folded name or code -> ISO 3166-2 code of the country's regions: ISO names and codes,
    the crosswalk's names and codes, the profile's aliases."""
    out = {}
    subs = reference.regions([country])
    for code, name in zip(subs["region"], subs["name"], strict=False):
        out[periods.fold(name)] = code
        for key in cores(periods.fold(name)):
            out.setdefault(key, code)
        out[periods.fold(code)] = code
        out[periods.fold(code.split("-", 1)[1])] = code
    if crosswalk:
        table = reference.crosswalk(crosswalk)
        for col in [c for c in name_keys if c in table.columns] + ([key] if key else []):
            out.update({periods.fold(v): reg for v, reg in zip(table[col], table["region"], strict=False) if v})
    out.update({periods.fold(k): v for k, v in aliases.items()})
    return out


def resolve(folded: str, table: dict[str, str]) -> str | None:
    """The ISO code of a folded region name or code: as written, without punctuation, or
    with accents lost as '?' (the one name that fits)."""
    return (table.get(folded) or table.get(re.sub(r"[^a-z0-9 ]", "", folded))
            or next((table[c] for c in sorted(cores(folded)) if c in table), None) or _wildcard(folded, table))


def _wildcard(value: str, lookup: dict[str, str]) -> str | None:
    """A name whose accents were lost as '?' or '\ufffd' (MONTA?A): the one name that fits."""
    if "?" not in value and "\ufffd" not in value:
        return None
    pattern = re.compile("^" + re.escape(value).replace(r"\?", ".{1,2}").replace("\ufffd", ".{1,2}") + "$")
    hits = {code for name, code in lookup.items() if pattern.match(name)}
    return hits.pop() if len(hits) == 1 else None


def remainder_finding(df: pd.DataFrame, raw: pd.Series, region: pd.Series, column: str, country: str,
                      findings: list) -> None:
    """One note for the rows kept as the country's remainder (region.no_region)."""
    kept = region.eq(reference.no_region(country))
    if not kept.any():
        return
    values = ", ".join(f"{v} ({n})" for v, n in raw[kept].value_counts().items())
    findings.append(finding(
        "info", "region_none", column, int(df.loc[kept, "source_row"].iloc[0]), None,
        tr("%(n)s rows belong to %(country)s but to no region (%(values)s): kept as the country's "
           "remainder, counted in its national figure and listed apart; never ranked or mapped.",
           n=int(kept.sum()), country=reference.country_name(country, spoken()), values=values),
        rows=int(kept.sum())))


def unknown_region(column: str, value: str, group: pd.DataFrame) -> tuple:
    """The warning for the rows of a region marked unknown: counted, not loaded."""
    return finding("warning", "region_unknown", column, group["source_row"].iloc[0], value,
                   tr("%(n)s rows have no known region (%(column)s = %(value)r) and were not "
                      "loaded; they are not in any regional figure.", n=len(group), column=column,
                      value=value), rows=len(group))


def other_country(value: str, n: int, other: str, country: str) -> str:
    return tr("%(value)r (%(n)s rows) is a region of %(other)s (%(code)s), not of %(country)s; send "
              "it in the submission of %(other)s.", value=value, n=n, code=other,
              other=reference.country_name(other, spoken()),
              country=reference.country_name(country, spoken()))


def elsewhere(value: str, country: str) -> str | None:
    """The country a valid ISO 3166-2 region code of another country belongs to."""
    code = value.strip().upper()
    if not re.fullmatch(r"[A-Z]{2}-[A-Z0-9]{1,3}", code) or code.startswith(country + "-"):
        return None
    sub = reference.subdivision(code)
    return sub.country_code if sub is not None else None


def regions_by_name(df: pd.DataFrame, prof: Profile, findings: list) -> pd.Series:
    """ISO 3166-2 per row for regions given by name (or by ISO code); None where not loaded."""
    r, country = prof.region, prof.country
    raw = df[r.column].astype(str)
    table = lookup(country, r.crosswalk, r.name_keys, r.aliases, r.key)
    unknown = {periods.fold(u) for u in r.unknown}
    national = {periods.fold(n) for n in r.national} | {periods.fold(t) for t in prof.category.totals}
    apart = {periods.fold(n) for n in r.no_region}
    found: dict[str, str | None] = {}
    for value in raw.unique():
        key = periods.fold(value)
        if key in apart:
            found[value] = reference.no_region(country)
        elif key in national:
            found[value] = country
        elif key in unknown or key == "":
            found[value] = None
        else:
            found[value] = resolve(key, table)
    region = raw.map(found)
    remainder_finding(df, raw, region, r.column, country, findings)
    for value, group in df.groupby(raw, sort=False):
        if found[value] is not None:
            continue
        key = periods.fold(value)
        if key in unknown or key == "":
            findings.append(unknown_region(r.column, value, group))
            continue
        other = elsewhere(value, country)
        if other:
            findings.append(finding(
                "error", "region_other_country", r.column, group["source_row"].iloc[0], value,
                other_country(value, len(group), other, country), rows=len(group)))
        else:
            near = propose(value, country)
            hint = tr(" The closest name is %(name)s (%(code)s, similarity %(score)s of 100): if it is that "
                      "region, add %(alias)s to region.aliases.", name=near[1], code=near[0], score=near[2],
                      alias=f'"{value}": {near[0]}') if near else ""
            findings.append(finding(
                "error", "region_name_mapped", r.column, group["source_row"].iloc[0], value,
                tr("%(column)s = %(value)r (%(n)s rows, %(rows)s) is not a region of %(country)s; "
                   "correct it or add it to the profile's region.aliases.", column=r.column,
                   value=value, n=len(group), rows=_rows(df, raw.eq(value)),
                   country=reference.country_name(country, spoken())) + hint, rows=len(group)))
        # not loaded (the error names the value once with its rows): no made-up code
        region[group.index] = None
    return region


def date_coverage(agg: pd.DataFrame, rows: pd.DataFrame, prof: Profile) -> list[tuple]:
    """Events counted by year (or quarter) from their dates: a period whose events, in the
    whole file, fall in fewer than 12 months (3 for a quarter) is partial (a region with no
    event in a month has a zero, not a gap). Sets ``agg['coverage']``; returns the findings."""
    agg["coverage"] = None
    if prof.period.date is None or prof.period.level == "month":
        return []
    full = 12 if prof.period.level == "year" else 3
    present = rows.dropna(subset=["month"]).groupby("period")["month"].agg(
        lambda m: tuple(sorted(set(m.astype(int)))))
    out = []
    for period, months in present.items():
        if len(months) >= full:
            continue
        text = f"{len(months)}/{full}: {periods.span(list(months), 'month')}"
        hit = agg["period"].eq(period)
        agg.loc[hit, "coverage"] = text
        out.append(finding(
            "warning", "period_partial", prof.period.date, agg.loc[hit, "source_row"].min(), period,
            tr("%(period)s is counted from dates in only %(n)s of %(full)s months (%(months)s): "
               "it is partial. Its %(figures)s figures are flagged partial; they are not a whole "
               "%(level)s.", period=period, n=len(months), full=full,
               months=periods.span(list(months), "month"), figures=int(hit.sum()),
               level=tr(prof.period.level))))
    return out


def zeros(agg: pd.DataFrame, keys: list[str], notes: Assumptions) -> pd.DataFrame:
    """Microdata: a region, month and crime type of the file with no event is a count of 0,
    not a missing figure. The grid is what the file covers: its regions x its periods x its
    crime types and indicators (zeros carry source row 0: derived, not read)."""
    levels = [agg[k].unique() for k in keys]
    grid = pd.MultiIndex.from_product(levels, names=keys)
    if len(grid) == len(agg):
        return agg
    if len(grid) > 20 * len(agg) + 100_000:  # a sparse file of many regions: keep it as sent
        notes.add(tr("rows counted; months, regions and crime types without events are not "
                     "filled with zeros (too sparse to fill)"))
        return agg
    full = agg.set_index(keys).reindex(grid).reset_index()
    added = full["n"].isna()
    full = full.assign(number=full["number"].fillna(0.0), n=full["n"].fillna(0).astype(int),
                       source_row=full["source_row"].fillna(0).astype(int))
    notes.add(tr("%(n)s zero counts added: regions, periods and crime types of the file with no "
                 "event in it", n=int(added.sum())))
    return full
