"""The size every piece of text of a PDF is printed at (#32: no text under 7 pt, figures
included). pdfminer interprets the page as a viewer does: a glyph's printed size is its font
size times the scale of the text matrix and of every transformation it is drawn under (a
figure's SVG scaled to its box, a rotated axis label), which pypdf's text visitor does not
follow into every nested transformation."""

from __future__ import annotations

from itertools import groupby
from pathlib import Path

from pdfminer.converter import PDFLayoutAnalyzer
from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
from pdfminer.pdfpage import PDFPage


class _Sizes(PDFLayoutAnalyzer):
    def __init__(self, resources: PDFResourceManager):
        super().__init__(resources)
        self.found: list[tuple[int, float, str]] = []
        self.page = 0

    def render_char(self, matrix, font, fontsize, scaling, rise, cid, ncs, graphicstate):
        a, b, c, d, _e, _f = matrix  # the text matrix times the current transformation
        try:
            text = font.to_unichr(cid)
        except Exception:  # noqa: BLE001 - a glyph without a Unicode mapping: still measured
            text = "?"
        self.found.append((self.page, round(fontsize * abs(a * d - b * c) ** 0.5, 2), text))
        return super().render_char(matrix, font, fontsize, scaling, rise, cid, ncs, graphicstate)


def text_sizes(path: Path) -> list[tuple[float, int, str]]:
    """(printed size in points, page, text) of every run of glyphs drawn at one size, smallest
    first; blanks left out."""
    resources = PDFResourceManager()
    device = _Sizes(resources)
    interpreter = PDFPageInterpreter(resources, device)
    with open(path, "rb") as fh:
        for n, page in enumerate(PDFPage.get_pages(fh), start=1):
            device.page = n
            interpreter.process_page(page)
    runs = [(size, page, "".join(t for _, _, t in group).strip())
            for (page, size), group in groupby(device.found, key=lambda f: (f[0], f[1]))]
    return sorted(r for r in runs if r[2])
