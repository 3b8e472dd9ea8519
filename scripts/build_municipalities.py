"""Build ideal/reference/data/municipalities.csv: the second region level of Brazil, Colombia and
Mexico from their statistics offices' code lists, each municipality with its first-level region.

    python scripts/build_municipalities.py SOURCES [--out ideal/reference/data/municipalities.csv]

SOURCES is a folder holding the files below, taken unchanged from the public repositories
(`git show <commit>:<path>` of each), under these names. Nothing of those repositories is
committed here: only the codes and names, with their source.

| file | repository @ commit : path | what it is |
| --- | --- | --- |
| br.csv | rfsaldanha/brpop @eef85532 : data-raw/ibge/estimativa_dou_2024.csv | IBGE, Estimativas da população 2024 (DOU): the 7-digit code of every municipality |
| co.js | santiagoMeloMedina/aforoTesting @1c29b0d0 : front/src/constant/json/cities.js | DANE DIVIPOLA as published on datos.gov.co (dataset xdk5-pm3f, "Departamentos y municipios de Colombia"): 5-digit codes and names |
| mx.csv | isaacarroyov/datos_facil_acceso @a2e88984 : GobiernoMexicano/cve_nom_municipios.csv | INEGI, Marco Geoestadístico 2023: 5-digit codes (cve_geo: entidad + municipio) and names |

IDEAL's code of a municipality is the country code and the national code: BR-3550308, CO-05001,
MX-09015 (ISO 3166-2 codes of these three countries are letters, so the two levels never
collide). Its first-level region (``parent``) comes from the code's first two digits through
the shipped crosswalks (co_dane_departamentos, mx_inegi_entidades) and IBGE's state codes; so
Bogotá (11001) belongs to CO-DC whatever department a file files it under. The IBGE file has
no names: a Brazilian municipality is shown by its code.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
CROSSWALKS = ROOT / "ideal" / "reference" / "data" / "crosswalks"

BR_STATE = {"11": "RO", "12": "AC", "13": "AM", "14": "RR", "15": "PA", "16": "AP", "17": "TO",
            "21": "MA", "22": "PI", "23": "CE", "24": "RN", "25": "PB", "26": "PE", "27": "AL",
            "28": "SE", "29": "BA", "31": "MG", "32": "ES", "33": "RJ", "35": "SP", "41": "PR",
            "42": "SC", "43": "RS", "50": "MS", "51": "MT", "52": "GO", "53": "DF"}
SOURCES = {"BR": "IBGE 2024", "CO": "DANE DIVIPOLA", "MX": "INEGI MG 2023"}  # see the table above


def brazil(src: Path) -> pd.DataFrame:
    df = pd.read_csv(src / "br.csv", sep=";", dtype=str, encoding="utf-8-sig")
    codes = df["code_muni"].str.strip()
    return pd.DataFrame({"national": codes, "parent": "BR-" + codes.str.slice(0, 2).map(BR_STATE),
                         "name": ""})


def colombia(src: Path) -> pd.DataFrame:
    text = (src / "co.js").read_text(encoding="utf-8")
    items = json.loads(re.sub(r"^\s*export\s+default\s+", "", text).rstrip().rstrip(";"))
    codes = [str(i["CÓDIGO DANE DEL MUNICIPIO"]).replace(",", "").replace(".", "").zfill(5) for i in items]
    dane = pd.read_csv(CROSSWALKS / "co_dane_departamentos.csv", dtype=str).set_index("dane")["region"]
    national = pd.Series(codes)
    return pd.DataFrame({"national": national, "parent": national.str.slice(0, 2).map(dane),
                         "name": [i["MUNICIPIO"] for i in items]})


def mexico(src: Path) -> pd.DataFrame:
    df = pd.read_csv(src / "mx.csv", dtype=str)
    inegi = pd.read_csv(CROSSWALKS / "mx_inegi_entidades.csv", dtype=str).set_index("cve_ent")["region"]
    return pd.DataFrame({"national": df["cve_geo"], "parent": df["cve_ent"].map(inegi),
                         "name": df["nombre_municipio"]})


def build(src: Path) -> pd.DataFrame:
    parts = []
    for cc, read in (("BR", brazil), ("CO", colombia), ("MX", mexico)):
        df = read(src)
        if df["parent"].isna().any() or df["national"].duplicated().any():
            raise SystemExit(f"{cc}: codes without a first-level region or repeated: "
                             f"{df.loc[df['parent'].isna() | df['national'].duplicated(), 'national'].tolist()}")
        parts.append(df.assign(country=cc, region=cc + "-" + df["national"], source=SOURCES[cc]))
    out = pd.concat(parts, ignore_index=True)
    return out[["country", "region", "parent", "name", "source"]].sort_values(
        ["country", "region"], ignore_index=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("sources", type=Path)
    ap.add_argument("--out", type=Path, default=ROOT / "ideal" / "reference" / "data" / "municipalities.csv")
    args = ap.parse_args(argv)
    out = build(args.sources)
    out.to_csv(args.out, index=False, lineterminator="\n")
    print(f"{args.out.name}: " + ", ".join(f"{cc} {n}" for cc, n in out.groupby("country").size().items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
