"""Structured contributions, the second kind of submission (#49): a member's assessors rate
each criminal market of the catalogue (reference.markets) 1-10 against written anchors, in
rounds, as the Organized Crime Index's expert review and Europol's SOCTA questionnaires do.

    decoded tables -> the contributions table (a header with market, severity, assessor)
                   -> one row per member x market (x region) x year x round x assessor
                   -> findings (errors name the row; warnings: one or two assessors, an
                      assessor far from the others)

No assessor is named: the assessor column holds a number the focal point gives each expert
(1, 2, 3 ...), and a file whose assessor column holds anything else is refused and not kept.
Pure: no database, no files.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from ideal import reference
from ideal.contracts import findings_frame
from ideal.errors import NamedAssessor, SubmissionError
from ideal.i18n import N_, tr
from ideal.ingest.decode import Decoded
from ideal.ingest.locate import find_header, rehead

COLUMNS = ["country", "market", "region", "year", "round", "assessor", "role", "severity", "trend",
           "scope", "cross_border", "international", "violence", "corruption", "laundering",
           "adaptability", "confidence", "evidence", "evidence_grade"]
REQUIRED = ["country", "market", "year", "round", "assessor", "role", "severity", "confidence"]
SOCTA = ["international", "violence", "corruption", "laundering", "adaptability"]  # 1-5 each
# the column names a focal point may have translated (the template writes the codes)
ALIASES = {
    "pais": "country", "país": "country", "mercado": "market", "región": "region", "region": "region",
    "região": "region", "año": "year", "ano": "year", "ronda": "round", "rodada": "round",
    "evaluador": "assessor", "avaliador": "assessor", "rol": "role", "papel": "role",
    "severidad": "severity", "gravedad": "severity", "gravidade": "severity", "severidade": "severity",
    "tendencia": "trend", "tendência": "trend", "alcance": "scope", "abrangência": "scope",
    "transfronterizo": "cross_border", "transfronteiriço": "cross_border",
    "confianza": "confidence", "confiança": "confidence", "evidencia": "evidence",
    "evidência": "evidence", "calificación": "evidence_grade", "classificação": "evidence_grade",
}
ROLES = {"fiu": "fiu", "uif": "fiu", "uaf": "fiu", "coaf": "fiu",
         "police": "police", "police_intelligence": "police", "policia": "police", "policía": "police",
         "polícia": "police", "inteligencia": "police", "inteligência": "police",
         "prosecution": "prosecution", "fiscalia": "prosecution", "fiscalía": "prosecution",
         "ministerio_publico": "prosecution", "ministério_público": "prosecution",
         "customs": "customs", "aduana": "customs", "aduanas": "customs", "alfândega": "customs",
         "receita": "customs", "environment": "environment", "ambiente": "environment",
         "medio_ambiente": "environment", "meio_ambiente": "environment",
         "academia": "academia", "academy": "academia", "universidad": "academia",
         "universidade": "academia"}
ROLE_CODES = ("fiu", "police", "prosecution", "customs", "environment", "academia")
CONFIDENCE = {"low": "low", "baja": "low", "bajo": "low", "baixa": "low", "baixo": "low",
              "moderate": "moderate", "moderada": "moderate", "moderado": "moderate", "media": "moderate",
              "média": "moderate", "high": "high", "alta": "high", "alto": "high"}
GRADE = re.compile(r"^[A-F][1-6]$")  # the Admiralty code: source A-F, information 1-6
NEEDS_EVIDENCE = 7  # a severity of 7 or more needs graded evidence
FEW_ASSESSORS = 3  # fewer per member x market is flagged "one or two assessors"
FAR = 3.0  # an assessor this far from the others' median is reported back
EVIDENCE_CHARS = 300


@dataclass
class Contributed:
    """A contributions file as read: its rows (COLUMNS, typed), its findings and notes."""

    rows: pd.DataFrame
    findings: pd.DataFrame = field(default_factory=findings_frame)
    notes: list[str] = field(default_factory=list)
    format: str = "contributions"

    @property
    def ok(self) -> bool:
        return not (self.findings["severity"] == "error").any()


def _norm(name) -> str:
    text = str(name).strip().casefold().replace(" ", "_")
    return ALIASES.get(text, text)


def header_at(table: pd.DataFrame) -> int | None:
    """Where a table's contributions header is (find_header's answer), or None."""
    return find_header(table.rename(columns=_norm), {"market", "severity", "assessor"}) \
        if len(table.columns) else None


def find(decoded: Decoded) -> str | None:
    """The table of a decoded file that holds contributions (the sheet 'contributions', else
    the first whose header has market, severity and assessor), or None: not a contributions
    file."""
    if "contributions" in decoded.tables and header_at(decoded.tables["contributions"]) is not None:
        return "contributions"
    for name, table in decoded.tables.items():
        if header_at(table) is not None:
            return name
    return None


def read(table: pd.DataFrame, filename: str, submitter: str, members: tuple[str, ...] = (), *,
         today: date | None = None) -> Contributed:
    """The contributions of a located table (find), checked for the member ``submitter``
    (cross-border links name other ``members``)."""
    at = header_at(table)
    if at is not None and at >= 0:
        table = rehead(table.rename(columns=_norm), at)
    table = table.rename(columns=_norm)
    rows = table["_row"].astype("int64").to_numpy() if "_row" in table else np.arange(2, len(table) + 2)
    missing = [c for c in REQUIRED if c not in table.columns]
    if missing:
        raise SubmissionError(tr("%(file)s: the contributions table lacks the column(s) %(missing)s; "
                                 "the template's header is %(header)s.", file=filename,
                                 missing=", ".join(missing), header=",".join(COLUMNS)))
    text = pd.DataFrame({c: (table[c].fillna("").astype(str).str.strip() if c in table else "")
                         for c in COLUMNS}, index=table.index)
    text = text[(text != "").any(axis=1)]
    rows = rows[text.index.to_numpy()] if len(rows) == len(table) else rows
    text = text.reset_index(drop=True)
    if text.empty:
        raise SubmissionError(tr("%(file)s: the contributions table has a header but no rows.", file=filename))
    _no_names(text["assessor"], rows, filename)
    return check(text, rows, submitter, members, today or date.today())


def _no_names(assessor: pd.Series, rows: np.ndarray, filename: str) -> None:
    """The assessor column holds numbers only; anything else may be a name, so the file is
    refused before anything of it is kept."""
    bad = ~assessor.str.fullmatch(r"\d{1,2}")
    if bad.any():
        raise NamedAssessor(tr(
            "%(file)s: the assessor column must hold a number for each expert (1, 2, 3 ...), never "
            "a name or initials; row %(row)s holds something else. The file was not kept; number the "
            "assessors and send it again.", file=filename, row=int(rows[bad.to_numpy()][0])))


def _number(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s.str.replace(",", ".", regex=False), errors="coerce")


def check(text: pd.DataFrame, rows: np.ndarray, submitter: str, members: tuple[str, ...],
          today: date) -> Contributed:
    """Every check of a contributions table (text cells, COLUMNS) for member ``submitter``."""
    cat = reference.markets()
    names = {str(v).strip().casefold(): code for code, *alts in
             cat[["code", "oci_name", "name_en", "name_es", "name_pt"]].itertuples(index=False)
             for v in (code, *alts)}
    regions = set(reference.regions([submitter])["region"])
    errors: list[tuple] = []

    def bad(mask: pd.Series, rule: str, column: str, message: str, **kw) -> None:
        for i in np.flatnonzero(mask.to_numpy()):
            errors.append(("error", rule, column, int(rows[i]), text.at[i, column],
                           tr(message, row=int(rows[i]), value=text.at[i, column], **kw)))

    country = text["country"].str.upper()
    bad(country != submitter, "contribution_country", "country",
        N_("row %(row)s: country %(value)s; a member sends only its own assessments (%(own)s)."),
        own=submitter)
    market = text["market"].str.casefold().map(names)
    bad(market.isna(), "contribution_market", "market",
        N_("row %(row)s: %(value)s is not a market of the catalogue (see the sheet 'markets')."))
    region = text["region"].str.upper()
    bad((region != "") & ~region.isin(regions), "contribution_region", "region",
        N_("row %(row)s: region %(value)s is not a first-level region of %(own)s; leave it empty "
           "for the whole country."), own=submitter)
    year = _number(text["year"])
    bad(~year.between(2000, today.year) | (year != year.round()), "contribution_year", "year",
        N_("row %(row)s: year %(value)s; write the year assessed (2000 to this year)."))
    rnd = _number(text["round"])
    bad(~rnd.between(1, 9) | (rnd != rnd.round()), "contribution_round", "round",
        N_("row %(row)s: round %(value)s; write 1 for the first round, 2 for the second."))
    role = text["role"].str.casefold().str.replace(" ", "_").map(ROLES)
    bad(role.isna(), "contribution_role", "role",
        N_("row %(row)s: role %(value)s; use fiu, police, prosecution, customs, environment or academia."))
    severity = _number(text["severity"])
    bad(~severity.between(1, 10), "contribution_severity", "severity",
        N_("row %(row)s: severity %(value)s; write a score from 1 to 10 against the anchors."))
    trend = _number(text["trend"])
    bad((text["trend"] != "") & (~trend.between(-2, 2) | (trend != trend.round())),
        "contribution_trend", "trend",
        N_("row %(row)s: trend %(value)s; write -2 (falling fast) to +2 (rising fast) over three years."))
    for col in SOCTA:
        sub = _number(text[col])
        bad((text[col] != "") & (~sub.between(1, 5) | (sub != sub.round())), "contribution_criterion",
            col, N_("row %(row)s: %(criterion)s %(value)s; the SOCTA criteria are scored 1 to 5."), criterion=col)
    confidence = text["confidence"].str.casefold().map(CONFIDENCE)
    bad(confidence.isna(), "contribution_confidence", "confidence",
        N_("row %(row)s: confidence %(value)s; use low, moderate or high."))
    scope = text["scope"].str.upper().str.split(r"[\s;,]+")
    bad(scope.map(lambda s: any(x and x != "NATIONAL" and x not in regions for x in s)), "contribution_scope",
        "scope", N_("row %(row)s: scope %(value)s; list first-level region codes of %(own)s, or NATIONAL."),
        own=submitter)
    links = text["cross_border"].str.upper().str.split(r"[\s;,]+")
    known = set(members) or reference.iso_countries()
    bad(links.map(lambda s: any(x and (x not in known or x == submitter) for x in s)), "contribution_links",
        "cross_border", N_("row %(row)s: cross-border links %(value)s; name other members by their "
                           "ISO code (e.g. CO PE)."))
    grades = text["evidence_grade"].str.upper().str.split(r"[\s;,]+").map(lambda s: [g for g in s if g])
    bad(grades.map(lambda s: any(not GRADE.match(g) for g in s)), "contribution_grade", "evidence_grade",
        N_("row %(row)s: evidence grade %(value)s; grade each reference with the Admiralty code, a "
           "source letter A-F and an information number 1-6 (e.g. B2)."))
    bad(text["evidence"].str.len() > EVIDENCE_CHARS, "contribution_evidence", "evidence",
        N_("row %(row)s: the evidence reference is over 300 characters; cite documents by reference."))
    ungraded = (severity >= NEEDS_EVIDENCE) & ((grades.map(len) == 0) | (text["evidence"] == ""))
    bad(ungraded, "contribution_evidence_needed", "severity",
        N_("row %(row)s: severity %(value)s needs graded evidence: a reference in evidence and its "
           "Admiralty grade in evidence_grade (e.g. B2), or a severity below 7."))
    out = pd.DataFrame({
        "source_row": rows, "country": country, "market": market, "region": region.where(region != "", None),
        "year": year, "round": rnd, "assessor": _number(text["assessor"]), "role": role,
        "severity": severity, "trend": trend, "scope": scope.map(lambda s: " ".join(x for x in s if x)),
        "cross_border": links.map(lambda s: " ".join(x for x in s if x)),
        **{c: _number(text[c]) for c in SOCTA}, "confidence": confidence,
        "evidence": text["evidence"], "evidence_grade": grades.map(" ".join)})
    key = ["market", "region", "year", "round", "assessor"]
    twice = out.duplicated(key, keep="first") & out["market"].notna()
    bad(twice, "contribution_repeated", "assessor",
        N_("row %(row)s: assessor %(value)s rates the same market, region, year and round twice; keep one row."))
    findings = errors + _warnings(out)
    return Contributed(out, findings_frame(findings))


def _warnings(out: pd.DataFrame) -> list[tuple]:
    """One or two assessors for a market; an assessor far from the others."""
    found: list[tuple] = []
    valid = out.dropna(subset=["market", "year", "round", "severity"])
    if valid.empty:
        return found
    latest = valid[valid["round"] == valid.groupby(["market", "year"])["round"].transform("max")]
    for (mkt, region, year), g in latest.groupby(["market", latest["region"].fillna(""), "year"]):
        where = f"{mkt} {region} {int(year)}".replace("  ", " ")
        if g["assessor"].nunique() < FEW_ASSESSORS:
            found.append(("warning", "contribution_few_assessors", "assessor", int(g["source_row"].min()), where,
                          tr("%(market)s: one or two assessors (%(n)s); three or more make a severity "
                             "IDEAL can weigh.", market=where, n=g["assessor"].nunique())))
            continue
        for r in g.itertuples(index=False):
            others = g.loc[g["assessor"] != r.assessor, "severity"].median()
            if abs(r.severity - others) >= FAR:
                found.append(("warning", "contribution_far", "severity", int(r.source_row), f"{r.severity:g}",
                              tr("row %(row)s: assessor %(who)s rates %(market)s %(value)s, the others' "
                                 "median is %(others)s; ask whether they know something the others do "
                                 "not, or read the anchors differently.", row=int(r.source_row),
                                 who=int(r.assessor), market=where, value=f"{r.severity:g}",
                                 others=f"{others:g}")))
    return found


# --- the template -----------------------------------------------------------------------

GUIDE = {
    "en": ("instructions", [
        "IDEAL structured contributions: one row per market (x first-level region, optional) x year x assessor.",
        "Fill in the 'contributions' sheet from row 2 (row 2 is an example: replace it).",
        "country: your country's ISO code. market: a code of the sheet 'markets'. region: empty for the whole country.",
        "assessor: a number for each expert (1, 2, 3 ...), never a name or initials. role: fiu, police, prosecution, customs, environment or academia.",
        "round: 1, then 2 after you have seen the spread of round one; the second round replaces the first.",
        "severity: 1 to 10 against the anchors of the sheet 'anchors'. trend: -2 (falling fast) to +2 (rising fast) over three years.",
        "scope: the regions concerned (codes) or NATIONAL; cross_border: the other members linked (e.g. CO PE).",
        "international, violence, corruption, laundering, adaptability: the SOCTA criteria, 1 (low) to 5 (high).",
        "confidence: low, moderate or high. evidence: document references; evidence_grade: their Admiralty grades (A-F source, 1-6 information, e.g. B2).",
        "A severity of 7 or more needs graded evidence. Three or more assessors per market make a severity IDEAL can weigh.",
    ]),
    "es": ("instrucciones", [
        "Contribuciones estructuradas de IDEAL: una fila por mercado (x región de primer nivel, opcional) x año x evaluador.",
        "Complete la hoja 'contributions' desde la fila 2 (la fila 2 es un ejemplo: reemplácela).",
        "country: el código ISO de su país. market: un código de la hoja 'markets'. region: vacía para todo el país.",
        "assessor: un número por experto (1, 2, 3 ...), nunca un nombre ni iniciales. role: fiu, police, prosecution, customs, environment o academia.",
        "round: 1, luego 2 tras ver la dispersión de la primera ronda; la segunda ronda reemplaza a la primera.",
        "severity: de 1 a 10 según los anclajes de la hoja 'anchors'. trend: de -2 (baja rápido) a +2 (sube rápido) en tres años.",
        "scope: las regiones afectadas (códigos) o NATIONAL; cross_border: los otros miembros vinculados (p. ej. CO PE).",
        "international, violence, corruption, laundering, adaptability: los criterios SOCTA, de 1 (bajo) a 5 (alto).",
        "confidence: low, moderate o high. evidence: referencias de documentos; evidence_grade: su calificación Admiralty (fuente A-F, información 1-6, p. ej. B2).",
        "Una severidad de 7 o más requiere evidencia calificada. Tres o más evaluadores por mercado dan una severidad que IDEAL puede ponderar.",
    ]),
    "pt": ("instrucoes", [
        "Contribuições estruturadas do IDEAL: uma linha por mercado (x região de primeiro nível, opcional) x ano x avaliador.",
        "Preencha a planilha 'contributions' a partir da linha 2 (a linha 2 é um exemplo: substitua-a).",
        "country: o código ISO do seu país. market: um código da planilha 'markets'. region: vazia para o país inteiro.",
        "assessor: um número por especialista (1, 2, 3 ...), nunca um nome ou iniciais. role: fiu, police, prosecution, customs, environment ou academia.",
        "round: 1, depois 2 após ver a dispersão da primeira rodada; a segunda rodada substitui a primeira.",
        "severity: de 1 a 10 conforme as âncoras da planilha 'anchors'. trend: de -2 (cai rápido) a +2 (sobe rápido) em três anos.",
        "scope: as regiões afetadas (códigos) ou NATIONAL; cross_border: os outros membros ligados (ex. CO PE).",
        "international, violence, corruption, laundering, adaptability: os critérios SOCTA, de 1 (baixo) a 5 (alto).",
        "confidence: low, moderate ou high. evidence: referências de documentos; evidence_grade: sua classificação Admiralty (fonte A-F, informação 1-6, ex. B2).",
        "Uma severidade de 7 ou mais exige evidência classificada. Três ou mais avaliadores por mercado dão uma severidade que o IDEAL pode ponderar.",
    ]),
}


def example(country: str, year: int) -> list[str]:
    return [country, "cocaine", "", str(year), "1", "1", "police", "7", "1", "NATIONAL", "", "4", "4", "3",
            "3", "4", "moderate", "report 2025/14", "B2"]


def csv_template(country: str = "MX", year: int | None = None) -> bytes:
    """The template as CSV: the header and an example row."""
    year = year or date.today().year - 1
    buf = io.StringIO()
    pd.DataFrame([example(country, year)], columns=COLUMNS).to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue().encode("utf-8")


def xlsx_template(members: tuple[str, ...], language: str = "es", country: str | None = None) -> bytes:
    """The template as XLSX: the 'contributions' sheet (header, example, code columns as text),
    the catalogue's markets and the anchors in the language, and the instructions."""
    import openpyxl
    from openpyxl.styles import Alignment, Font

    language = language if language in GUIDE else "en"
    country = country or (members[0] if members else "MX")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "contributions"
    ws.append(COLUMNS)
    ws.append(example(country, date.today().year - 1))
    cat = reference.markets()
    markets = wb.create_sheet("markets")
    markets.append(["code", "kind", "name", "iccs", "indicators"])
    for r in cat.itertuples(index=False):
        markets.append([r.code, r.kind, getattr(r, f"name_{language}"), " ".join(r.iccs), " ".join(r.indicators)])
    anchors = wb.create_sheet("anchors")
    anchors.append(["level", "band", "anchor"])
    for r in reference.market_anchors().itertuples(index=False):
        anchors.append([r.level, r.band, getattr(r, language)])
    anchors.column_dimensions["C"].width = 120
    title, lines = GUIDE[language]
    guide = wb.create_sheet(title)
    for line in lines:
        guide.append([line])
    guide.column_dimensions["A"].width = 130
    for sheet in wb.worksheets:
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                cell.alignment = Alignment(wrap_text=sheet is anchors)
    for col in range(1, len(COLUMNS) + 1):
        for (cell,) in ws.iter_rows(min_row=2, max_row=500, min_col=col, max_col=col):
            cell.number_format = "@"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
