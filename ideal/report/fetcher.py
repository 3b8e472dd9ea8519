"""A WeasyPrint URL fetcher that serves only the project's own report assets.

Text that a country submitted ends up in the HTML (region names, file names). Escaping
keeps it from becoming markup, and this fetcher makes sure that even markup could not make
the renderer read a local file or call the network: it answers only for files inside the
report template folder and for the charts generated for this render; everything else is
refused and logged in ``refused``.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

from weasyprint.urls import URLFetcher, URLFetcherResponse

MIME = {".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png", ".ttf": "font/ttf",
        ".woff2": "font/woff2", ".otf": "font/otf"}


class AssetFetcher(URLFetcher):
    def __init__(self, asset_dir: Path, generated: dict[str, bytes] | None = None):
        super().__init__(fail_on_errors=False)
        self.asset_dir = asset_dir.resolve()
        self.generated = dict(generated or {})
        self.refused: list[str] = []

    def fetch(self, url, headers=None):
        parsed = urlparse(url)
        if parsed.scheme == "file":
            path = Path(unquote(parsed.path)).resolve()
            if path.parent == self.asset_dir and path.name in self.generated:
                return URLFetcherResponse(url, self.generated[path.name],
                                          {"Content-Type": MIME.get(path.suffix, "application/octet-stream")})
            if path.is_relative_to(self.asset_dir) and path.is_file():
                return URLFetcherResponse(url, path.read_bytes(),
                                          {"Content-Type": MIME.get(path.suffix, "application/octet-stream")})
        self.refused.append(url)
        raise ValueError(f"IDEAL renders only its own assets; refused {url[:200]}")
