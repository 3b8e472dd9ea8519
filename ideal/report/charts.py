"""Charts as SVG (matplotlib, text kept as text so the PDF stays searchable)."""

from __future__ import annotations

import io
import threading

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.collections import PatchCollection  # noqa: E402
from matplotlib.patches import Patch, PathPatch  # noqa: E402
from matplotlib.path import Path as MplPath  # noqa: E402

plt.rcParams.update({"svg.fonttype": "none", "font.family": "DejaVu Sans", "font.size": 8,
                     "svg.hashsalt": "ideal"})
# a boundary is drawn with the detail the printed map can show: vertices within half a point
# (0.18 mm) of the simplified line are dropped (Douglas-Peucker, shapely, topology kept).
# Natural Earth's detail made WeasyPrint spend most of a briefing on its maps.
PRINT_DETAIL_PT = 0.5
# the smallest text in any figure at print size: figures are drawn at the size they are printed
# at (6.85 in: the width of an A4 page within the briefing's margins), so a point is a point
MIN_PT = 7.0


def heatmap(matrix: pd.DataFrame, title: str, colorbar_label: str) -> bytes:
    """Countries (rows) x crime types (columns), values 0-10, as SVG bytes."""
    values = matrix.to_numpy(dtype="float64")
    height = 1.2 + 0.28 * len(matrix.index)
    fig, ax = plt.subplots(figsize=(6.85, height))
    masked = np.ma.masked_invalid(values)
    cmap = plt.get_cmap("YlOrRd").with_extremes(bad="#eeeeee")
    # vector cells (pcolormesh), not a raster image: sharp in print, no embedded PNG
    im = ax.pcolormesh(masked, cmap=cmap, vmin=0, vmax=10, edgecolors="white", linewidth=0.5)
    ax.invert_yaxis()
    ax.set_xticks(np.arange(len(matrix.columns)) + 0.5, labels=list(matrix.columns), rotation=40,
                  ha="right")
    ax.set_yticks(np.arange(len(matrix.index)) + 0.5, labels=list(matrix.index))
    for (i, j), v in np.ndenumerate(values):
        if np.isfinite(v):
            ax.text(j + 0.5, i + 0.5, f"{v:.1f}", ha="center", va="center", fontsize=MIN_PT,
                    color="white" if v > 6 else "black")
    ax.set_title(title, fontsize=9, loc="left")
    # 10 discrete steps keep the colour bar vector (matplotlib rasterises long gradients)
    fig.colorbar(im, ax=ax, fraction=0.025, pad=0.01,
                 boundaries=np.linspace(0, 10, 11)).set_label(colorbar_label)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    plt.close(fig)
    return buf.getvalue()


def bars(labels: list[str], values: list[float], title: str, xlabel: str,
         limits: tuple[float, float] | None = None) -> bytes:
    """Horizontal bars (one per label) as SVG bytes; negative values drawn to the left."""
    height = 0.9 + 0.22 * len(labels)
    fig, ax = plt.subplots(figsize=(6.85, height))
    colors = ["#c0392b" if v > 0 else "#2e86c1" for v in values]
    ax.barh(range(len(labels)), values, color=colors)
    ax.set_yticks(range(len(labels)), labels=labels)
    ax.invert_yaxis()
    ax.axvline(0, color="#555", linewidth=0.6)
    if limits:
        ax.set_xlim(*limits)
    ax.set_xlabel(xlabel)
    ax.set_title(title, fontsize=9, loc="left")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    plt.close(fig)
    return buf.getvalue()


def trends(series: list[dict], titles: list[str], ylabel: str, columns: int = 4, width: float = 6.85) -> bytes:
    """Small multiples, one per leading threat: its yearly rates (points) and the fitted trend
    through its modelled rate of the data year (line), with the 95 % band of that same estimate:
    the log rate at year t is level + slope (t - T), with variance var(level) + (t - T)^2 var(slope)
    (their covariance left out); each panel on its own scale. Drawn at ``width`` inches, the
    width it is printed at."""
    rows = max(1, -(-len(series) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(width, 1.75 * rows + 0.2), squeeze=False)
    for ax in axes.flat[len(series):]:
        ax.axis("off")
    for ax, s, title in zip(axes.flat, series, titles, strict=False):
        years, values = s["years"], s["rates"]
        ax.plot(years, values, "o", color="#1f4e79", markersize=3)
        if s.get("change") is not None and years:
            t = np.linspace(min(years), s["data_year"], 20)
            b = np.log1p(s["change"])
            level = s["level"] or (values[-1] if values else 0)
            ax.plot(t, level * np.exp(b * (t - s["data_year"])), color="#c0392b", linewidth=1)
            if s.get("se") is not None or s.get("level_se") is not None:
                sd = np.sqrt((s.get("level_se") or 0.0) ** 2 + ((s.get("se") or 0.0) * (t - s["data_year"])) ** 2)
                centre = np.log(max(level, 1e-12)) + b * (t - s["data_year"])
                ax.fill_between(t, np.exp(centre - 1.96 * sd), np.exp(centre + 1.96 * sd), color="#c0392b",
                                alpha=0.15, linewidth=0)
        ax.set_title(title, fontsize=MIN_PT, loc="left", linespacing=1.05)
        ax.tick_params(labelsize=MIN_PT, length=2, pad=1.5)
        ticks = sorted(set(years)) or [s["data_year"]]
        ax.set_xticks(ticks, labels=[f"'{str(y)[2:]}" for y in ticks])
        ax.set_ylim(bottom=0)
        ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(4))
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    for row in axes:  # the unit once per row, beside its first panel (tight_layout keeps it off the ticks)
        row[0].set_ylabel(ylabel, fontsize=MIN_PT)
    fig.tight_layout(pad=0.3, h_pad=0.6, w_pad=0.8)
    return _svg(fig)


def _svg(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    plt.close(fig)
    return buf.getvalue()


_SIMPLIFIED: dict[tuple[int, float], tuple[dict, MplPath]] = {}
_SIMPLIFIED_MAX = 20_000  # paths kept: every member's regions at a few map sizes
_SIMPLIFIED_LOCK = threading.Lock()


def _path(geometry: dict, tolerance: float = 0.0) -> MplPath:
    """A GeoJSON (Multi)Polygon as one compound path (holes included), simplified to
    ``tolerance`` (degrees; 0: as it is). Kept per geometry and tolerance: the boundaries are
    read once per process (reference.boundaries), and the annex's and the briefing's small
    multiples draw the same regions at the same size several times (the geometry is kept with
    its path, so its id cannot be reused while the entry lives)."""
    key = (id(geometry), tolerance)
    with _SIMPLIFIED_LOCK:
        kept = _SIMPLIFIED.get(key)
    if kept is not None and kept[0] is geometry:
        return kept[1]
    path = _simplified(geometry, tolerance)
    with _SIMPLIFIED_LOCK:
        if len(_SIMPLIFIED) >= _SIMPLIFIED_MAX:
            _SIMPLIFIED.clear()
        _SIMPLIFIED[key] = (geometry, path)
    return path


def _simplified(geometry: dict, tolerance: float) -> MplPath:
    if tolerance > 0:
        import shapely
        from shapely.geometry import mapping, shape

        geometry = mapping(shapely.simplify(shape(geometry), tolerance, preserve_topology=True))
    polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    rings = [np.asarray(ring, dtype="float64") for polygon in polygons for ring in polygon]
    return MplPath.make_compound_path(*[MplPath(r, closed=True) for r in rings if len(r) >= 3])


def _draw_map(ax, shapes: list[dict], outlines: list[dict], extent: tuple[float, float, float, float]) -> None:
    """Fills, hatches and country outlines on ``ax``, framed on ``extent`` (west, south, east,
    north), lon/lat drawn with the aspect of the middle latitude."""
    west, south, east, north = extent
    box = ax.get_position()  # the axes in the figure, to the size it is printed at, in points
    width_pt, height_pt = box.width * ax.figure.get_figwidth() * 72, box.height * ax.figure.get_figheight() * 72
    tolerance = PRINT_DETAIL_PT * min((east - west) / width_pt, (north - south) / height_pt)
    by_style: dict[tuple[str, bool], list] = {}
    for s in shapes:
        by_style.setdefault((s["fill"], bool(s.get("hatch"))), []).append(_path(s["geometry"], tolerance))
    for (fill, hatch), paths in sorted(by_style.items()):
        # the hatched shapes as one compound path: one hatch pattern to paint, not one per region
        # (WeasyPrint paints an SVG pattern once per use: 1,281 of them took 11 s of a briefing)
        patches = [PathPatch(MplPath.make_compound_path(*paths))] if hatch else [PathPatch(p) for p in paths]
        ax.add_collection(PatchCollection(patches, facecolor=fill, edgecolor="#ffffff" if not hatch else "#9a9a9a",
                                          linewidth=0.25, hatch="/////" if hatch else None))
    ax.add_collection(PatchCollection([PathPatch(_path(o["geometry"], tolerance)) for o in outlines],
                                      facecolor="none", edgecolor="#333333", linewidth=0.6))
    ax.set_xlim(west, east)
    ax.set_ylim(south, north)
    ax.set_aspect(1 / np.cos(np.radians((south + north) / 2)))
    ax.set_axis_off()


def _handles(legend: list[tuple[str, str, bool]]) -> list:
    return [Patch(facecolor=colour, edgecolor="#9a9a9a" if hatched else "#666666", linewidth=0.4,
                  hatch="/////" if hatched else None, label=label) for label, colour, hatched in legend]


def choropleth(shapes: list[dict], outlines: list[dict], legend: list[tuple[str, str, bool]],
               extent: tuple[float, float, float, float] | None = None,
               marks: list[tuple[float, float, str]] | None = None, size: tuple[float, float] = (7.2, 7.0),
               legend_loc: str = "upper right") -> bytes:
    """A map as SVG bytes. ``shapes``: dicts with ``geometry`` (GeoJSON, lon/lat), ``fill`` (a colour)
    and ``hatch`` (True for regions without data); ``outlines``: country geometries drawn on top;
    ``legend``: (label, colour, hatched); ``extent``: (west, south, east, north); ``marks``: labels
    (lon, lat, text) set in a column beside the map, each joined to its place by a leader line, so
    no label covers a fill. Drawn at ``size`` inches, the size it is printed at."""
    west, south, east, north = extent or bounds([s["geometry"] for s in shapes])
    fig = plt.figure(figsize=size)
    label_share = 0.34 if marks else 0.0  # of the width: the column of labels
    ax = fig.add_axes((label_share, 0.0, 1 - label_share, 1.0))
    _draw_map(ax, shapes, outlines, (west, south, east, north))
    if marks:
        # labels in the left column, in the order of their latitude (north first), evenly spaced
        ordered = sorted(marks, key=lambda m: -m[1])
        n = len(ordered)
        for i, (lon, lat, text) in enumerate(ordered):
            y = 1 - (i + 0.5) / max(n, 1) * (0.62 if legend else 1.0)
            ax.annotate(text, xy=(lon, lat), xycoords="data", xytext=(0.0, y), textcoords="figure fraction",
                        ha="left", va="center", fontsize=MIN_PT + 0.5, color="#111111",
                        arrowprops={"arrowstyle": "-", "color": "#333333", "linewidth": 0.5,
                                    "shrinkA": 2, "shrinkB": 0})
            ax.plot([lon], [lat], "o", color="#111111", markersize=1.8)
    if legend:
        if marks:
            fig.legend(handles=_handles(legend), loc="lower left", fontsize=MIN_PT + 0.5, frameon=False,
                       handlelength=1.6, bbox_to_anchor=(0.0, 0.0))
        else:
            ax.legend(handles=_handles(legend), loc=legend_loc, fontsize=MIN_PT + 0.5, frameon=False,
                      handlelength=1.6)
    return _svg(fig)


def choropleths(panels: list[tuple[str, list[dict]]], outlines: list[dict], legend: list[tuple[str, str, bool]],
                extent: tuple[float, float, float, float], columns: int = 2, width: float = 6.85) -> bytes:
    """Small-multiple maps on one extent: ``panels`` as (title, shapes), ``columns`` to a row,
    one legend below them all; drawn at ``width`` inches, the width it is printed at."""
    west, south, east, north = extent
    aspect = (north - south) / ((east - west) * np.cos(np.radians((south + north) / 2)))
    rows = max(1, -(-len(panels) // columns))
    panel_w = width / columns
    legend_h = 0.45
    title_h = 0.25
    fig = plt.figure(figsize=(width, rows * (panel_w * aspect + title_h) + legend_h))
    height = fig.get_figheight()
    for i, (title, shapes) in enumerate(panels):
        row, col = divmod(i, columns)
        top = height - row * (panel_w * aspect + title_h)
        ax = fig.add_axes((col / columns, (top - title_h - panel_w * aspect) / height,
                           1 / columns, panel_w * aspect / height))
        _draw_map(ax, shapes, outlines, extent)
        fig.text((col + 0.03) / columns, (top - title_h * 0.5) / height, title, ha="left", va="center",
                 fontsize=MIN_PT + 2, fontweight="bold", color="#13315c")
    fig.legend(handles=_handles(legend), loc="lower center", ncol=len(legend), fontsize=MIN_PT + 0.5,
               frameon=False, handlelength=1.6, bbox_to_anchor=(0.5, 0.0), columnspacing=1.2)
    return _svg(fig)


def bounds(geometries: list[dict], margin: float = 0.5) -> tuple[float, float, float, float]:
    """(west, south, east, north) of the outer rings of GeoJSON (Multi)Polygons, with a margin."""
    points = np.concatenate([np.asarray(ring, dtype="float64")
                             for g in geometries
                             for polygon in ([g["coordinates"]] if g["type"] == "Polygon" else g["coordinates"])
                             for ring in polygon[:1]])
    (west, south), (east, north) = points.min(axis=0), points.max(axis=0)
    return west - margin, south - margin, east + margin, north + margin
