"""National exports in the shapes real ones come in (DESIGN.md), built here: small, seeded,
with their quirks, and with the truth known (what each should become)."""

from __future__ import annotations

import io
import random
import zipfile

import openpyxl

CR_PROVINCES = ["SAN JOSE", "ALAJUELA", "CARTAGO", "HEREDIA", "GUANACASTE", "PUNTARENAS", "LIMON"]
CR_CRIMES = [("HOMICIDIO", "HOMICIDIO DOLOSO"), ("ASALTO", "ARMA DE FUEGO"), ("HURTO", "DESCUIDO"),
             ("ROBO", "FORZADURA"), ("ROBO DE VEHICULO", "TACHA"), ("SUICIDIO", "AHORCAMIENTO")]


def cr_oij_microdata(n: int = 400, seed: int = 1, fmt: str = "%m/%d/%Y") -> tuple[bytes, dict]:
    """Costa Rica, OIJ: one row per event, a date column (month first), province names in
    capitals without accents, an unknown province, suicides mixed in. Returns (CSV bytes,
    truth: {(province, crime, 'YYYY-MM'): count})."""
    rng = random.Random(seed)
    lines = ["Delito,SubDelito,Fecha,Hora,Victima,SubVictima,Edad,Sexo,Nacionalidad,Provincia,Canton,Distrito"]
    truth: dict = {}
    for _ in range(n):
        crime, sub = rng.choice(CR_CRIMES)
        prov = rng.choice(CR_PROVINCES + ["DESCONOCIDO"])
        month, day = rng.randint(1, 12), rng.randint(1, 28)
        from datetime import date
        when = date(2023, month, day).strftime(fmt)
        lines.append(f"{crime},{sub},{when},06:00:00 - 08:59:59,PERSONA,PEATON,Mayor de edad,"
                     f"HOMBRE,COSTA RICA,{prov},CENTRAL,CENTRO")
        truth[(prov, crime, f"2023-{month:02d}")] = truth.get((prov, crime, f"2023-{month:02d}"), 0) + 1
    return ("\n".join(lines) + "\n").encode(), truth


CR_PROFILE = """
name: cr_oij_eventos
title: "Costa Rica: OIJ, un registro por hecho"
country: CR
detect: [Delito, SubDelito, Fecha, Provincia]
period: {date: Fecha, level: month}
region:
  column: Provincia
  by: name
category:
  columns: [Delito, SubDelito]
  rules:
    - {when: {Delito: "^HOMICIDIO$"}, iccs: "0101"}
    - {when: {Delito: "^ASALTO$"}, iccs: "0401"}
    - {when: {Delito: "^(HURTO|ROBO|ROBO DE VEHICULO)$"}, iccs: "0502"}
    - {when: {Delito: "^SUICIDIO$"}, out_of_scope: "suicide is not a crime"}
count: {indicator: incidents}
"""


BR_UFS = [("Acre", "BR-AC"), ("Alagoas", "BR-AL"), ("São Paulo", "BR-SP"), ("Rio de Janeiro", "BR-RJ"),
          ("Pará", "BR-PA")]
BR_MONTHS = ["janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto",
             "setembro", "outubro", "novembro", "dezembro"]


def _xlsx(sheets: dict[str, list[list]], stale_dimension: str | None = None) -> bytes:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    data = buf.getvalue()
    if stale_dimension is None:
        return data
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            body = zin.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                import re
                body = re.sub(rb'<dimension ref="[^"]*" ?/>', f'<dimension ref="{stale_dimension}"/>'.encode(), body)
            zout.writestr(item, body)
    return out.getvalue()


def br_sinesp_workbook(seed: int = 2, months: int = 12, stale_dimension: str | None = None) -> tuple[bytes, dict]:
    """Brazil, SINESP-like state workbook: a notes sheet first, then 'Ocorrências' and
    'Vítimas' sheets; states by name, months as Portuguese names, a title row above the
    header. Truth: {(uf, crime, 'YYYY-MM', indicator): value}."""
    rng = random.Random(seed)
    truth: dict = {}
    occ = [["Indicadores de segurança pública por UF"], [],
           ["UF", "Tipo Crime", "Ano", "Mês", "Ocorrências"]]
    vic = [["UF", "Tipo Crime", "Ano", "Mês", "Vítimas"]]
    for uf, code in BR_UFS:
        for m in BR_MONTHS[:months]:
            for crime in ("Roubo de veículo", "Estupro"):
                v = rng.randint(0, 300)
                occ.append([uf.upper() if uf == "Pará" else uf, crime, 2022, m.capitalize() if uf == "Acre" else m, v])
                if crime == "Roubo de veículo":
                    truth[(code, "0401", f"2022-{BR_MONTHS.index(m) + 1:02d}", "incidents")] = v
            w = rng.randint(0, 80)
            vic.append([uf, "Homicídio doloso", 2022, m, w])
            truth[(code, "0101", f"2022-{BR_MONTHS.index(m) + 1:02d}", "victims")] = w
    notes = [["Fonte: SINESP"], ["Notas: dados sujeitos a revisão"]]
    return _xlsx({"Notas": notes, "Ocorrências": occ, "Vítimas": vic}, stale_dimension), truth


BR_PROFILE = """
name: br_sinesp_uf
title: "Brasil: SINESP indicadores por UF"
country: BR
detect: [UF, Tipo Crime, Ano, Mês]
read:
  sheets: [{name: "Ocorrências"}, {name: "Vítimas"}]
period: {year: Ano, month: Mês}
region: {column: UF, by: name}
category:
  columns: [Tipo Crime]
  rules:
    - {when: {Tipo Crime: "^Homicídio doloso$"}, iccs: "0101"}
    - {when: {Tipo Crime: "^Roubo de veículo$"}, iccs: "0401"}
    - {when: {Tipo Crime: "^Estupro$"}, out_of_scope: "sexual violence (ICCS 03)"}
values:
  - {column: "Ocorrências", indicator: incidents, empty: skip, empty_reason: "victims sheet"}
  - {column: "Vítimas", indicator: victims, empty: skip, empty_reason: "occurrences sheet"}
"""


def ec_homicides(seed: int = 3, serial: bool = True) -> tuple[bytes, dict]:
    """Ecuador, police homicide victims: one row per victim, Excel serial dates, provinces by
    name with accents lost as '?', a province code of another country, 'SIN DATO'."""
    rng = random.Random(seed)
    provinces = [("GUAYAS", "EC-G"), ("PICHINCHA", "EC-P"), ("MANAB?", "EC-M"), ("LOS R?OS", "EC-R"),
                 ("EL ORO", "EC-O")]
    rows = [["Zona", "Provincia", "Fecha Infracción", "Tipo Muerte", "Arma", "Sexo"]]
    truth: dict = {}
    from datetime import date
    for _ in range(300):
        prov, code = rng.choice(provinces)
        d = date(2023, rng.randint(1, 12), rng.randint(1, 28))
        serial_day = (d - date(1899, 12, 30)).days
        rows.append(["Zona 8", prov, serial_day if serial else d.strftime("%d/%m/%Y"),
                     rng.choice(["ASESINATO", "HOMICIDIO", "SICARIATO", "FEMICIDIO"]), "ARMA DE FUEGO", "HOMBRE"])
        truth[(code, f"{d.year}")] = truth.get((code, f"{d.year}"), 0) + 1
    rows.append(["Zona 8", "SIN DATO", serial_day, "HOMICIDIO", "ARMA BLANCA", "HOMBRE"])
    return _xlsx({"mdi_homicidios": rows}), truth


EC_PROFILE = """
name: ec_homicidios_victimas
title: "Ecuador: homicidios intencionales, una fila por víctima"
country: EC
detect: [Provincia, Fecha Infracción, Tipo Muerte]
period: {date: "Fecha Infracción", date_format: excel, level: year}
region: {column: Provincia, by: name, aliases: {"STA ELENA": EC-SE}}
category: {fixed: "0101"}
count: {indicator: victims}
"""


def gt_wide_months(seed: int = 4) -> tuple[bytes, dict]:
    """Guatemala-like: one row per department and crime, months as columns (Spanish
    abbreviations), a 'TOTAL' row per crime and a Total column."""
    rng = random.Random(seed)
    months = ["Ene", "Feb", "Mar", "Abr", "May", "Jun", "Jul", "Ago", "Sep", "Oct", "Nov", "Dic"]
    deps = [("Guatemala", "GT-GU"), ("Escuintla", "GT-ES"), ("Petén", "GT-PE")]
    lines = [";".join(["Departamento", "Delito", "Año", *months, "Total"])]
    truth: dict = {}
    for crime, iccs in (("Homicidios", "0101"), ("Extorsiones", "02051")):
        sums = [0] * 12
        for dep, code in deps:
            vals = [rng.randint(0, 90) for _ in months]
            sums = [a + b for a, b in zip(sums, vals, strict=True)]
            lines.append(";".join([dep, crime, "2024", *map(str, vals), str(sum(vals))]))
            for i, v in enumerate(vals):
                truth[(code, iccs, f"2024-{i + 1:02d}")] = v
        lines.append(";".join(["TOTAL", crime, "2024", *map(str, sums), str(sum(sums))]))
    return ("\n".join(lines) + "\n").encode("cp1252"), truth


GT_PROFILE = """
name: gt_pnc_mensual
title: "Guatemala: PNC, meses en columnas"
country: GT
detect: [Departamento, Delito, Año, Ene]
read: {encoding: cp1252}
period: {year: Año}
region: {column: Departamento, by: name}
category:
  columns: [Delito]
  rules:
    - {when: {Delito: "^Homicidios$"}, iccs: "0101"}
    - {when: {Delito: "^Extorsiones$"}, iccs: "02051"}
wide: {columns: "(?i)^(ene|feb|mar|abr|may|jun|jul|ago|sep|oct|nov|dic)$", period: month, indicator: incidents}
"""


def hn_wide_years() -> tuple[bytes, dict]:
    """Honduras-like: years as columns, departments by ISO code without the prefix."""
    lines = ["departamento,indicador,2019,2020,2021", "FM,homicidios,1200,900,800",
             "CR,homicidios,700,650,",  "AT,homicidios,300,280,260"]
    truth = {("HN-FM", "2019"): 1200, ("HN-FM", "2021"): 800, ("HN-CR", "2020"): 650,
             ("HN-AT", "2021"): 260}
    return ("\n".join(lines) + "\n").encode(), truth


HN_PROFILE = """
name: hn_anual
title: "Honduras: años en columnas"
country: HN
detect: [departamento, indicador]
region: {column: departamento}
category: {fixed: "0101"}
wide: {columns: "^(19|20)\\\\d\\\\d$", period: year, indicator: victims}
"""


EC_PROVINCES_MDI = [("GUAYAS", "EC-G"), ("PICHINCHA", "EC-P"), ("MANABI", "EC-M"), ("LOS RIOS", "EC-R"),
                    ("EL ORO", "EC-O"), ("ESMERALDAS", "EC-E"), ("SANTA ELENA", "EC-SE"), ("AZUAY", "EC-A")]


def ec_mdi_victims(seed: int = 6, unknown: str | None = None) -> tuple[bytes, dict]:
    """Ecuador, Ministerio del Interior homicide microdata as published: a cover sheet, then one
    row per victim with the police zone, subzone, district and circuit before the province,
    Excel date cells in ``fecha_infraccion`` and the victim's age and sex. ``unknown``: a
    province name no ISO name matches, on rows of several months. Truth: {(ISO code, 'YYYY'): victims}."""
    from datetime import datetime

    rng = random.Random(seed)
    rows = [["tipo_muerte", "zona", "subzona", "distrito", "circuito", "provincia", "canton",
             "fecha_infraccion", "arma", "edad_victima", "sexo_victima"]]
    truth: dict = {}
    for _ in range(400):
        prov, code = rng.choice(EC_PROVINCES_MDI)
        when = datetime(rng.choice([2023, 2024]), rng.randint(1, 12), rng.randint(1, 28))
        rows.append([rng.choice(["ASESINATO", "HOMICIDIO", "SICARIATO", "FEMICIDIO"]), "ZONA 8",
                     f"{prov} SUR", f"DISTRITO {rng.choice(['NORTE', 'SUR', 'ESTE', 'CENTRO'])} {rng.randint(1, 9)}",
                     f"C{rng.randint(1, 40):02d}", prov, "CANTON X", when, "ARMA DE FUEGO", rng.randint(15, 70),
                     rng.choice(["HOMBRE", "MUJER"])])
        truth[(code, str(when.year))] = truth.get((code, str(when.year)), 0) + 1
    if unknown:
        for month in range(1, 12):
            rows.append(["HOMICIDIO", "ZONA 4", "X", "DISTRITO X 1", "C01", unknown, "X",
                         datetime(2024, month, 3), "ARMA BLANCA", 30, "HOMBRE"])
    cover = [["Ministerio del Interior - Homicidios intencionales"], ["Cifras provisionales, sujetas a revisión"]]
    return _xlsx({"Portada": cover, "mdi_homicidios": rows}), truth


# --- #47: three shapes of homicide-victim microdata that drafts got wrong --------------------

CL_REGIONS = [("Región de Arica y Parinacota", "CL-AP"), ("Región de Tarapacá", "CL-TA"),
              ("Región de Antofagasta", "CL-AN"), ("Región de Valparaíso", "CL-VS"),
              ("Metropolitana de Santiago", "CL-RM"), ("Región del Maule", "CL-ML"),
              ("Región de La Araucanía", "CL-AR"), ("Región de Los Lagos", "CL-LL"),
              ("Aysén del General Carlos Ibáñez del Campo", "CL-AI"),
              ("Magallanes y de la Antártica Chilena", "CL-MA")]


def cl_victims_workbook(seed: int = 11) -> tuple[bytes, dict]:
    """Chile-like: a 'Variables' sheet describing the data ("Unidad: Víctimas de homicidio"), then
    one row per victim with the region's published rate repeated on every row beside the region's
    name, a constant crime column ("Homicidio"), the weapon and the victim's sex. Truth:
    {(ISO code, 'YYYY-MM'): victims}."""
    rng = random.Random(seed)
    rates = {code: round(rng.uniform(2, 9), 1) for _, code in CL_REGIONS}
    rows = [["Año", "Mes", "Tasa Región", "Nombre Región", "Delito", "Arma", "Sexo"]]
    truth: dict = {}
    for _ in range(500):
        name, code = rng.choice(CL_REGIONS)
        month = rng.randint(1, 12)
        rows.append([2024, month, rates[code], name, "Homicidio", rng.choice(["Arma de Fuego", "Arma Blanca", "Otra"]),
                     rng.choice(["Hombre", "Mujer"])])
        truth[(code, f"2024-{month:02d}")] = truth.get((code, f"2024-{month:02d}"), 0) + 1
    variables = [["Variable", "Descripción"], ["Unidad", "Víctimas de homicidio consumado"],
                 ["Tasa regional", "Tasa por 100.000 habitantes publicada para la región"],
                 ["Región", "Región de ocurrencia"]]
    return _xlsx({"Variables": variables, "Datos": rows}), truth


UY_DEPARTMENTS = [("MONTEVIDEO", "UY-MO"), ("CANELONES", "UY-CA"), ("MALDONADO", "UY-MA"),
                  ("PAYSANDU", "UY-PA"), ("RIVERA", "UY-RV"), ("TACUAREMBO", "UY-TA")]
UY_MONTHS = ["ENERO", "FEBRERO", "MARZO", "ABRIL", "MAYO", "JUNIO", "JULIO", "AGOSTO", "SETIEMBRE",
             "OCTUBRE", "NOVIEMBRE", "DICIEMBRE"]


def uy_victims_csv(seed: int = 12, prison: str = "ESTABLECIMIENTO PENITENCIARIO", years=(2024,)) -> tuple[bytes, dict]:
    """Uruguay-like: Latin-1, semicolons, dotted dates (05.09.2024), the month's name beside it
    ("SETIEMBRE"), a department for homicides in prisons, and the robbery target column of the
    ministry's shared layout ("NO CORRESPONDE" for homicides). Truth: {(code or 'UY', 'YYYY'): victims},
    the prison rows under 'UY:prison'."""
    rng = random.Random(seed)
    lines = ["FECHA;MES;DEPARTAMENTO;TIPO_DELITO;A_QUIEN;ARMA"]
    truth: dict = {}
    for year in years:
        for _ in range(300):
            month = rng.randint(1, 12)
            if rng.random() < 0.05:
                dept, code = prison, "UY:prison"
            else:
                dept, code = rng.choice(UY_DEPARTMENTS)
            lines.append(f"{rng.randint(1, 28):02d}.{month:02d}.{year};{UY_MONTHS[month - 1]};{dept};HOMICIDIO;"
                         f"NO CORRESPONDE;{rng.choice(['ARMA DE FUEGO', 'ARMA BLANCA'])}")
            truth[(code, str(year))] = truth.get((code, str(year)), 0) + 1
    return ("\n".join(lines) + "\n").encode("latin-1"), truth


EC_TWO_WAYS = [("GUAYAS", "EC-G"), ("PICHINCHA", "EC-P"), ("SANTA ELENA", "EC-SE"), ("STA ELENA", "EC-SE"),
               ("EL ORO", "EC-O"), ("MANABÍ", "EC-M")]


def ec_victims_bom_csv(seed: int = 13) -> tuple[bytes, dict]:
    """Ecuador-like: UTF-8 with a BOM, trailing spaces in cells, one province written two ways
    (SANTA ELENA and STA ELENA), a count column of victims, 11 months of 2025. Truth:
    {(ISO code, 'YYYY-MM'): victims}."""
    rng = random.Random(seed)
    lines = ["Provincia,Año,Mes,Tipo,Numero de victimas"]
    truth: dict = {}
    for month in range(1, 12):
        for name, code in EC_TWO_WAYS:
            n = rng.randint(0, 40)
            lines.append(f"{name}  ,2025,{month},HOMICIDIO INTENCIONAL ,{n}")
            truth[(code, f"2025-{month:02d}")] = truth.get((code, f"2025-{month:02d}"), 0) + n
    return b"\xef\xbb\xbf" + ("\n".join(lines) + "\n").encode("utf-8"), truth
