"""Charts as SVG (matplotlib, text kept as text so the PDF stays searchable)."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.collections import PatchCollection  # noqa: E402
from matplotlib.patches import Patch, PathPatch  # noqa: E402
from matplotlib.path import Path as MplPath  # noqa: E402

plt.rcParams.update({"svg.fonttype": "none", "font.family": "DejaVu Sans", "font.size": 8,
                     "svg.hashsalt": "ideal"})


def heatmap(matrix: pd.DataFrame, title: str, colorbar_label: str) -> bytes:
    """Countries (rows) x crime types (columns), values 0-10, as SVG bytes."""
    values = matrix.to_numpy(dtype="float64")
    height = 1.2 + 0.28 * len(matrix.index)
    fig, ax = plt.subplots(figsize=(7.2, height))
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
            ax.text(j + 0.5, i + 0.5, f"{v:.1f}", ha="center", va="center", fontsize=6,
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
    fig, ax = plt.subplots(figsize=(6.8, height))
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


def trends(series: list[dict], titles: list[str], ylabel: str, columns: int = 5) -> bytes:
    """Small multiples, one per leading threat: its yearly rates (points) and the fitted trend
    through its modelled rate of the data year, with the 95 % band of the slope
    (exp(b +- 1.96 se)); each panel on its own scale."""
    rows = max(1, -(-len(series) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(7.2, 1.4 * rows + 0.3), squeeze=False)
    for ax in axes.flat[len(series):]:
        ax.axis("off")
    for ax, s, title in zip(axes.flat, series, titles, strict=False):
        years, values = s["years"], s["rates"]
        ax.plot(years, values, "o", color="#1f4e79", markersize=2.8)
        if s.get("change") is not None and years:
            t = np.linspace(min(years), s["data_year"], 20)
            b = np.log1p(s["change"])
            level = s["level"] or (values[-1] if values else 0)
            ax.plot(t, level * np.exp(b * (t - s["data_year"])), color="#c0392b", linewidth=1)
            if s.get("se"):
                lo = level * np.exp((b - 1.96 * s["se"]) * (t - s["data_year"]))
                hi = level * np.exp((b + 1.96 * s["se"]) * (t - s["data_year"]))
                ax.fill_between(t, np.minimum(lo, hi), np.maximum(lo, hi), color="#c0392b", alpha=0.15, linewidth=0)
        ax.set_title(title, fontsize=5.5, loc="left", linespacing=1.1)
        ax.tick_params(labelsize=5, length=2)
        ax.set_xticks(sorted(set(years)) or [s["data_year"]])
        ax.set_xticklabels([str(y)[2:] for y in (sorted(set(years)) or [s["data_year"]])])
        ax.set_ylim(bottom=0)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    fig.supylabel(ylabel, fontsize=6)
    fig.tight_layout(pad=0.4)
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    plt.close(fig)
    return buf.getvalue()


def _path(geometry: dict) -> MplPath:
    """A GeoJSON (Multi)Polygon as one compound path (holes included)."""
    polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    rings = [np.asarray(ring, dtype="float64") for polygon in polygons for ring in polygon]
    return MplPath.make_compound_path(*[MplPath(r, closed=True) for r in rings if len(r) >= 3])


def choropleth(shapes: list[dict], outlines: list[dict], legend: list[tuple[str, str, bool]],
               extent: tuple[float, float, float, float] | None = None,
               marks: list[tuple[float, float, str]] | None = None, size: tuple[float, float] = (7.2, 7.0),
               legend_loc: str = "upper right") -> bytes:
    """A map as SVG bytes. ``shapes``: dicts with ``geometry`` (GeoJSON, lon/lat), ``fill`` (a colour)
    and ``hatch`` (True for regions without data); ``outlines``: country geometries drawn on top;
    ``legend``: (label, colour, hatched); ``extent``: (west, south, east, north); ``marks``: labels
    (lon, lat, text) on a light box. Lon/lat drawn with the aspect of the middle latitude."""
    fig, ax = plt.subplots(figsize=size)
    by_style: dict[tuple[str, bool], list] = {}
    for s in shapes:
        by_style.setdefault((s["fill"], bool(s.get("hatch"))), []).append(PathPatch(_path(s["geometry"])))
    for (fill, hatch), patches in sorted(by_style.items()):
        ax.add_collection(PatchCollection(patches, facecolor=fill, edgecolor="#ffffff" if not hatch else "#9a9a9a",
                                          linewidth=0.25, hatch="/////" if hatch else None))
    ax.add_collection(PatchCollection([PathPatch(_path(o["geometry"])) for o in outlines], facecolor="none",
                                      edgecolor="#333333", linewidth=0.6))
    for lon, lat, text in marks or []:
        # a light box, not a stroke (a path effect turns the text into outlines: not searchable)
        ax.annotate(text, (lon, lat), ha="center", va="center", fontsize=5.5, color="#111111",
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.75})
    west, south, east, north = extent or bounds([s["geometry"] for s in shapes])
    ax.set_xlim(west, east)
    ax.set_ylim(south, north)
    ax.set_aspect(1 / np.cos(np.radians((south + north) / 2)))
    ax.set_axis_off()
    if legend:
        handles = [Patch(facecolor=colour, edgecolor="#9a9a9a" if hatched else "#666666", linewidth=0.4,
                         hatch="/////" if hatched else None, label=label) for label, colour, hatched in legend]
        ax.legend(handles=handles, loc=legend_loc, fontsize=7, frameon=False, handlelength=1.6)
    fig.tight_layout(pad=0.3)
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    plt.close(fig)
    return buf.getvalue()


def bounds(geometries: list[dict], margin: float = 0.5) -> tuple[float, float, float, float]:
    """(west, south, east, north) of the outer rings of GeoJSON (Multi)Polygons, with a margin."""
    points = np.concatenate([np.asarray(ring, dtype="float64")
                             for g in geometries
                             for polygon in ([g["coordinates"]] if g["type"] == "Polygon" else g["coordinates"])
                             for ring in polygon[:1]])
    (west, south), (east, north) = points.min(axis=0), points.max(axis=0)
    return west - margin, south - margin, east + margin, north + margin
