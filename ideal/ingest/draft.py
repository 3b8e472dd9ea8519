"""A starting profile written from a national export (`ideal profile new`): the sheet, the
header row, guessed period, region, category and value columns, and every distinct category
and region value listed for mapping. What could not be guessed is marked TODO; the draft is
valid YAML for the schema once the TODOs are settled, and `ideal profile check` says what is
left."""

from __future__ import annotations

import re

import pandas as pd
import yaml

from ideal import reference
from ideal.ingest import categories, periods
from ideal.ingest.decode import Decoded
from ideal.ingest.locate import HEADER_SCAN, rehead
from ideal.ingest.profile import Category, Region
from ideal.ingest.shapes import lookup, resolve

MAX_LISTED = 200

# folded words in a header -> role
ROLES = {
    "date": r"\b(fecha|data|date|dia)\b",
    "year": r"\b(ano|anio|year|ejercicio|gestion)\b|^anio|^year",
    "month": r"\b(mes|month|mes_)\b|^mes",
    "quarter": r"\b(trimestre|quarter|trim)\b",
    "region": r"(departamento|provincia|estado|region|entidad|uf\b|^uf|canton|dpto|cve_ent|"
              r"provincia id|state|depto|regiao|unidad federativa|distrito|cve ent)",
    "category": r"(delito|crime|crimen|tipo|categoria|natureza|ocorrencia|infraccion|hecho_tipo|"
                r"subtipo|modalidad|conducta|offen[cs]e)",
    "value": r"(cantidad|total|casos|victimas|vitimas|ocorrencias|numero|count|hechos|n delitos|"
             r"frecuencia|valor|value|homicidios|denuncias)",
}
def _literal(value: str) -> str:
    """A value as a regular expression matching exactly it (spaces left readable)."""
    return re.escape(str(value)).replace("\\ ", " ")


def _words(column: str) -> str:
    """A header as words: folded, underscores and dots as spaces (fecha_infraccion)."""
    return re.sub(r"\s+", " ", re.sub(r"[_.]+", " ", periods.fold(column))).strip()


def _role(column: str) -> str | None:
    name = _words(column)
    for role, pattern in ROLES.items():
        if re.search(pattern, name):
            return role
    return None


def _numeric(values: pd.Series) -> float:
    v = values.astype(str).str.strip()
    v = v[v != ""]
    return float(v.str.fullmatch(r"-?[\d.,]+").mean()) if len(v) else 0.0


def header_row(table: pd.DataFrame) -> int:
    """-1 (the first row is the header) or the index of the first row of the first rows that
    looks like a header: as many filled cells as the widest row, mostly text."""
    head = table.head(HEADER_SCAN)
    width = max([sum(str(c).strip() != "" for c in table.columns if not str(c).startswith("column "))]
                + [sum(str(v).strip() != "" for v in row) for row in head.itertuples(index=False)])
    named = [c for c in table.columns if c != "_row" and not str(c).startswith("column ")]
    if len(named) >= max(2, width - 1):
        return -1
    for i, row in enumerate(head.drop(columns="_row", errors="ignore").itertuples(index=False)):
        cells = [str(v).strip() for v in row if str(v).strip()]
        if len(cells) >= max(2, width - 1) and sum(not re.fullmatch(r"[\d.,-]+", c) for c in cells) >= len(cells) - 1:
            return i
    return -1


def choose_sheet(decoded: Decoded) -> tuple[str | None, pd.DataFrame, list[str]]:
    """(the sheet to draft from, its table, the other sheets with data): a CSV's one table, or
    a workbook's longest sheet."""
    sheets = decoded.tables
    if decoded.kind == "csv":
        return None, sheets[""], []
    best = max(sheets, key=lambda n: (len(sheets[n]) if not sheets[n].empty else -1))
    return best, sheets[best], [n for n in sheets if n != best and not sheets[n].empty]


# a header, sheet or file name saying that each row is a victim (microdata of victims)
VICTIM_WORDS = r"\b(victimas?|vitimas?|fallecid[oa]s?|occisos?|muert[oa]s?|obitos?|defunciones|" \
               r"mortes?|personas? fallecidas?|tipo muerte|victima)\b"
DATE_TEXT = r"\d{1,2}[/.-]\d{1,2}[/.-](\d{2}|\d{4})|\d{4}-\d{2}-\d{2}([ T][\d:.]+)?"


def _dates(values: pd.Series) -> bool:
    """Values that are dates: text dates (05/04/2023, 2023-04-05, an Excel date cell read as
    2023-04-05 00:00:00) in nine of ten filled cells."""
    v = values.astype(str).str.strip()
    v = v[v != ""]
    return bool(len(v)) and float(v.str.fullmatch(DATE_TEXT).mean()) >= 0.9


def _serials(values: pd.Series) -> bool:
    """Whole numbers in the range of Excel date serials of 1990-2040 (a date column's header
    said so)."""
    v = pd.to_numeric(values.astype(str).str.strip().replace("", None), errors="coerce").dropna()
    return bool(len(v)) and bool(v.between(32874, 51500).mean() >= 0.9 and (v % 1 == 0).all())


def _guess(table: pd.DataFrame) -> dict[str, list[str]]:
    roles: dict[str, list[str]] = {}
    for col in table.columns:
        if col == "_row":
            continue
        sample = table[col].head(500)
        numeric = _numeric(sample) >= 0.9
        role = "value" if numeric and re.search(ROLES["value"], _words(col)) else _role(str(col))
        if role == "date" and numeric and not _serials(sample):
            role = None  # a 'dia' of 1-31, a 'date' code: not a date
        elif role == "date" and not numeric and not _dates(sample):
            role = None
        elif role is None and not numeric and _dates(sample):
            role = "date"  # a date column whatever its header says
        if role == "value" and not numeric:
            role = "category" if re.search(ROLES["category"], _words(col)) else None
        if role == "category" and numeric:
            role = None
        if role in ("year", "month", "quarter", "date") and table[col].astype(str).str.strip().eq("").all():
            role = None
        if role:
            roles.setdefault(role, []).append(str(col))
    return roles


def _region_share(values: pd.Series, country: str, known: dict) -> float:
    """The share of a column's distinct values that are first-level regions of ``country``
    (ISO names, forgiving case, accents and lost accents; or ISO 3166-2 codes)."""
    distinct = {str(v).strip() for v in values.head(5000)} - {""}
    if not distinct:
        return 0.0
    codes = {c.split("-", 1)[1].upper() for c in set(known.values()) if "-" in c}
    hits = sum(resolve(periods.fold(v), known) is not None or v.upper().removeprefix(f"{country}-") in codes
               for v in distinct)
    return hits / len(distinct)


def _region_column(table: pd.DataFrame, candidates: list[str], country: str) -> str | None:
    """Of the columns whose header says region (provincia, distrito, estado...), the one whose
    values best match the country's first-level regions (a police district column beside the
    province column loses); any text column whose values are mostly region names when no
    header says so."""
    known = lookup(country, None, [], {})
    pool = candidates or [c for c in table.columns if c != "_row" and _numeric(table[c].head(500)) < 0.5]
    scored = [(_region_share(table[c], country, known), -i, c) for i, c in enumerate(pool)]
    if not scored:
        return None
    share, _, best = max(scored)
    if candidates:
        return best if share > 0 else candidates[0]
    return best if share >= 0.5 else None


def _wide(table: pd.DataFrame) -> tuple[str, str] | None:
    cols = [str(c) for c in table.columns if c != "_row"]
    years = [c for c in cols if re.fullmatch(r"(19|20)\d\d", c.strip())]
    if len(years) >= 3:
        return r"^(19|20)\d\d$", "year"
    months = [c for c in cols if not periods.month_numbers(pd.Series([c])).isna().iloc[0]
              and not re.fullmatch(r"\d+", c.strip())]
    if len(months) >= 3:
        return "(?i)^(" + "|".join(re.escape(m) for m in months) + ")$", "month"
    return None


def draft(table: pd.DataFrame, country: str, filename: str, sheet: str | None = None,
          other_sheets: list[str] | None = None) -> str:
    """The YAML text of a starting profile for this table."""
    at = header_row(table)
    header = None if at < 0 else int(table["_row"].iloc[at]) if "_row" in table else at + 2
    table = rehead(table, at)
    roles = _guess(table)
    wide = _wide(table)
    stem = re.sub(r"[^a-z0-9]+", "_", periods.fold(filename.rsplit(".", 1)[0]))[:40].strip("_")
    name = re.sub(r"^[^a-z]+", "", f"{country.lower()}_{stem}") or f"{country.lower()}_export"
    todo: list[str] = []
    guesses: list[str] = []
    prof: dict = {"name": name, "title": f"{reference.country_name(country, 'es')}: {filename}",
                  "country": country, "version": 1}
    region_col = _region_column(table, roles.get("region") or [], country)
    cat_cols = roles.get("category", [])[:2]
    detect = [c for c in [region_col, *cat_cols, *(roles.get("year") or [])[:1],
                          *(roles.get("date") or [])[:1], *(roles.get("value") or [])[:1]] if c]
    prof["detect"] = detect or [str(c) for c in table.columns[:3] if c != "_row"]
    read: dict = {}
    if sheet:
        read["sheets"] = [{"name": sheet}]
        if other_sheets:
            todo.append(f"read.sheets: the workbook also has {', '.join(other_sheets)}; add those "
                        "holding data of the same layout (e.g. victims beside occurrences), "
                        "each with its indicator")
    if header:
        read["header_row"] = header
    if read:
        prof["read"] = read
    # period
    if roles.get("date"):
        prof["period"] = {"date": roles["date"][0], "level": "month"}
    elif roles.get("year"):
        prof["period"] = {"year": roles["year"][0]}
        if roles.get("month"):
            prof["period"]["month"] = roles["month"][0]
        elif roles.get("quarter"):
            prof["period"]["quarter"] = roles["quarter"][0]
    elif not (wide and wide[1] == "year"):
        prof["period"] = {"fixed": "TODO"}
        todo.append("period: no year or date column found; give the file's period (fixed) or the column")
    # region
    if region_col:
        values = table[region_col].astype(str).str.strip()
        distinct = sorted(set(values) - {""})
        coded = _numeric(values.head(500)) > 0.9
        prof["region"] = {"column": region_col, "by": "code" if coded else "name"}
        if coded:
            prof["region"]["aliases"] = {v: "TODO" for v in distinct[:MAX_LISTED]}
            todo.append(f"region: {len(distinct)} national codes in '{region_col}'; map each to its "
                        f"ISO 3166-2 code in aliases (or name a crosswalk)")
        else:
            known = lookup(country, None, [], {})
            unknown = {periods.fold(u) for u in Region.model_fields["unknown"].default_factory()}
            totals = {periods.fold(t) for t in Category.model_fields["totals"].default_factory()}
            unmatched = [v for v in distinct if resolve(periods.fold(v), known) is None
                         and periods.fold(v) not in unknown | totals]
            if unmatched:
                prof["region"]["aliases"] = {v: "TODO" for v in unmatched[:MAX_LISTED]}
                todo.append(f"region: {len(unmatched)} of {len(distinct)} names in '{region_col}' "
                            f"are not ISO names of {country}'s regions; map them in aliases "
                            "(or delete those that mean 'unknown region': they are listed in region.unknown)")
    else:
        prof["region"] = {"column": "TODO", "by": "name"}
        todo.append("region: no region column found")
    # category
    if cat_cols:
        rules, unguessed = [], 0
        combos = table[cat_cols].astype(str).drop_duplicates().head(MAX_LISTED)
        for combo in combos.itertuples(index=False):
            label = " / ".join(dict.fromkeys(combo))
            g = categories.guess(label)
            when = {col: f"^{_literal(value)}$" for col, value in zip(cat_cols, combo, strict=True)}
            if g.code:
                rules.append({"when": when, "iccs": g.code})
            elif g.out_of_scope:
                rules.append({"when": when, "out_of_scope": g.out_of_scope})
            else:
                unguessed += 1
                rules.append({"when": when, "out_of_scope": "TODO: map to an ICCS code or say why out of scope"})
            said = g.code or ("out of scope" if g.out_of_scope else "TODO")
            guesses.append(f"{label}: {said} ({g.confidence or 'not recognised'}"
                           f"{': ' + ', '.join(g.matched) if g.matched else ''})")
        prof["category"] = {"columns": cat_cols, "rules": rules}
        todo.append(f"category: {len(rules)} categories ({' / '.join(cat_cols)}) listed, each guessed "
                    f"from its words (below: the confidence and the words that matched); check every "
                    f"one, {unguessed} left TODO (profile install refuses a TODO)")
    else:
        prof["category"] = {"fixed": "TODO"}
        todo.append("category: no crime-type column found; give the file's one ICCS code (fixed)")
    # figures
    if wide:
        prof["wide"] = {"columns": wide[0], "period": wide[1], "indicator": "incidents"}
        todo.append("wide: periods are columns; check the indicator (incidents or victims)")
    elif roles.get("value"):
        prof["values"] = [{"column": roles["value"][0], "indicator": "incidents"}]
        todo.append(f"values: '{roles['value'][0]}' read as incidents; say victims if it counts victims")
    else:
        said = next((w for w in [*map(str, table.columns), sheet or "", filename]
                     if re.search(VICTIM_WORDS, _words(w))), None)
        if said:
            prof["count"] = {"indicator": "victims"}
            todo.append(f"count: no column of figures found, so each row is counted; '{said}' says a "
                        "row is a victim, so victims (say incidents if a row is an event)")
        else:
            prof["count"] = {"indicator": "incidents"}
            todo.append("count: no column of figures found, so each row is counted as one event; "
                        "say victims if a row is a victim")
    head = [f"# Starting profile written by `ideal profile new` from {filename}.",
            "# Settle every TODO, then: ideal profile check FILE --profile NAME --country CC",
            *[f"# TODO {t}" for t in todo],
            *(["# Category guesses (ICCS code, confidence: the words that matched):"] if guesses else []),
            *[f"#   {g}" for g in guesses], ""]
    return "\n".join(head) + yaml.safe_dump(prof, allow_unicode=True, sort_keys=False, width=100)
