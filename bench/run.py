"""Every stage of IDEAL at a named scale, each against the naive way measured in the same run.

    make bench SCALE=M            (uv run python -m bench.run --scale M --repeat 2)

Stages, each measured in its own process after a warm-up, `repeat` times:
  ingest + validate + load on SQLite      vs pandas.read_csv + DataFrame.to_sql
  ingest + validate + load on PostgreSQL  vs a bare COPY into an unindexed table
  validation alone (the suite, ~20 rules)  vs pandas.read_csv of the same file
  assessment with the profile's Monte Carlo vs a groupby-mean over the same observations
  briefing; full annex                    vs bare WeasyPrint of the same rows as one table
  each DAG file's import                  vs import airflow.sdk
  `ideal demo` after install (fresh folders)
  the simulation study (bench/simulation.py): v4 against a known truth
  the early-warning study (bench/early_warning.py) and the external checks (bench/checks.py:
  leave one country out on the demo run, national homicide rates against UNODC)
Writes bench/results/<date>-<scale>.json and .md (median, min, max, peak memory, ratio,
target, met or missed).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from bench import assess as bench_assess
from bench import ingest as bench_ingest
from bench import report as bench_report
from bench.harness import measure, repeated, stats, write_report
from bench.scales import write_files

ROOT = Path(__file__).resolve().parents[1]


def validation_alone(path: str, repeat: int) -> dict:
    """In one process: read_csv of the file (baseline) and the suite on its parsed frame,
    each `repeat` times after a warm-up (GX's context is built by the warm-up)."""
    import pandas as pd

    from ideal.config import DEFAULT_MEMBERS
    from ideal.ingest.formats import read_submission
    from ideal.validate import validate_submission
    from ideal.validate.runner import load_suite

    data = Path(path).read_bytes()
    frame = read_submission(data, Path(path).name).frame
    country = frame["country"].iloc[0]
    # the fixed cost per file: the suite on a file of one row per crime type (a new frame
    # each time: nothing of the big file's values is remembered for it)
    small = frame.drop_duplicates("crime_type").reset_index(drop=True)
    base, suite, fixed = [], [], []
    for i in range(repeat + 1):
        t0 = time.perf_counter()
        pd.read_csv(path)
        t1 = time.perf_counter()
        report = validate_submission(frame, country, tuple(DEFAULT_MEMBERS), today=date(2026, 11, 28))
        t2 = time.perf_counter()
        validate_submission(small.copy(), country, tuple(DEFAULT_MEMBERS), today=date(2026, 11, 28))
        t3 = time.perf_counter()
        if i:
            base.append(t1 - t0)
            suite.append(t2 - t1)
            fixed.append(t3 - t2)
    assert report.ok, report.findings.head()
    return {"rows": len(frame), "rules": len(load_suite()["expectations"]),
            "read_csv_s": statistics.median(base), "validate_s": statistics.median(suite),
            "validate_min_s": min(suite), "validate_max_s": max(suite),
            "fixed_rows": len(small), "fixed_s": statistics.median(fixed)}


def dag_imports(repeat: int) -> dict:
    """Per DAG file: seconds to run it after `import airflow.sdk` in the same process."""
    env = dict(os.environ, AIRFLOW__CORE__LOAD_EXAMPLES="False",
               AIRFLOW_HOME=tempfile.mkdtemp(prefix="ideal-bench-airflow-"))
    out = {}
    for dag in sorted((ROOT / "dags").glob("ideal_*.py")):
        code = ("import time, runpy; t0 = time.perf_counter(); import airflow.sdk; "
                "from airflow.sdk import dag, task, Asset, Param; t1 = time.perf_counter(); "
                f"runpy.run_path({str(dag)!r}); print(t1 - t0, time.perf_counter() - t1)")
        sdk, beyond = [], []
        for i in range(repeat + 1):
            res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                                 text=True, check=True)
            a, b = map(float, res.stdout.split()[-2:])
            if i:
                sdk.append(a)
                beyond.append(b)
        out[dag.name] = {"import_airflow_sdk_s": statistics.median(sdk),
                         "beyond_s": statistics.median(beyond), "max_beyond_s": max(beyond)}
    return out


def demo_after_install() -> dict:
    """`ideal demo` in fresh folders: what `make demo` runs once the install is done."""
    home = Path(tempfile.mkdtemp(prefix="ideal-bench-demo-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDEAL_")}
    env.update(IDEAL_HOME=str(home / "var"), IDEAL_REPORTS_DIR=str(home / "reports"),
               GX_ANALYTICS_ENABLED="False")
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, "-m", "ideal.cli", "demo"], cwd=ROOT, env=env,
                         capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if res.returncode:
        raise RuntimeError(res.stderr[-2000:])
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"seconds": seconds, "peak_mb": peak, "home": str(home)}


TARGETS = {
    "ingest_sqlite": ("ratio", 1.0), "ingest_postgresql": ("ratio", 3.0),
    "validation": ("ratio", 5.0), "assessment": ("seconds", 30.0),
    "briefing": ("seconds", 5.0), "annex": ("ratio", 1.5), "dag_import": ("seconds", 1.0),
    "demo": ("seconds", 60.0),
}


def run(scale: str, repeat: int, skip: set[str]) -> dict:
    files = write_files(Path("var/bench") / scale, scale)
    rows = sum(n for *_, n in files)
    res = {"scale": scale, "rows": rows, "repeat": repeat, "date": date.today().isoformat(),
           "machine": f"{os.cpu_count()} cores", "stages": {}}
    print(f"scale {scale}: {len(files)} files, {rows:,} observations; {repeat} runs after a warm-up")
    st = res["stages"]
    for backend in ("sqlite", "postgresql"):
        if f"ingest_{backend}" in skip:
            continue
        print(f"[ingest, {backend}]")
        r = bench_ingest.run(scale, repeat, [backend])["stages"]
        st[f"ingest_{backend}"] = {"ideal": r[f"{backend}/ideal"], "baseline": r[f"{backend}/baseline"],
                                   "baseline_is": "read_csv + to_sql" if backend == "sqlite" else "bare COPY",
                                   "ratio": r[f"{backend}/ratio"]}
    if "validation" not in skip:
        print("[validation alone]")
        largest = max(files, key=lambda f: f[2])
        v = measure(validation_alone, str(largest[1]), repeat)
        st["validation"] = {"file": largest[1].name, **v, "peak_mb": v["peak_mb"],
                            "ratio": v["validate_s"] / v["read_csv_s"], "baseline_is": "read_csv"}
        print(f"  {v['rows']:,} rows, {v['rules']} rules: validate {v['validate_s']:.2f} s, "
              f"read_csv {v['read_csv_s']:.2f} s; fixed cost per file ({v['fixed_rows']} rows) "
              f"{v['fixed_s']:.3f} s")
    if "assessment" not in skip:
        print("[assessment, the profile's Monte Carlo (v4: 200 draws of the data, Sobol 1024 x 9)]")
        base = repeated("groupby-mean", bench_assess.baseline, (files,), repeat,
                        lambda r: f"compute {r['compute_s']:6.2f} s peak {r['peak_mb']:6.0f} MB")
        ide = repeated("assessment", bench_assess.ideal_assessment, (files, 0), repeat,
                       lambda r: f"compute {r['compute_s']:6.2f} s (process {r['seconds']:6.2f} s) "
                                 f"peak {r['peak_mb']:6.0f} MB")
        st["assessment"] = {"ideal": stats(ide, "compute_s"), "baseline": stats(base, "compute_s"),
                            "baseline_is": "groupby-mean", "units": ide[-1]["units"],
                            "ratio": statistics.median(r["compute_s"] for r in ide)
                            / statistics.median(r["compute_s"] for r in base)}
    if "demo" not in skip:
        print("[ideal demo after install]")
        d = measure(demo_after_install)
        st["demo"] = {"ideal": {"median_s": d["seconds"], "min_s": d["seconds"], "max_s": d["seconds"],
                                "peak_mb": d["peak_mb"]}}
        print(f"  {d['seconds']:.1f} s, peak {d['peak_mb']:.0f} MB")
        demo_home = d["home"]
    else:
        demo_home = None
    if "report" not in skip and demo_home:
        print("[briefing and annex of the 18-member demo run]")
        os.environ["IDEAL_HOME"] = str(Path(demo_home) / "var" / "demo")  # the demo's own home
        os.environ.pop("IDEAL_DATABASE_URL", None)
        out = tempfile.mkdtemp(prefix="ideal-bench-report-")
        runs = {}
        for label, fn in (("briefing", bench_report.briefing), ("annex", bench_report.annex),
                          ("bare", bench_report.bare)):
            runs[label] = repeated(label, fn, (out,), repeat,
                                   lambda r: f"{r['seconds']:6.2f} s {r['pages']:4d} pages  "
                                             f"peak {r['peak_mb']:5.0f} MB")
        st["briefing"] = {"ideal": stats(runs["briefing"]), "pages": runs["briefing"][-1]["pages"]}
        annex, bare = stats(runs["annex"]), stats(runs["bare"])
        st["annex"] = {"ideal": annex, "baseline": bare, "baseline_is": "bare WeasyPrint table",
                       "pages": runs["annex"][-1]["pages"], "baseline_pages": runs["bare"][-1]["pages"],
                       "pages_per_s": runs["annex"][-1]["pages"] / annex["median_s"],
                       "ratio": annex["median_s"] / bare["median_s"]}
    if "dag_import" not in skip:
        print("[DAG files]")
        d = dag_imports(repeat)
        st["dag_import"] = {"files": d, "ideal": {"median_s": max(v["beyond_s"] for v in d.values())}}
        for name, v in d.items():
            print(f"  {name}: {v['beyond_s']:.3f} s beyond import airflow.sdk ({v['import_airflow_sdk_s']:.2f} s)")
    simulation = None
    if "simulation" not in skip:
        print("[simulation study: v4 against a known truth (bench/simulation.py)]")
        from bench.simulation import study

        simulation = study()
        for crime, r in simulation.items():
            print(f"  {crime}: Spearman with the true rate - IDEAL v4 {r['magnitude']['ideal_v4']}, "
                  f"v3 {r['magnitude']['ideal_v3']}, reference {r['magnitude']['reference']}; with the true "
                  f"trend - v4 {r['trend']['ideal_v4']} (v3 {r['trend']['ideal_v3']}), reference "
                  f"{r['trend']['reference']}; 95 % trend intervals cover {r['coverage_95']:.0%}")
    if "early_warning" not in skip:
        print("[early warning: false alarms and doublings on simulated series (bench/early_warning.py)]")
        from bench.early_warning import study as ew_study

        ew = [ew_study(2000, 7 + i) for i in range(3)]
        res["early_warning"] = {"false_alarm_share_per_year": float(np.mean([r["false_alarm_share_per_year"] for r in ew])),
                                "doublings_found_within_3_months": float(np.mean([r["doublings_found_within_3_months"] for r in ew])),
                                "series": 6000}
        e = res["early_warning"]
        e["met"] = e["false_alarm_share_per_year"] <= 0.02 and e["doublings_found_within_3_months"] >= 0.8
        print(f"  unchanged series flagged in a year {e['false_alarm_share_per_year']:.2%} (<= 2 %), doublings "
              f"found within 3 months {e['doublings_found_within_3_months']:.1%} (>= 80 %)")
    if "checks" not in skip:
        from bench import checks

        print("[external checks (bench/checks.py)]")
        if demo_home:
            rates, prof, year = checks.demo_rates(Path(demo_home) / "var" / "demo")
            loo = checks.leave_one_out(rates, prof, year)
            res["leave_one_out"] = loo.to_dict("records")
            print(f"  leave one country out: largest change of another country's score {loo['max_change'].max()}, "
                  f"lowest Spearman {loo['spearman'].min()}")
        if (checks.REAL / "unodc_homicidios_paises").exists():
            u = checks.unodc()
            res["unodc"] = u.to_dict("records")
            print(u[["country", "source", "year", "ideal_rate", "unodc_rate", "ratio"]].to_string(index=False))
    if "markets" not in skip:
        from bench import markets as bench_markets

        print("[markets: a simulated truth, and the demo run against the Organized Crime Index (bench/markets.py)]")
        res["markets"] = {"simulation": bench_markets.simulate(10)}
        m = res["markets"]["simulation"]
        print(f"  RMSE experts {m['rmse']['experts']}, data {m['rmse']['data']}, fused {m['rmse']['fused']}; "
              f"90 % interval covers {m['coverage_90']:.0%}")
        if demo_home:
            oci = bench_markets.against_oci(Path(demo_home) / "var" / "demo")
            if oci is not None:
                res["markets"]["oci"] = oci.to_dict("records")
                print("  against the Index (data alone is the evidence on the demo): median Spearman "
                      + ", ".join(f"{e}: data {g['spearman_data'].median():.2f}, fused {g['spearman_fused'].median():.2f}"
                                  for e, g in oci.groupby("edition")))
    if "v5" not in skip:
        from bench import v5 as bench_v5
        from ideal.scoring.profile import load_profile

        print("[methodology v5 on simulated truth: trends, magnitude, P(exceed) (bench/v5.py)]")
        res["v5"] = [bench_v5.scenario(y, sp, nb, 5, load_profile("default"))
                     for y in (4, 8) for sp in (False, True) for nb in (True, False)]
        for sc in res["v5"]:
            print(f"  {sc['years']} years, spike {sc['spike']}, {sc['counts']}: trend Spearman v5 {sc['v5']} / plain "
                  f"{sc['plain_all_years']}; 95 % cover {sc['cover_v5']}; P(exceed) deciles within 2 se "
                  f"{sc['calibration_within_2se']}")
    res["simulation"] = simulation
    for stage, (kind, limit) in TARGETS.items():
        if stage in st:
            value = st[stage]["ratio"] if kind == "ratio" else st[stage]["ideal"]["median_s"]
            st[stage]["target"] = f"{'ratio' if kind == 'ratio' else 'seconds'} <= {limit}"
            st[stage]["met"] = value <= limit
    if "assessment" in st:
        st["assessment"]["met"] = st["assessment"]["met"] and st["assessment"]["ideal"]["peak_mb"] < 2048
        st["assessment"]["target"] += ", peak < 2048 MB"
    return res


def markdown(res: dict) -> str:
    lines = [f"# IDEAL benchmarks, scale {res['scale']} ({res['rows']:,} observations), {res['date']}",
             "", f"{res['machine']}; median of {res['repeat']} runs after a warm-up (min-max).", "",
             "| stage | IDEAL s | baseline | baseline s | ratio | peak MB | target | |",
             "| --- | ---: | --- | ---: | ---: | ---: | --- | --- |"]
    for name, s in res["stages"].items():
        i = s.get("ideal", {})
        b = s.get("baseline")
        if name == "validation":
            ideal = f"{s['validate_s']:.2f} ({s['validate_min_s']:.2f}-{s['validate_max_s']:.2f})"
            base = (f"read_csv ({s['rows']:,} rows, {s['rules']} rules; fixed cost per file "
                    f"{s['fixed_s']:.3f} s)")
            bs = f"{s['read_csv_s']:.2f}"
            peak = s["peak_mb"]
        else:
            ideal = f"{i['median_s']:.2f}" + (f" ({i['min_s']:.2f}-{i['max_s']:.2f})" if "min_s" in i else "")
            base = s.get("baseline_is", "-")
            bs = f"{b['median_s']:.2f}" if b else "-"
            peak = i.get("peak_mb")
        ratio = f"{s['ratio']:.2f}" if "ratio" in s else "-"
        extra = ""
        if name == "annex":
            extra = f" ({s['pages']} pages, {s['pages_per_s']:.1f} pages/s)"
        if name == "dag_import":
            ideal = ", ".join(f"{k}: {v['beyond_s']:.3f}" for k, v in s["files"].items())
            base = "import airflow.sdk"
            bs = f"{statistics.median(v['import_airflow_sdk_s'] for v in s['files'].values()):.2f}"
        lines.append(f"| {name}{extra} | {ideal} | {base} | {bs} | {ratio} | "
                     f"{'' if peak is None else f'{peak:.0f}'} | {s.get('target', '')} | "
                     f"{'met' if s.get('met') else 'MISSED'} |")
    if res.get("simulation"):
        lines += ["", "Simulation study (bench/simulation.py): Spearman correlation with the truth, coverage of the "
                  "95 % trend intervals", "",
                  "| crime | rate: v4 | rate: v3 | rate: reference | trend: v4 | trend: v3 | trend: reference | coverage | target |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
        for crime, r in res["simulation"].items():
            mag, tr = r["magnitude"], r["trend"]
            met = (mag["ideal_v4"] >= mag["reference"] - 0.01 and tr["ideal_v4"] >= tr["reference"] - 0.01
                   and 0.9 <= r["coverage_95"] <= 0.98)
            lines.append(f"| {crime} | {mag['ideal_v4']} | {mag['ideal_v3']} | {mag['reference']} | "
                         f"{tr['ideal_v4']} | {tr['ideal_v3']} | {tr['reference']} | {r['coverage_95']:.1%} | "
                         f"{'met' if met else 'MISSED'} |")
    if res.get("early_warning"):
        e = res["early_warning"]
        lines += ["", f"Early warning (bench/early_warning.py, {e['series']:,} simulated series): unchanged series "
                  f"flagged in a year {e['false_alarm_share_per_year']:.2%} (target <= 2 %), doublings found within "
                  f"3 months {e['doublings_found_within_3_months']:.1%} (target >= 80 %): {'met' if e['met'] else 'MISSED'}."]
    if res.get("leave_one_out"):
        loo = pd.DataFrame(res["leave_one_out"])
        lines += ["", f"Leave one country out (bench/checks.py, demo run): largest change of another country's "
                  f"score {loo['max_change'].max()} of 10, median {loo['median_change'].median()}, lowest Spearman "
                  f"{loo['spearman'].min()}."]
    if res.get("markets"):
        m = res["markets"]["simulation"]
        lines += ["", f"Markets on a simulated truth (bench/markets.py, {m['replications']} replications): RMSE of the "
                  f"experts' median {m['rmse']['experts']}, of the data alone {m['rmse']['data']}, fused "
                  f"{m['rmse']['fused']}; the 90 % interval covers the truth in {m['coverage_90']:.0%}."]
    if res.get("unodc"):
        lines += ["", "National homicide rates from the real exports against UNODC (bench/checks.py)", "",
                  "| country | source | year | IDEAL | UNODC | ratio |", "| --- | --- | ---: | ---: | ---: | ---: |"]
        lines += [f"| {r['country']} | {r['source']} | {r['year']} | {r['ideal_rate']} | {r['unodc_rate']} | {r['ratio']} |"
                  for r in res["unodc"]]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", choices=["S", "M"], default="S")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--skip", default="", help="comma-separated stages to leave out")
    args = ap.parse_args()
    t0 = time.perf_counter()
    res = run(args.scale, args.repeat, set(filter(None, args.skip.split(","))))
    res["wall_s"] = time.perf_counter() - t0
    write_report(res, args.scale, markdown(res) + f"\nWhole benchmark: {res['wall_s'] / 60:.1f} min.\n")


if __name__ == "__main__":
    main()
