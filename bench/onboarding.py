"""Onboarding as a steward's terminal sees it: `ideal profile list` and `ideal profile check`
of a two-sheet SINESP-like workbook of about 13,000 rows (occurrences and victims of 27 states,
36 months), each a fresh process, wall time, median of ``--repeat`` runs after a warm-up.
Targets (issue "Onboarding that is right"): list under 2 s, check under 10 s.

    python -m bench.onboarding [--repeat 3] [--out bench/results/onboarding.md]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess  # nosec B404 - runs IDEAL's own CLI
import sys
import tempfile
import time
from pathlib import Path

MONTHS = ["janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto", "setembro",
          "outubro", "novembro", "dezembro"]
OCCURRENCES = ["Roubo de veículo", "Roubo a instituição financeira", "Roubo de carga", "Furto de veículo",
               "Tráfico de drogas", "Estupro", "Sequestro e cárcere privado", "Extorsão mediante sequestro",
               "Lesão corporal seguida de morte", "Tentativa de homicídio"]
VICTIMS = ["Homicídio doloso", "Latrocínio", "Feminicídio"]

PROFILE = """name: br_sinesp_bench
title: "Brasil: SINESP (bench)"
country: BR
detect: [UF, Tipo Crime, Ano, Mês]
read:
  sheets: [{name: Ocorrências}, {name: Vítimas, indicator: victims}]
period: {year: Ano, month: Mês}
region: {column: UF, by: name}
category:
  columns: [Tipo Crime]
  rules:
    - {when: {Tipo Crime: "^(Homicídio doloso|Latrocínio|Feminicídio|Lesão corporal seguida de morte)$"}, iccs: "0101"}
    - {when: {Tipo Crime: "^Tentativa de homicídio$"}, iccs: "0102"}
    - {when: {Tipo Crime: "^Roubo"}, iccs: "0401"}
    - {when: {Tipo Crime: "^Furto"}, iccs: "0502"}
    - {when: {Tipo Crime: "^Tráfico de drogas$"}, iccs: "0601"}
    - {when: {Tipo Crime: "^(Sequestro e cárcere privado|Extorsão mediante sequestro)$"}, iccs: "020221"}
    - {when: {Tipo Crime: "^Estupro$"}, out_of_scope: "sexual violence (ICCS 03)"}
values:
  - {column: Ocorrências, indicator: incidents}
"""


def workbook() -> bytes:
    import random

    import openpyxl

    from ideal import reference

    states = reference.regions(["BR"])["name"].tolist()
    rng = random.Random(1)
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    occ = wb.create_sheet("Ocorrências")
    occ.append(["Indicadores de segurança pública por UF"])
    occ.append([])
    occ.append(["UF", "Tipo Crime", "Ano", "Mês", "Ocorrências"])
    vic = wb.create_sheet("Vítimas")
    vic.append(["UF", "Tipo Crime", "Ano", "Mês", "Vítimas"])
    for uf in states:
        for year in (2020, 2021, 2022):
            for month in MONTHS:
                for crime in OCCURRENCES:
                    occ.append([uf, crime, year, month, rng.randint(0, 400)])
                for crime in VICTIMS:
                    vic.append([uf, crime, year, month, rng.randint(0, 90)])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def timed(cmd: list[str], env: dict) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, check=False, capture_output=True, timeout=600)  # nosec B603
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", type=Path, default=Path("bench/results/onboarding.md"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        data = workbook()
        book = folder / "sinesp.xlsx"
        book.write_bytes(data)
        prof = folder / "br.yaml"
        prof.write_text(PROFILE, encoding="utf-8")
        import openpyxl

        wb = openpyxl.load_workbook(book, read_only=True)
        rows = sum(max(ws.max_row - (3 if ws.title == "Ocorrências" else 1), 0) for ws in wb.worksheets)
        env = {**os.environ, "IDEAL_HOME": str(folder / "var"), "GX_ANALYTICS_ENABLED": "False"}
        cli = [sys.executable, "-m", "ideal.cli"]
        commands = {"ideal profile list": [*cli, "profile", "list"],
                    "ideal profile check (two sheets)": [*cli, "profile", "check", str(book), "--profile", str(prof),
                                                         "--country", "BR"]}
        subprocess.run([*cli, "init"], env=env, check=True, capture_output=True)  # nosec B603
        lines = ["# Onboarding commands, wall time of a fresh process",
                 "", f"`python -m bench.onboarding --repeat {args.repeat}`; workbook: 2 sheets, {rows:,} data rows,"
                 f" {len(data) / 1e6:.2f} MB; median of {args.repeat} runs after one warm-up.", "",
                 "| command | median s | runs s | target s |", "|---|---:|---|---:|"]
        targets = {"ideal profile list": 2, "ideal profile check (two sheets)": 10}
        for name, cmd in commands.items():
            timed(cmd, env)  # warm-up: the OS cache, Python's bytecode
            runs = [timed(cmd, env) for _ in range(args.repeat)]
            lines.append(f"| `{name}` | {statistics.median(runs):.2f} | "
                         f"{', '.join(f'{r:.2f}' for r in runs)} | {targets[name]} |")
            print(lines[-1], flush=True)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"written to {args.out}")


if __name__ == "__main__":
    main()
