"""Build ideal/reference/data/population.csv: first-level populations of the 18 members,
2015-2026, each row with its source and method (../shared/data/population-sources.md lists the
leads this follows).

    python scripts/build_population.py SOURCES [--out ideal/reference/data/population.csv]

SOURCES is a folder holding the files below, taken unchanged from the public repositories
(`git show <commit>:<path>` of each), under these names. Reading the Argentine .xls needs
xlrd (`uv run --with xlrd python scripts/build_population.py SOURCES`). Nothing of those
repositories is committed here: only the figures, with their source.

| file | repository @ commit : path |
| --- | --- |
| mx.csv | isaacarroyov/datos_facil_acceso @804bd401 : GobiernoMexicano/conapo_proyecciones/conapo_pob_ent_gender_1950_2070.csv (also ../shared/data/real/mx_conapo_poblacion_estatal) |
| ar_2010.xls, ar_2022.csv | lucianken/analisis-muertes-evitables @34b2d066 : data/reference/c1_proyecciones_prov_2010_2040.xls, data/reference/proyecciones_jurisdicciones_2022_2040_base.csv |
| cl.csv | bastianolea/censo_proyecciones_poblacion @f057636d : datos/datos_procesados/censo_proyecciones_año.csv |
| co_2005.xlsx, co_2018.xlsx | jmauriciocaro/antioquia_population_predictor @8d7f41fb : data/DCD-area-proypoblacion-dep-2005-2017_VP.xlsx, data/PPED-AreaDep-2018-2050_VP.xlsx |
| pe/cap00.xlsx ... cap25.xlsx | psotob91/demografia-poblacion-inei @89a2f9dc : data/raw/inei_population/ |
| br_6579.csv, br_2022.csv, br_2024.csv | rfsaldanha/brpop @eef85532 : data-raw/ibge/tabela6579.csv, POP_TCU_2023_Municipios_POP2022_Malha2023.csv, estimativa_dou_2024.csv |
| bo.csv | mauforonda/covid19-bo-municipios @2778037b : scripts/poblacion.csv |
| ec.csv | andrab/ecuacovid @5f64e1d0 : datos_crudos/positivas/2020/provincias.csv (provincia, poblacion of one day) |
| do.json | mnakagaw/dashboard-municipal @18ac38ee : src/data/indicadores_basicos.json |
| hdx.csv | OCHA-DAP/hdx-scraper-covid-viz @04537cb2 : tests/fixtures/input/population_subnational_population.csv |
| worldpop.csv, census.csv | GoogleCloudPlatform/covid-19-open-data @1123ce02 : src/data/worldpop_stratified.csv, src/data/census.csv |
| wb.csv | datasets/population @425fc447 : data/population.csv (World Bank SP.POP.TOTL, national) |

Methods: ``official`` - the statistics office's census or projection for that region and
year; ``interpolated`` - between two official figures of the region (or an official
department split by its census share); ``extrapolated`` - the region's share in one official
(or other stated) figure applied to the national series (World Bank, extended past its last
year by its mean growth of the last three years); ``modelled`` - WorldPop's gridded model;
``synthetic`` - nothing found (none left for the 18 members).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import unicodedata
from pathlib import Path

import pandas as pd
import pycountry

YEARS = list(range(2015, 2027))
ROOT = Path(__file__).resolve().parent.parent
MEMBERS = ["AR", "BO", "BR", "CL", "CO", "CR", "DO", "EC", "SV", "GT", "HN", "MX", "NI", "PA",
           "PY", "PE", "UY", "VE"]


def fold(text) -> str:
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode().casefold()
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


def regions(cc: str) -> dict[str, str]:
    """Folded ISO name -> code of the country's first-level regions."""
    return {fold(s.name): s.code for s in pycountry.subdivisions.get(country_code=cc)
            if s.parent_code is None}


def by_name(cc: str, names: pd.Series, aliases: dict[str, str] | None = None) -> pd.Series:
    table = regions(cc) | {fold(k): v for k, v in (aliases or {}).items()}
    out = names.map(lambda n: table.get(fold(n)))
    missing = sorted(set(names[out.isna()]))
    if missing:
        raise SystemExit(f"{cc}: names without an ISO code: {missing}")
    return out


def rows(cc, region, year, population, method, source) -> pd.DataFrame:
    return pd.DataFrame({"country": cc, "region": region, "year": year,
                         "population": pd.Series(population).round().astype("int64").to_numpy(),
                         "method": method, "source": source})


# --- the national series (for extrapolated countries) -------------------------------------

def national(src: Path) -> pd.DataFrame:
    wb = pd.read_csv(src / "wb.csv")
    out = []
    for cc in MEMBERS:
        iso3 = pycountry.countries.get(alpha_2=cc).alpha_3
        s = wb[wb["Country Code"] == iso3].set_index("Year")["Value"].astype(float)
        last = int(s.index.max())
        growth = (s.loc[last] / s.loc[last - 3]) ** (1 / 3)
        for y in YEARS:
            value = s.get(y, s.loc[last] * growth ** (y - last))
            out.append((cc, y, value, "World Bank SP.POP.TOTL" if y <= last else
                        f"World Bank SP.POP.TOTL {last}, extended by its growth {last - 3}-{last}"))
    return pd.DataFrame(out, columns=["country", "year", "national", "national_source"])


def from_shares(cc: str, share: pd.Series, base_year: int | None, base_method: str,
                base_values: pd.Series | None, nat: pd.DataFrame, source: str,
                other_method: str = "extrapolated") -> pd.DataFrame:
    """A region's share of one figure applied to the national series every year; the base
    year keeps the figure itself (with ``base_method``)."""
    out = []
    for y in YEARS:
        n = nat[(nat["country"] == cc) & (nat["year"] == y)].iloc[0]
        if y == base_year and base_values is not None:
            out.append(rows(cc, base_values.index, y, base_values.to_numpy(), base_method, source))
        else:
            out.append(rows(cc, share.index, y, (share * n["national"]).to_numpy(), other_method,
                            f"{source}; share x national total ({n['national_source']})"))
    return pd.concat(out)


# --- countries with an official yearly series ----------------------------------------------

def mexico(src: Path) -> pd.DataFrame:
    df = pd.read_csv(src / "mx.csv", dtype={"cve_ent": str})
    df = df[(df["genero"] == "Total") & (df["cve_ent"] != "00") & df["n_year"].isin(YEARS)]
    walk = pd.read_csv(ROOT / "ideal/reference/data/crosswalks/mx_inegi_entidades.csv", dtype=str)
    code = df["cve_ent"].map(walk.set_index("cve_ent")["region"])
    return rows("MX", code, df["n_year"], df["pob_mid_year"], "official",
                "CONAPO, Proyecciones de la población de México 2020-2070, mid-year")


AR_INDEC = {"02": "C", "06": "B", "10": "K", "14": "X", "18": "W", "22": "H", "26": "U", "30": "E",
            "34": "P", "38": "Y", "42": "L", "46": "F", "50": "M", "54": "N", "58": "Q", "62": "R",
            "66": "A", "70": "J", "74": "D", "78": "Z", "82": "S", "86": "G", "90": "T", "94": "V"}


def argentina(src: Path) -> pd.DataFrame:
    sheets = pd.read_excel(src / "ar_2010.xls", sheet_name=None, header=None)
    out = []
    for name, sheet in sheets.items():
        code = name.split("-")[0]
        if code not in AR_INDEC:
            continue
        years = pd.to_numeric(sheet[0], errors="coerce")
        part = sheet[years.between(2015, 2021)]
        out.append(rows("AR", f"AR-{AR_INDEC[code]}", part[0].astype(int), part[1], "official",
                        "INDEC, Proyecciones provinciales 2010-2040 (2010 census base), 1 July"))
    new = pd.read_csv(src / "ar_2022.csv", sep=";")
    new.columns = [c.strip() for c in new.columns]
    new = new[new["Fecha"].isin(YEARS)].assign(Poblacion=lambda d: pd.to_numeric(
        d["Poblacion"].astype(str).str.replace(r"[^0-9]", "", regex=True)))
    total = new.groupby(["Jurisdiccion", "Fecha"], as_index=False)["Poblacion"].sum()
    total = total[total["Jurisdiccion"] != 1]
    code = total["Jurisdiccion"].map(lambda j: f"AR-{AR_INDEC[f'{int(j):02d}']}")
    out.append(rows("AR", code, total["Fecha"], total["Poblacion"], "official",
                    "INDEC, Proyecciones por jurisdicción 2022-2040 (2022 census base)"))
    return pd.concat(out)


CL_REGION = {1: "TA", 2: "AN", 3: "AT", 4: "CO", 5: "VS", 6: "LI", 7: "ML", 8: "BI", 9: "AR",
             10: "LL", 11: "AI", 12: "MA", 13: "RM", 14: "LR", 15: "AP", 16: "NB"}


def chile(src: Path) -> pd.DataFrame:
    df = pd.read_csv(src / "cl.csv", sep=";")
    df = df[df["año"].isin(YEARS)]
    total = df.groupby(["cut_region", "año"], as_index=False)["población"].sum()
    return rows("CL", total["cut_region"].map(lambda r: f"CL-{CL_REGION[int(r)]}"), total["año"],
                total["población"], "official",
                "INE Chile, Estimaciones y proyecciones 2002-2035 (2017 census base), communes summed")


CO_DANE = {"11": "DC"}


def colombia(src: Path) -> pd.DataFrame:
    walk = pd.read_csv(ROOT / "ideal/reference/data/crosswalks/co_dane_departamentos.csv", dtype=str)
    to_iso = walk.set_index("dane")["region"]
    out = []
    for name, years, label in (("co_2005.xlsx", range(2015, 2018), "DANE, Proyecciones departamentales 2005-2017 (VP)"),
                               ("co_2018.xlsx", range(2018, 2027), "DANE, Proyecciones departamentales 2018-2050 (2018 census base)")):
        sheets = pd.read_excel(src / name, sheet_name=None, header=None, dtype=str)
        frame = next(s for s in sheets.values() if (s == "DP").any().any())
        head = frame.index[(frame[0] == "DP")][0]
        df = frame.iloc[head + 1:, :5].dropna()
        df.columns = ["dp", "name", "year", "area", "population"]
        df = df[df["area"].str.strip().eq("Total") & pd.to_numeric(df["year"], errors="coerce").isin(years)]
        out.append(rows("CO", df["dp"].str.zfill(2).map(to_iso), df["year"].astype(int),
                        pd.to_numeric(df["population"]), "official", label))
    return pd.concat(out)


PE_UBIGEO = ["AMA", "ANC", "APU", "ARE", "AYA", "CAJ", "CAL", "CUS", "HUV", "HUC", "ICA", "JUN",
             "LAL", "LAM", "LIM", "LOR", "MDD", "MOQ", "PAS", "PIU", "PUN", "SAM", "TAC", "TUM", "UCA"]


def peru(src: Path) -> pd.DataFrame:
    census = pd.read_csv(src / "census.csv", dtype=str)
    lma = float(census.loc[census["key"] == "PE_LMA", "population"].iloc[0])
    lim = float(census.loc[census["key"] == "PE_LIM", "population"].iloc[0])
    out = []
    for i, code in enumerate(PE_UBIGEO, start=1):
        sheet = pd.read_excel(src / "pe" / f"cap{i:02d}.xlsx", sheet_name=0, header=None)
        head = sheet.index[sheet[0].astype(str).str.strip() == "Edad"][0]
        total = sheet.index[sheet[0].astype(str).str.strip().str.upper() == "TOTAL"][0]
        years = pd.to_numeric(sheet.loc[head], errors="coerce")
        values = pd.to_numeric(sheet.loc[total], errors="coerce")
        keep = years.isin(YEARS)
        src_label = "INEI, Estimaciones y proyecciones de población 1995-2030"
        if code == "LIM":  # Lima department = Lima Metropolitana (PE-LMA) + Lima region (PE-LIM)
            for part, share in (("LMA", lma / (lma + lim)), ("LIM", lim / (lma + lim))):
                out.append(rows("PE", f"PE-{part}", years[keep].astype(int), values[keep] * share,
                                "interpolated", f"{src_label}, Lima department split by the 2017 "
                                f"census share of PE-{part} ({share:.4f}; GoogleCloudPlatform census.csv)"))
        else:
            out.append(rows("PE", f"PE-{code}", years[keep].astype(int), values[keep], "official", src_label))
    return pd.concat(out)


BR_STATE = {"11": "RO", "12": "AC", "13": "AM", "14": "RR", "15": "PA", "16": "AP", "17": "TO",
            "21": "MA", "22": "PI", "23": "CE", "24": "RN", "25": "PB", "26": "PE", "27": "AL",
            "28": "SE", "29": "BA", "31": "MG", "32": "ES", "33": "RJ", "35": "SP", "41": "PR",
            "42": "SC", "43": "RS", "50": "MS", "51": "MT", "52": "GO", "53": "DF"}


def brazil(src: Path, nat: pd.DataFrame) -> pd.DataFrame:
    def states(name: str, col: str) -> pd.Series:
        df = pd.read_csv(src / name, sep=";", dtype=str, encoding="utf-8-sig")
        v = pd.to_numeric(df[col].str.replace(".", "", regex=False), errors="coerce")
        return v.groupby(df["code_muni"].str.slice(0, 2).map(lambda s: f"BR-{BR_STATE[s]}")).sum()

    out = []
    for y in range(2015, 2022):
        s = states("br_6579.csv", str(y))
        out.append(rows("BR", s.index, y, s.to_numpy(), "official", "IBGE, Estimativas da população (tabela 6579), 1 July"))
    census, est24 = states("br_2022.csv", "2023"), states("br_2024.csv", "2024")
    out.append(rows("BR", census.index, 2022, census.to_numpy(), "official", "IBGE, Censo 2022 (POP_TCU 2023 file)"))
    mid = (census + est24.reindex(census.index)) / 2
    out.append(rows("BR", mid.index, 2023, mid.to_numpy(), "interpolated", "between IBGE Censo 2022 and the 2024 estimate"))
    out.append(rows("BR", est24.index, 2024, est24.to_numpy(), "official", "IBGE, Estimativa DOU 2024"))
    share = est24 / est24.sum()
    for y in (2025, 2026):
        n = nat[(nat["country"] == "BR") & (nat["year"] == y)].iloc[0]
        out.append(rows("BR", share.index, y, (share * n["national"]).to_numpy(), "extrapolated",
                        f"IBGE 2024 state shares x national total ({n['national_source']})"))
    return pd.concat(out)


# --- countries with one figure per region --------------------------------------------------

BO_DEPT = {1: "H", 2: "L", 3: "C", 4: "O", 5: "P", 6: "T", 7: "S", 8: "B", 9: "N"}


def bolivia(src: Path, nat: pd.DataFrame) -> pd.DataFrame:
    df = pd.read_csv(src / "bo.csv")
    dept = df.groupby(df["cod_ine"] // 10000)["poblacion"].sum()
    dept.index = [f"BO-{BO_DEPT[int(d)]}" for d in dept.index]
    return from_shares("BO", dept / dept.sum(), 2020, "official", dept, nat,
                       "INE Bolivia, proyección 2020 by municipality (covid19-bo-municipios)")


def ecuador(src: Path, nat: pd.DataFrame) -> pd.DataFrame:
    df = pd.read_csv(src / "ec.csv")
    code = by_name("EC", df["provincia"], {"Sto. Domingo Tsáchilas": "EC-SD", "Santa Elena": "EC-SE"})
    prov = pd.Series(df["poblacion"].to_numpy(), index=code)
    return from_shares("EC", prov / prov.sum(), 2020, "official", prov, nat,
                       "INEC Ecuador, proyección 2020 (2010 census base), as published with the 2020 case counts")


def dominican(src: Path, nat: pd.DataFrame) -> pd.DataFrame:
    data = pd.DataFrame(json.loads((src / "do.json").read_text(encoding="utf-8")))
    prov = data.groupby(data["adm2_code"].str.slice(0, 2))["poblacion_total"].sum()
    # ISO 3166-2's first level for DO is the 10 development regions (DO-33 ... DO-42), each
    # the parent of its provinces (DO-01 ... DO-32)
    parent = {s.code: s.parent_code for s in pycountry.subdivisions.get(country_code="DO") if s.parent_code}
    region = prov.groupby([parent[f"DO-{p}"] for p in prov.index]).sum()
    return from_shares("DO", region / region.sum(), 2022, "official", region, nat,
                       "ONE, X Censo Nacional de Población y Vivienda 2022, municipalities summed "
                       "to the development regions")


HDX_ALIASES = {
    "PA": {"Embera": "PA-EM", "Kuna Yala": "PA-KY", "Ngobe Bugle": "PA-NB", "Panama Oeste": "PA-10",
           "Panama": "PA-8", "Bocas Del Toro": "PA-1", "Darien": "PA-5", "Colon": "PA-3"},
    "PY": {"Asuncion": "PY-ASU", "Boqueron": "PY-19", "Alto Paraguay": "PY-16"},
    "UY": {"Treinta Y Tres": "UY-TT", "Rio Negro": "UY-RN"},
    "VE": {"Distrito Capital": "VE-A", "Vargas": "VE-X", "La Guaira": "VE-X"},
    "HN": {"Islas de La Bahia": "HN-IB"},
    "SV": {},
    "GT": {},
    "CR": {"San Jose": "CR-SJ", "Limon": "CR-L"},
}


def hdx(src: Path, nat: pd.DataFrame) -> pd.DataFrame:
    df = pd.read_csv(src / "hdx.csv", keep_default_na=False)
    out = []
    for cc, aliases in HDX_ALIASES.items():
        part = df[(df["ADM0_PCODE"] == cc) & (df["ADM_LEVEL"].astype(str) == "1")]
        code = by_name(cc, part["ADM1_REF"], aliases)
        prov = pd.Series(pd.to_numeric(part["Population"]).to_numpy(), index=code).groupby(level=0).sum()
        out.append(from_shares(cc, prov / prov.sum(), None, "", None, nat,
                               "OCHA HDX subnational population (one figure per region, year not stated)"))
    return pd.concat(out)


def nicaragua(src: Path, nat: pd.DataFrame) -> pd.DataFrame:
    wp = pd.read_csv(src / "worldpop.csv", keep_default_na=False)
    part = wp[wp["key"].str.match(r"^NI_[A-Z]+$")]
    prov = pd.Series(pd.to_numeric(part["all"]).to_numpy(),
                     index=("NI-" + part["key"].str.slice(3)).to_numpy())
    return from_shares("NI", prov / prov.sum(), None, "", None, nat,
                       "WorldPop gridded model (covid-19-open-data worldpop_stratified.csv)",
                       other_method="modelled")


def build(src: Path) -> pd.DataFrame:
    nat = national(src)
    parts = [mexico(src), argentina(src), chile(src), colombia(src), peru(src), brazil(src, nat),
             bolivia(src, nat), ecuador(src, nat), dominican(src, nat), hdx(src, nat),
             nicaragua(src, nat)]
    out = pd.concat(parts, ignore_index=True)
    out = out[out["year"].isin(YEARS)]
    out = out.assign(synthetic=(out["method"] == "synthetic").astype(int))
    return out[["country", "region", "year", "population", "synthetic", "method", "source"]] \
        .sort_values(["country", "region", "year"]).reset_index(drop=True)


def check(pop: pd.DataFrame, nat: pd.DataFrame) -> list[str]:
    """What a reader would check: every reference region has every year, no region holds more
    than 45 % of its country (Montevideo, Panamá are below), the sum is near the national
    series."""
    problems = []
    for cc in MEMBERS:
        want = {r for r in regions(cc).values()}
        have = set(pop.loc[pop["country"] == cc, "region"])
        if want - have:
            problems.append(f"{cc}: no population for {sorted(want - have)}")
        if have - want:
            problems.append(f"{cc}: regions not in ISO 3166-2: {sorted(have - want)}")
        for y in YEARS:
            p = pop[(pop["country"] == cc) & (pop["year"] == y)]
            if p.empty:
                problems.append(f"{cc} {y}: no rows")
                continue
            n = nat[(nat["country"] == cc) & (nat["year"] == y)]["national"].iloc[0]
            if abs(p["population"].sum() / n - 1) > 0.08:
                problems.append(f"{cc} {y}: regions sum to {p['population'].sum():,} vs national {n:,.0f}")
            if p["population"].max() / p["population"].sum() > 0.45:
                problems.append(f"{cc} {y}: {p.loc[p['population'].idxmax(), 'region']} holds "
                                f"{p['population'].max() / p['population'].sum():.0%}")
    return problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sources", type=Path)
    ap.add_argument("--out", type=Path, default=ROOT / "ideal/reference/data/population.csv")
    args = ap.parse_args()
    pop = build(args.sources)
    problems = check(pop, national(args.sources))
    for p in problems:
        print("check:", p)
    pop.to_csv(args.out, index=False)
    print(f"{len(pop)} rows written to {args.out}; by method:",
          pop.groupby("method").size().to_dict())
    return 0


if __name__ == "__main__":
    sys.exit(main())
