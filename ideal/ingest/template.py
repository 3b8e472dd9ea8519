"""The IDEAL template: the canonical observation columns of DESIGN.md, as CSV or XLSX.

Everything is read as text so codes keep their leading zeros ("0101") and the validator,
not the parser, decides what is wrong with a value. ``source_row`` is the line number in the
file (the header is line 1), which is what the steward sees in a spreadsheet.
"""

from __future__ import annotations

import pandas as pd

from ideal.contracts import CANONICAL_COLUMNS, OBSERVATION_COLUMNS, REQUIRED_COLUMNS
from ideal.errors import SubmissionError
from ideal.i18n import tr
from ideal.ingest.sniff import Assumptions, ReadOptions, decimal_mark, to_numbers


def finish(frame: pd.DataFrame, decimal: str) -> pd.DataFrame:
    """Trimmed text columns, default status A, parsed numbers, default action I."""
    # Arrow-backed strings are trimmed in one vectorised pass (a column of values has about as
    # many distinct values as rows: factorising it first costs more than it saves)
    text = frame[OBSERVATION_COLUMNS].apply(lambda s: s.astype("str").str.strip())
    out = text.assign(obs_status=text["obs_status"].replace("", "A").str.upper(),
                      source_row=frame["source_row"].to_numpy(),
                      value_number=to_numbers(text["value"], decimal).to_numpy())
    action = frame["action"] if "action" in frame else "I"
    return out.assign(action=action)[CANONICAL_COLUMNS].reset_index(drop=True)


def unit_findings(units: pd.Series, indicators: pd.Series, rows: pd.Series) -> list[tuple]:
    """An optional unit column must agree with the unit each indicator is defined in (one unit
    per indicator, from the reference list)."""
    from ideal import reference

    expected = indicators.map(reference.indicators().set_index("code")["unit"])
    given = units.astype(str).str.strip().str.lower()
    bad = given.ne("") & expected.notna() & given.ne(expected.str.lower())
    out = []
    for (ind, unit), group in rows[bad].groupby([indicators[bad], given[bad]]):
        out.append(("error", "one_unit_per_indicator", "unit", int(group.iloc[0]), unit,
                    tr("indicator %(indicator)s is counted in %(expected)s, not %(unit)r (%(n)s "
                       "rows); convert the values or use the matching indicator.", indicator=ind,
                       expected=expected[group.index[0]], unit=unit, n=len(group)), len(group)))
    return out


def from_template(table: pd.DataFrame, filename: str, sep: str, options: ReadOptions,
                  notes: Assumptions) -> pd.DataFrame:
    df = table.copy()
    df.columns = [str(c).strip().lower() for c in df.columns]
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise SubmissionError(tr(
            "%(file)s: missing column(s) %(missing)s. The IDEAL template has the header: "
            "%(header)s (download it with `ideal template`).", file=filename,
            missing=", ".join(missing), header=",".join(OBSERVATION_COLUMNS))
        )
    if df.empty:
        raise SubmissionError(tr("%(file)s: the file has a header but no data rows.", file=filename))
    if "obs_status" not in df.columns:
        df = df.assign(obs_status="A")
    extra = [c for c in df.columns if c not in OBSERVATION_COLUMNS and c not in ("unit", "_row")]
    if extra:
        notes.add(tr("ignored columns: %(columns)s", columns=", ".join(extra)))
    # the row number the steward sees: the sheet's own for a workbook, else the line
    df = df.assign(source_row=df["_row"].astype(int) if "_row" in df else range(2, len(df) + 2))
    decimal = decimal_mark(df["value"], "value", sep, filename, options, notes)
    out = finish(df, decimal)
    if "unit" in df.columns:
        out.attrs["findings"] = unit_findings(df["unit"], df["indicator"].str.strip(), df["source_row"])
    return out


INSTRUCTIONS = {
    "es": ("Instrucciones", [
        "Plantilla IDEAL: una fila por región, periodo, tipo de delito e indicador.",
        "Llene la hoja 'data' desde la fila 2 (la fila 2 es un ejemplo: reemplácela).",
        "country: código ISO 3166-1 alfa-2 de su país (lista desplegable).",
        "region: código ISO 3166-2 de la región (hoja 'regions'), o el código del país para el total nacional.",
        "period: 2025 (año), 2025-Q1 (trimestre) o 2025-03 (mes). Un año incompleto envíelo por mes.",
        "crime_type: código ICCS con sus ceros a la izquierda (0101), de la hoja 'crime_types'.",
        "indicator: incidents (hechos) o victims (víctimas), de la hoja 'indicators'.",
        "value: la cifra, sin separador de miles. Vacío con obs_status M si no hay dato.",
        "obs_status: A normal, E estimado, P provisional, M sin dato.",
        "Los códigos son texto: no deje que la hoja de cálculo los convierta en números o fechas.",
    ]),
    "pt": ("Instruções", [
        "Modelo IDEAL: uma linha por região, período, tipo de crime e indicador.",
        "Preencha a planilha 'data' a partir da linha 2 (a linha 2 é um exemplo: substitua-a).",
        "country: código ISO 3166-1 alfa-2 do seu país (lista suspensa).",
        "region: código ISO 3166-2 da região (planilha 'regions'), ou o código do país para o total nacional.",
        "period: 2025 (ano), 2025-Q1 (trimestre) ou 2025-03 (mês). Envie um ano incompleto por mês.",
        "crime_type: código ICCS com os zeros à esquerda (0101), da planilha 'crime_types'.",
        "indicator: incidents (ocorrências) ou victims (vítimas), da planilha 'indicators'.",
        "value: o número, sem separador de milhar. Vazio com obs_status M se não houver dado.",
        "obs_status: A normal, E estimado, P provisório, M sem dado.",
        "Os códigos são texto: não deixe a planilha convertê-los em números ou datas.",
    ]),
    "en": ("Instructions", [
        "IDEAL template: one row per region, period, crime type and indicator.",
        "Fill in the 'data' sheet from row 2 (row 2 is an example: replace it).",
        "country: your country's ISO 3166-1 alpha-2 code (drop-down list).",
        "region: the region's ISO 3166-2 code (sheet 'regions'), or the country code for the national total.",
        "period: 2025 (year), 2025-Q1 (quarter) or 2025-03 (month). Send an incomplete year by month.",
        "crime_type: the ICCS code with its leading zeros (0101), from the sheet 'crime_types'.",
        "indicator: incidents or victims, from the sheet 'indicators'.",
        "value: the figure, without thousands separators. Empty with obs_status M when there is none.",
        "obs_status: A normal, E estimated, P provisional, M missing.",
        "Codes are text: do not let the spreadsheet turn them into numbers or dates.",
    ]),
}
TEMPLATE_ROWS = 5000  # rows of the data sheet given drop-down lists and text format


def xlsx_template(members: tuple[str, ...], language: str = "es") -> bytes:
    """The template as XLSX: a 'data' sheet (header, an example row, every code column typed
    as text in every row, drop-down lists for country, region, crime type, indicator and
    status), the code lists on their own sheets, and an instructions sheet in the language."""
    import io

    import openpyxl
    from openpyxl.styles import Font
    from openpyxl.worksheet.datavalidation import DataValidation

    from ideal import reference

    wb = openpyxl.Workbook()
    data = wb.active
    data.title = "data"
    data.append(OBSERVATION_COLUMNS)
    example = "MX" if "MX" in members or not members else members[0]
    region = reference.regions([example])["region"].iloc[0] if members else "MX-JAL"
    data.append([example, region, "2024", "0101", "incidents", 1873, "A"])
    sheets = {
        "countries": (["code", "name"], [(c, reference.country_name(c, language)) for c in members]),
        "regions": (["region", "country", "name", "type"],
                    reference.regions(members)[["region", "country", "name", "type"]].itertuples(index=False)),
        "crime_types": (["code", "name", "level"],
                        reference.iccs()[["code", f"name_{language}", "level"]].itertuples(index=False)),
        "indicators": (["code", "unit", "name"],
                       reference.indicators()[["code", "unit", f"name_{language}"]].itertuples(index=False)),
        "obs_status": (["code", "meaning"], [("A", "normal"), ("E", "estimated"), ("P", "provisional"),
                                             ("M", "missing")]),
    }
    sizes = {}
    for name, (header, rows) in sheets.items():
        ws = wb.create_sheet(name)
        ws.append(header)
        for row in rows:
            ws.append([str(v) for v in row])
        sizes[name] = ws.max_row
    title, lines = INSTRUCTIONS.get(language, INSTRUCTIONS["en"])
    guide = wb.create_sheet(title)
    for line in lines:
        guide.append([line])
    guide.column_dimensions["A"].width = 110
    for ws in wb.worksheets:
        for cell in ws[1]:
            cell.font = Font(bold=True)
        if ws is not guide:
            ws.freeze_panes = "A2"
    # every code column is text in every row, not only the example row: 0101 keeps its zero,
    # 2025-03 stays a period (not a date)
    last = TEMPLATE_ROWS + 1
    for col in ("A", "B", "C", "D", "E", "G"):
        data.column_dimensions[col].number_format = "@"
        for (cell,) in data.iter_rows(min_row=2, max_row=last, min_col=ord(col) - 64, max_col=ord(col) - 64):
            cell.number_format = "@"
    lists = {"A": "countries", "B": "regions", "D": "crime_types", "E": "indicators", "G": "obs_status"}
    for col, sheet in lists.items():
        rule = DataValidation(type="list", formula1=f"={sheet}!$A$2:$A${max(sizes[sheet], 2)}",
                              allow_blank=True, showErrorMessage=True,
                              errorTitle=col, error=f"Use a code of the sheet '{sheet}'.")
        rule.add(f"{col}2:{col}{last}")
        data.add_data_validation(rule)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
