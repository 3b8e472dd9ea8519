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
from ideal.ingest.shapes import lookup, propose, resolve

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


def choose_sheet(decoded: Decoded) -> tuple[str | None, pd.DataFrame, list[str], str]:
    """(the sheet to draft from, its table, the other sheets that hold data of a table's shape,
    the text of every other sheet: a cover or a sheet of variables says what the rows are): a
    CSV's one table, or a workbook's longest sheet."""
    sheets = decoded.tables
    if decoded.kind == "csv":
        return None, sheets[""], [], ""
    best = max(sheets, key=lambda n: (len(sheets[n]) if not sheets[n].empty else -1))
    others = [n for n in sheets if n != best and not sheets[n].empty]
    data = [n for n in others if len(sheets[n]) >= 5 and len(sheets[n].columns) > 3]
    text = "\n".join(n + "\t" + " ".join(map(str, [*sheets[n].columns, *sheets[n].head(100).to_numpy().ravel()]))
                     for n in others)
    return best, sheets[best], data, text


# words saying what the rows of a column are, when it is not the crime: a breakdown
BREAKDOWN_HEADERS = {"weapon": r"\b(arma|armas|weapon|medio empleado|medio|instrumento|mecanismo)\b",
                     "target": r"\b(a quien|victima tipo|tipo de victima|objetivo|blanco|target|lugar)\b",
                     "motive": r"\b(motivo|movil|moviles|circunstancia|motive|causa)\b"}
BREAKDOWN_VALUES = {"weapon": r"\b(arma|armas|fuego|blanca|cortopunzante|contundente|firearm|knife)\b",
                    "target": r"^(a |al )|\bno corresponde\b|\btranseunte\b"}
EVENT_WORDS = r"\b(hechos|casos|incidentes|denuncias|delitos|ocorrencias|eventos|incidents|cases|carpetas)\b"
# values of the region column that are the country's but no region's (region.no_region)
NO_REGION_WORDS = r"(carcel|penitenciari|prision|presidio|reclusion|privad[oa]s? de (la )?libertad|" \
                  r"exterior|extranjero|fuera del pais)"


def _breakdown(column: str, values: pd.Series) -> str | None:
    """'weapon', 'target' or 'motive' when a column describes how or against whom, not what
    crime: by its header, or by its values (nine in ten a weapon's or a target's words)."""
    head = _words(column)
    if re.search(ROLES["category"], head) and not re.search(r"\b(arma|a quien)\b", head):
        return None
    for kind, pattern in BREAKDOWN_HEADERS.items():
        if re.search(pattern, head):
            return kind
    distinct = [periods.fold(v) for v in set(values.astype(str).str.strip().head(2000)) - {""}]
    if not distinct or len(distinct) > 60:
        return None
    for kind, pattern in BREAKDOWN_VALUES.items():
        if sum(bool(re.search(pattern, v)) for v in distinct) >= 0.9 * len(distinct):
            return kind
    return None


def _crime_share(values: pd.Series, country: str) -> float:
    """The share of a column's distinct values that name a crime (or say what is out of scope)."""
    distinct = list(set(values.astype(str).str.strip().head(5000)) - {""})[:200]
    if not distinct:
        return 0.0
    return sum(categories.guess(v, country).recognised for v in distinct) / len(distinct)


def _fixed_crime(table: pd.DataFrame, names: list[str], country: str, region_col) -> tuple[str, str] | None:
    """(ICCS code, what said so) for a file of one crime: a column equal to one crime's name on
    every row, else the sheet's or the file's name (homicidios, víctimas de homicidio)."""
    for col in table.columns:
        if col in ("_row", region_col):
            continue
        values = set(table[col].astype(str).str.strip()) - {""}
        if len(values) == 1:
            g = categories.guess(next(iter(values)), country)
            if g.code:
                return g.code, f"the column '{col}' is '{next(iter(values))}' on every row ({', '.join(g.matched)})"
    for name in names:
        g = categories.guess(re.sub(r"[_.\-]+", " ", name), country)
        if g.code:
            return g.code, f"the name '{name}' says so ({', '.join(g.matched)})"
    return None


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
        dated = _dates(sample)  # 05.09.2024 is a date, not a number
        numeric = _numeric(sample) >= 0.9 and not dated
        role = "value" if numeric and re.search(ROLES["value"], _words(col)) else _role(str(col))
        if role == "date" and numeric and not _serials(sample):
            role = None  # a 'dia' of 1-31, a 'date' code: not a date
        elif role == "date" and not numeric and not _dates(sample):
            role = None
        elif role is None and not numeric and dated:
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
               or _near(v, country) is not None for v in list(distinct)[:300])
    return hits / min(len(distinct), 300)


def _near(value: str, country: str):
    """The closest ISO 3166-2 name (shapes.propose) when it is close enough to count (90 of 100)."""
    if len(value) < 4 or re.fullmatch(r"[\d.,\s-]+", value):
        return None
    near = propose(value, country)
    return near if near and near[2] >= 90 else None


def _region_column(table: pd.DataFrame, candidates: list[str], country: str) -> str | None:
    """The text column whose values best match the country's first-level regions (names or
    codes, the words in front forgiven, the closest names counted), whatever its header says: a
    column of rates or decimals is never the region (#47: the published regional rate was
    chosen), a police district beside the province loses. A header saying region breaks ties;
    with no column of region names, a text column whose header says region, else none."""
    known = lookup(country, None, [], {})
    text = [c for c in table.columns if c != "_row" and _numeric(table[c].head(500)) < 0.5
            and not _dates(table[c].head(500))]
    scored = [(round(_region_share(table[c], country, known), 2), c in candidates, -i, c)
              for i, c in enumerate(text)]
    if not scored:
        return None
    share, said, _, best = max(scored)
    if share >= 0.3 or (share > 0 and said):
        return best
    return next((c for c in candidates if c in text), None)


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
          other_sheets: list[str] | None = None, context: str = "") -> str:
    """The YAML text of a starting profile for this table; ``context``: the text of the file's
    other sheets (a sheet of variables saying the rows are victims)."""
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
    breakdowns = {c: kind for c in table.columns if c not in ("_row", region_col)
                  and (kind := _breakdown(str(c), table[c]))}
    named = [c for c in roles.get("category", []) if c not in breakdowns and c != region_col]
    crime_like = [c for c in table.columns if c not in ("_row", region_col) and c not in breakdowns
                  and c not in named and _numeric(table[c].head(500)) < 0.5 and _crime_share(table[c], country) >= 0.5]
    cat_cols = [c for c in [*named, *crime_like] if table[c].astype(str).str.strip().nunique() > 1
                and _crime_share(table[c], country) > 0][:2]
    fixed = None if cat_cols else _fixed_crime(table, [sheet or "", filename.rsplit(".", 1)[0]], country, region_col)
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
            apart = [v for v in unmatched if re.search(NO_REGION_WORDS, periods.fold(v))]
            if apart:  # prisons, abroad: the country's, but no region's
                prof["region"]["no_region"] = apart
                guesses.append(f"region: {', '.join(apart)}: no region of {country} (prisons, abroad), kept as "
                               "the country's remainder (region.no_region): counted in the national figure")
            aliases, unsure = {}, 0
            for v in [v for v in unmatched if v not in apart][:MAX_LISTED]:
                near = propose(v, country)
                if near and near[2] >= 90:
                    aliases[v] = near[0]
                    guesses.append(f"region: {v} -> {near[0]} ({near[1]}, similarity {near[2]} of 100): check it")
                else:
                    aliases[v] = "TODO"
                    unsure += 1
                    if near:
                        guesses.append(f"region: {v}: closest {near[0]} ({near[1]}, similarity {near[2]} of 100)")
            if aliases:
                prof["region"]["aliases"] = aliases
            if unsure:
                todo.append(f"region: {unsure} of {len(distinct)} names in '{region_col}' are not ISO names "
                            f"of {country}'s regions and none is close; map them in aliases (or delete those "
                            "that mean 'unknown region': they are listed in region.unknown; move those of no "
                            "region, as prisons, to region.no_region)")
    else:
        prof["region"] = {"column": "TODO", "by": "name"}
        todo.append("region: no region column found")
    # category: a column of crime names, else the one crime a constant column, the sheet or the
    # file's name says; columns of weapons, targets or motives are breakdowns, never the category
    words = [("the sheet's name", sheet or ""), ("the file's name", filename),
             *((f"the sheet {line.partition(chr(9))[0]}", line.partition(chr(9))[2])
               for line in (context or "").split("\n")[:50] if line)]
    if cat_cols:
        rules, unguessed = [], 0
        combos = table[cat_cols].astype(str).drop_duplicates().head(MAX_LISTED)
        for combo in combos.itertuples(index=False):
            label = " / ".join(dict.fromkeys(combo))
            g = categories.guess(label, country)
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
    elif fixed:
        prof["category"] = {"fixed": fixed[0]}
        guesses.append(f"category: every row is ICCS {fixed[0]}: {fixed[1]}")
    else:
        prof["category"] = {"fixed": "TODO"}
        todo.append("category: no column of crime names, and neither a constant column nor the sheet's "
                    "or the file's name says the crime; give the file's one ICCS code (fixed)")
    for col, kind in breakdowns.items():
        shown = ", ".join(sorted(set(table[col].astype(str).str.strip()) - {""})[:6])
        guesses.append(f"breakdown: '{col}' is a column of {kind} ({shown}): not the category; "
                       "IDEAL counts the crime, whatever its " + kind)
    # figures
    victims_said = next((f"{where} ('{m.group(0)}')" for where, w in
                         [*((f"the column '{c}'", str(c)) for c in table.columns if c != "_row"), *words]
                         if (m := re.search(VICTIM_WORDS, _words(w)))), None)
    if wide:
        prof["wide"] = {"columns": wide[0], "period": wide[1],
                        "indicator": "victims" if victims_said else "incidents"}
        todo.append("wide: periods are columns; check the indicator (incidents or victims)")
    elif roles.get("value"):
        column = roles["value"][0]
        head = _words(column)
        if re.search(VICTIM_WORDS, head):
            indicator, why = "victims", f"its header '{column}' says victims"
        elif re.search(EVENT_WORDS, head):
            indicator, why = "incidents", f"its header '{column}' says events"
        elif victims_said:
            indicator, why = "victims", f"{victims_said} says the figures are victims"
        else:
            indicator, why = "incidents", None
        prof["values"] = [{"column": column, "indicator": indicator}]
        if why:
            guesses.append(f"values: '{column}' read as {indicator}: {why}")
        else:
            todo.append(f"values: '{column}' read as incidents; say victims if it counts victims")
    else:
        if victims_said:
            prof["count"] = {"indicator": "victims"}
            guesses.append(f"count: no column of figures, so each row is counted; {victims_said} says a "
                           "row is a victim, so victims (say incidents if a row is an event)")
        else:
            prof["count"] = {"indicator": "incidents"}
            todo.append("count: no column of figures found, so each row is counted as one event; "
                        "say victims if a row is a victim")
    head = [f"# Starting profile written by `ideal profile new` from {filename}.",
            "# Settle every TODO, then: ideal profile check FILE --profile NAME --country CC",
            *[f"# TODO {t}" for t in todo],
            *(["# What the draft chose from the file's content, and why (check each):"] if guesses else []),
            *[f"#   {g}" for g in guesses], ""]
    return "\n".join(head) + yaml.safe_dump(prof, allow_unicode=True, sort_keys=False, width=100)
