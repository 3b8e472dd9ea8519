"""Briefing and full annex rendering against bare WeasyPrint of the same rows as one plain
HTML table and the same maps, in the same run, each in its own process (time, pages per second, peak memory).

    uv run python -m bench.report          (uses the warehouse of IDEAL_DATABASE_URL; run
                                            `make demo` first for the 18-member demo run)
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from datetime import date
from pathlib import Path

from bench.harness import repeated, write_results


def briefing(out):
    from ideal.pipeline.assessment import render_report
    from ideal.store import make_engine

    engine = make_engine()
    return {"pages": _pages(engine, render_report(engine, None, "briefing", "es", Path(out)))}


def briefing_warm(out):
    """The briefing rendered twice in one process: the second time is the warm render (maps,
    charts and PDF; imports, fonts and boundaries already loaded)."""
    import time

    from ideal.pipeline.assessment import render_report
    from ideal.store import make_engine

    engine = make_engine()
    render_report(engine, None, "briefing", "es", Path(out))
    t0 = time.perf_counter()
    path = render_report(engine, None, "briefing", "es", Path(out))
    return {"pages": _pages(engine, path), "warm_s": time.perf_counter() - t0}


def annex(out):
    from ideal.pipeline.assessment import render_report
    from ideal.store import make_engine

    engine = make_engine()
    return {"pages": _pages(engine, render_report(engine, None, "annex", "es", Path(out)))}


def bare(out):
    """The annex's rows as one plain table, and the annex's maps (the same SVGs, drawn here),
    rendered by WeasyPrint with no options."""
    import base64
    import html

    import weasyprint

    from ideal.report import maps
    from ideal.store import make_engine
    from ideal.store.runs import load as load_run

    run, scores = load_run(make_engine())
    scope = list(run["countries"])
    legend = maps.legend_for(scope, "es")
    figures = "".join(
        '<img style="width:49%" src="data:image/svg+xml;base64,'
        + base64.b64encode(maps.level_map(scores, scope, legend, crime_type=c, size=maps.SMALL)).decode() + '">'
        for c in maps.leading_crime_types(scores))
    rows = "".join(f"<tr><td>{html.escape(r.region)}</td><td>{r.crime_type}</td><td>{r.rate:.1f}</td>"
                   f"<td>{r.score}</td><td>{r.level}</td><td>{r.reliability}</td></tr>"
                   for r in scores.itertuples())
    doc = weasyprint.HTML(string=f"{figures}<table>{rows}</table>").render()
    doc.write_pdf(Path(out) / "bare.pdf")
    return {"pages": len(doc.pages)}


def _pages(engine, path: Path) -> int:
    """The page count the renderer recorded (reading the PDF back would be timed too)."""
    from sqlalchemy import select

    from ideal.store.models import Report

    with engine.connect() as conn:
        return conn.execute(select(Report.pages).where(Report.path == str(path))
                            .order_by(Report.id.desc())).scalar()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    out = tempfile.mkdtemp(prefix="ideal-bench-report-")
    res = {"date": date.today().isoformat()}
    for label, fn in (("briefing", briefing), ("annex", annex), ("bare_weasyprint", bare)):
        runs = repeated(label, fn, (out,), args.repeat,
                        lambda r: f"{r['seconds']:6.2f} s {r['pages']:4d} pages  peak {r['peak_mb']:5.0f} MB")
        med = statistics.median(r["seconds"] for r in runs)
        res[label] = {"median_s": med, "pages": runs[-1]["pages"], "pages_per_s": runs[-1]["pages"] / med,
                      "peak_mb": max(r["peak_mb"] for r in runs)}
    warm = repeated("briefing_warm", briefing_warm, (out,), args.repeat,
                    lambda r: f"warm {r['warm_s']:6.2f} s {r['pages']:4d} pages")
    res["briefing_warm_s"] = statistics.median(r["warm_s"] for r in warm)
    res["annex_vs_bare"] = res["annex"]["median_s"] / res["bare_weasyprint"]["median_s"]
    write_results(res, "report")

if __name__ == "__main__":
    main()
