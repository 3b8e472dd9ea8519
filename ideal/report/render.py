"""Render a briefing PDF from a stored assessment run (Jinja2 HTML -> WeasyPrint)."""

from __future__ import annotations

import gc
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from ideal import reference
from ideal.config import TEMPLATES_DIR, get_settings
from ideal.contracts import LANGUAGES
from ideal.errors import ReportError
from ideal.i18n import translations
from ideal.report import annex, charts, context, maps

ASSETS = TEMPLATES_DIR / "report"
PANGO_HINT = ("WeasyPrint needs the Pango library to render PDFs. Install it with: "
              "apt-get install -y libpango-1.0-0 libpangoft2-1.0-0 (Debian/Ubuntu) or "
              "brew install pango (macOS).")


def _weasyprint():
    try:
        import weasyprint
    except OSError as exc:  # the shared library is missing
        raise ReportError(f"{PANGO_HINT} ({exc})") from exc
    return weasyprint


def environment(language: str = "es") -> Environment:
    env = Environment(loader=FileSystemLoader(str(ASSETS)), undefined=StrictUndefined,
                      autoescape=select_autoescape(["html", "j2", "xml"], default=True),
                      extensions=["jinja2.ext.i18n"])
    env.install_gettext_translations(translations(language), newstyle=True)
    env.filters["css_string"] = css_string
    return env


def css_string(text) -> Markup:
    """``text`` as a quoted CSS string for a page margin box (@page content): every character
    but letters, digits, spaces and a few marks written as a CSS escape, so nothing in it can
    end the string or the rule. The marking, the run id and the page numbers are written into
    the page margins this way: WeasyPrint takes no string-set from an element not displayed."""
    safe = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:;()-_")
    # every character outside `safe` is escaped, so the text cannot leave the CSS string
    return Markup('"' + "".join(c if c in safe else f"\\{ord(c):06x}" for c in str(text)) + '"')  # nosec B704


def render_html(ctx: dict, template: str = "briefing.html.j2") -> str:
    return environment(ctx.get("language", "es")).get_template(template).render(**ctx)


def write_pdf(html: str, target: Path, generated: dict[str, bytes],
              identifier: str | None = None, epoch: int | None = None,
              variant: str | None = None, attachments: list | None = None) -> tuple[int, list[str]]:
    """HTML to PDF through the asset-only fetcher; written atomically. Returns (pages,
    refused URLs)."""
    weasyprint = _weasyprint()
    from ideal.report.fetcher import AssetFetcher

    fetcher = AssetFetcher(ASSETS, generated)
    with _fewer_collections():
        doc = weasyprint.HTML(string=html, base_url=ASSETS.as_uri() + "/",
                              url_fetcher=fetcher).render()
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".render-", suffix=".pdf")
    os.close(fd)
    try:
        # fixed identifier, fixed dates (in the HTML) and a fixed timestamp in the embedded font
        # subsets (fontTools reads SOURCE_DATE_EPOCH): the same run renders the same bytes
        saved = os.environ.get("SOURCE_DATE_EPOCH")
        if epoch is not None:
            os.environ["SOURCE_DATE_EPOCH"] = str(epoch)
        try:
            with _fewer_collections():
                doc.write_pdf(tmp, pdf_identifier=identifier.encode() if identifier else None,
                              pdf_variant=variant, attachments=attachments, finisher=_one_reference_per_file)
        finally:
            if epoch is not None:
                if saved is None:
                    os.environ.pop("SOURCE_DATE_EPOCH", None)
                else:
                    os.environ["SOURCE_DATE_EPOCH"] = saved
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return len(doc.pages), fetcher.refused


# The cyclic garbage collector's first threshold while WeasyPrint lays out and writes a PDF:
# it makes millions of boxes that live until the end, and each full collection scans them all
# again. 21 full collections took a quarter of the annex's time (47.7 s; 40.6 s with this, the
# same peak memory, 1,261 MB; python's default is 700).
RENDER_GC_THRESHOLD = (100_000, 20, 100)


@contextmanager
def _fewer_collections():
    saved = gc.get_threshold()
    gc.set_threshold(*RENDER_GC_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*saved)


def _one_reference_per_file(_document, pdf) -> None:
    """WeasyPrint 70's PDF/A step lists each attachment twice in the catalogue's associated
    files (once by its name, once as a file specification): keep one reference to each, so a
    reader lists the scores file once."""
    if "AF" in pdf.catalog:
        import pydyf

        pdf.catalog["AF"] = pydyf.Array(dict.fromkeys(pdf.catalog["AF"]))


def _check_language(language: str) -> None:
    if language not in LANGUAGES:
        raise ReportError(f"language {language!r}: reports are available in "
                          f"{', '.join(LANGUAGES)}.")


def _short(text: str, width: int = 20) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def render_briefing(run: dict, scores: pd.DataFrame, subs: pd.DataFrame, language: str = "es",
                    out_dir: Path | None = None) -> tuple[Path, int]:
    """The run's briefing (tagged PDF/UA-1) in reports/<period>/<run>/briefing-<lang>.pdf; returns
    (path, pages). ``subs``: the submissions of the run's countries."""
    _check_language(language)
    if scores.empty:
        raise ReportError(f"run {run['id']} has no scores to report.")
    ctx = context.build(run, scores, subs, language)
    _ = translations(language).gettext
    scope = list(run["countries"])
    legend = maps.legend_for(scope, language)
    # v5 (#50) shows the WHERE maps instead; its annex leaves the v4 score's level maps and the
    # trends of its leading threats to the full annex (ideal report --annex), which has them
    v5 = bool(ctx.get("bottom_line"))
    assets, ctx["market_maps"], ctx["level_map"] = {}, [], None
    if not v5:  # small multiples of the leading crime markets (those proposed as priorities first)
        crimes = list(dict.fromkeys([p["crime_type"] for p in ctx["priorities"] if p.get("crime_type")]
                                    + maps.leading_crime_types(scores)))[:maps.BRIEFING_MAPS]
        ctx["market_maps"] = [reference.crime_name(c, language, short=True) for c in crimes]
        assets["map-markets.svg"] = maps.market_maps(scores, scope, crimes, ctx["market_maps"], legend)
        ctx["level_map"] = "map-markets.svg"
    ctx["hotspot_map"] = None
    if ctx["hotspots"]:
        assets["map-hotspots.svg"] = maps.hotspot_map(ctx["hotspot_pairs"], scope, legend[:2])
        ctx["hotspot_map"] = "map-hotspots.svg"
    # v5 (#50): the WHERE maps of the proposed priorities' crime types (else the crime types with
    # the most probable hotspots), each with its inset of Central America and the Caribbean
    ctx["where_maps"] = []
    if ctx.get("where") and "p_exceed" in scores:
        lead = [p["crime_type"] for p in ctx.get("priorities") or [] if p.get("crime_type")]
        lead += list(context.where_hotspots(scores)["crime_type"])
        for i, crime in enumerate(list(dict.fromkeys(lead))[:maps.WHERE_MAPS]):
            whole, inset = maps.where_maps(scores, scope, crime, language)
            assets[f"map-where-{i}.svg"], assets[f"map-where-{i}-inset.svg"] = whole, inset
            ctx["where_maps"].append({"crime": reference.crime_name(crime, language), "whole": f"map-where-{i}.svg",
                                      "inset": f"map-where-{i}-inset.svg"})
    series = ((run.get("info") or {}).get("series") or [])[:8]  # two rows of four: the page budget
    ctx["trends"] = None
    if series and not v5:
        titles = [f"{_short(reference.region_name(x['region']))} ({x['country']})\n"
                  f"{_short(reference.crime_name(x['crime_type'], language, short=True))}" for x in series]
        assets["chart-trends.svg"] = charts.trends(series, titles, _("rate per 100,000"))
        ctx["trends"] = "chart-trends.svg"
    html = render_html(ctx)
    target = (out_dir or get_settings().reports_dir) / run["period"] / run["id"] / f"briefing-{language}.pdf"
    pages, _refused = write_pdf(html, target, assets,
                                identifier=f"{run['id']}-{language}",
                                epoch=int(run["created_at"].timestamp()), variant="pdf/ua-1")
    return target, pages


def render_annex(run: dict, scores: pd.DataFrame, subs: pd.DataFrame, language: str = "es",
                 out_dir: Path | None = None) -> tuple[Path, int]:
    """The full annex as PDF/A-3a (archival and tagged, like the briefing) with the run's scores
    attached as CSV; returns (path, pages). ``subs``: the submissions the run used and those of
    its members that were rejected."""
    _check_language(language)
    ctx, assets = annex.build(run, scores, subs, language)
    html = render_html(ctx, "annex.html.j2")
    weasyprint = _weasyprint()
    created = run["created_at"]
    csv = weasyprint.Attachment(string=annex.scores_csv(scores), name=f"scores-{run['id']}.csv",
                                description="IDEAL threat scores of the run", created=created,
                                modified=created, relationship="Data")
    target = (out_dir or get_settings().reports_dir) / run["period"] / run["id"] / f"annex-{language}.pdf"
    pages, _refused = write_pdf(html, target, assets, identifier=f"{run['id']}-annex-{language}",
                                epoch=int(created.timestamp()), variant="pdf/a-3a",
                                attachments=[csv])
    return target, pages
