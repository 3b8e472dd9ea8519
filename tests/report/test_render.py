import pandas as pd
import pytest

from ideal.report import charts
from ideal.report.fetcher import AssetFetcher
from ideal.report.render import ASSETS, render_html, write_pdf


def test_fetcher_serves_own_assets_and_refuses_everything_else():
    fetcher = AssetFetcher(ASSETS, {"chart.svg": b"<svg/>"})
    assert fetcher.fetch((ASSETS / "briefing.css").as_uri()).read() == (ASSETS / "briefing.css").read_bytes()
    font = ASSETS / "fonts" / "DejaVuSans.ttf"
    assert fetcher.fetch(font.as_uri()).read() == font.read_bytes()
    assert fetcher.fetch((ASSETS / "chart.svg").as_uri()).read() == b"<svg/>"
    for url in ("file:///etc/passwd", "http://127.0.0.1:9/x.png", "https://example.org/a.css",
                (ASSETS / ".." / ".." / "pyproject.toml").as_uri()):
        with pytest.raises(ValueError):
            fetcher.fetch(url)
    assert len(fetcher.refused) == 4


def test_hostile_markup_in_html_fetches_nothing(tmp_path):
    html = ('<html><body><p>x</p><img src="file:///etc/passwd"><img src="http://127.0.0.1:9/a.png">'
            '<link rel="stylesheet" href="http://127.0.0.1:9/evil.css"></body></html>')
    pages, refused = write_pdf(html, tmp_path / "out.pdf", {})
    assert pages == 1 and (tmp_path / "out.pdf").stat().st_size > 0
    assert set(refused) == {"file:///etc/passwd", "http://127.0.0.1:9/a.png",
                            "http://127.0.0.1:9/evil.css"}


def minimal_context(**over):
    ctx = {"language": "es", "classification": "USO OFICIAL", "period": "2025",
           "run": {"id": "2025-abc", "created": "1 de enero de 2026", "created_iso": "2026-01-01T00:00:00+00:00", "profile": "default",
                   "profile_hash": "abc", "observations": "10", "scores": "5"},
           "findings": ["uno"], "top": [], "countries": [], "levels": [], "bands": [],
           "rate_per": "100.000", "weights": None, "harm_scale": None, "draws": 1000, "mc_data": False, "log_goalposts": False, "emerging": [], "early_warning": False, "markets": [], "trends": None, "synthetic": False,
           "level_map": "map-levels.svg", "hotspot_map": None, "hotspots": [], "hotspots_total": 0,
           "shared_shapes": [], "assessed": [], "not_assessed": [], "national": [], "partial_year": {}}
    ctx.update(over)
    return ctx


def test_submitted_text_is_escaped():
    evil = '<img src="file:///etc/passwd"><script>alert(1)</script>'
    html = render_html(minimal_context(top=[{
        "rank": 1, "country": "México", "region": evil, "crime": "Homicidio", "rate": "1",
        "value": "1", "score": "10", "level": "high", "level_label": "alto", "reliability": "9,0",
        "interval": "1-3", "imputed": False, "partial": False, "nowcast": False, "data_year": 2025,
        "estimated_population": False, "why": evil}],
        not_assessed=[{"name": "Venezuela", "reason": evil}]))
    assert evil not in html and "&lt;script&gt;" in html


def test_heatmap_is_svg_with_text_kept_as_text():
    m = pd.DataFrame([[1.0, float("nan")], [9.5, 3.0]], index=["Brasil", "México"],
                     columns=["Homicidio", "Robo"])
    svg = charts.heatmap(m, "t", "puntuación").decode()
    assert svg.startswith("<?xml") and "<image" not in svg  # vector only
    assert "México" in svg and "Homicidio" in svg and "9.5" in svg
