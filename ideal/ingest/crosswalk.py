"""National exports to canonical observations through crosswalk profiles (ideal.ingest.profile:
YAML, installed in IDEAL_PROFILES_DIR or shipped in ideal/ingest/profiles/).

A profile says which columns hold the period, the region code and the national crime
category, how region codes map to ISO 3166-2 (a crosswalk table in ideal/reference), how
categories map to ICCS (ordered rules, first match wins), which value columns become which
indicator, and which stated rates to check. Nothing is dropped silently: unmapped categories,
categories outside IDEAL's crime types, codes and names that disagree, parent codes beside
their children, empty cells: each becomes a finding in the steward's feedback.
"""

from __future__ import annotations

import calendar
import re
import unicodedata

import numpy as np
import pandas as pd

from ideal import reference
from ideal.errors import SubmissionError
from ideal.i18n import tr
from ideal.ingest import categories, shapes
from ideal.ingest.profile import Profile
from ideal.ingest.shapes import finding
from ideal.ingest.sniff import Assumptions, ReadOptions, decimal_mark, to_numbers
from ideal.ingest.template import finish

RATE_TOLERANCE = 0.02
EXAMPLES = 5


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode().casefold()
    return re.sub(r"\s*\(ct\)|\s*d\.c\.|[^a-z0-9 ]", "", text).strip()


def _regions(df: pd.DataFrame, prof: Profile, findings: list) -> pd.Series:
    """ISO 3166-2 per row from a national code (crosswalk) or an ISO code; None for rows of an
    unknown region (counted, not loaded); an unmapped code is an error naming it."""
    spec, country = prof.as_dict()["region"], prof.country
    if prof.region.by == "name":
        return shapes.regions_by_name(df, prof, findings)
    code = df[spec["column"]].astype(str).str.strip()
    if spec.get("pad"):
        code = code.where(~code.str.fullmatch(r"\d+"), code.str.zfill(spec["pad"]))
    if spec.get("take"):
        code = code.str.slice(0, spec["take"])
    if spec.get("crosswalk"):
        table = reference.crosswalk(spec["crosswalk"])
        mapping = table.set_index(spec["key"])["region"]
    elif spec.get("municipal"):  # national municipal codes, kept as the second level
        munis = reference.municipalities([country])["region"]
        mapping = pd.Series(munis.to_numpy(), index=munis.str.split("-", n=1).str[1])
    else:  # ISO 3166-2 codes, with or without the country prefix
        subs = reference.regions([country])["region"]
        mapping = pd.concat([pd.Series(subs.to_numpy(), index=subs), pd.Series(
            subs.to_numpy(), index=subs.str.split("-").str[1])])
    aliases = {_norm(k): v for k, v in spec.get("aliases", {}).items()}
    national = code.isin([str(c) for c in spec.get("national", [])])
    unknown_marks = {_norm(u) for u in spec.get("unknown", [])}
    folded = code.map(_norm)
    apart = folded.isin({_norm(v) for v in spec.get("no_region", [])})
    unknown = (folded.isin(unknown_marks) | code.eq("")) & ~apart
    region = code.map(mapping).fillna(folded.map(aliases)).where(~national, country)
    region = region.mask(apart, reference.no_region(country))
    shapes.remainder_finding(df, code, region, spec["column"], country, findings)
    if unknown.any():
        for value, group in df[unknown].groupby(code[unknown], sort=False):
            findings.append(shapes.unknown_region(spec["column"], value, group))
        region = region.mask(unknown, None)
    unmapped = region.isna() & ~unknown
    if unmapped.any():
        for value, rows in df.loc[unmapped].groupby(code[unmapped]).groups.items():
            other = shapes.elsewhere(value, country)
            first = int(df.loc[rows[0], "source_row"])
            if other:
                findings.append(finding(
                    "error", "region_other_country", spec["column"], first, value,
                    shapes.other_country(value, len(rows), other, country), rows=len(rows)))
                continue
            where = (tr("the crosswalk %(name)s", name=spec["crosswalk"]) if spec.get("crosswalk")
                     else tr("the municipal codes of %(country)s", country=country)
                     if spec.get("municipal") else tr("the ISO 3166-2 codes of %(country)s", country=country))
            findings.append(finding("error", "region_code_mapped", spec["column"], first, value,
                                    tr("code %(value)r (%(n)s rows) is not in %(where)s; use the "
                                       "official code or add it to the profile's region.aliases.",
                                       value=value, n=len(rows), where=where), rows=len(rows)))
        # not loaded: the error above names the value once with its row count (a made-up code
        # would be reported again on every canonical row, and in every later warning)
        region = region.mask(unmapped, None)
    if not spec.get("crosswalk"):
        return region
    table = table.set_index(spec["key"])
    if spec.get("name_column"):
        given = df[spec["name_column"]].map(_norm)
        names = table
        expected = [{_norm(names.at[c, col]) for col in spec.get("name_keys", ["nombre"])}
                    if c in names.index else set() for c in code]
        wrong = pd.Series([bool(e) and g not in e for g, e in zip(given, expected, strict=False)],
                          index=df.index, dtype=bool)
        for (name, value), group in df[wrong].groupby([spec["name_column"], spec["column"]], sort=False):
            findings.append(finding(
                "warning", "region_name_matches_code", spec["name_column"],
                group["source_row"].iloc[0], name,
                tr("the name %(name)r does not match code %(code)s (%(region)s) in %(n)s rows; the "
                   "code is used, not the name.", name=name, code=value,
                   region=region[group.index[0]], n=len(group)), rows=len(group)))
    return region


def _duplicates(df: pd.DataFrame, spec: dict, findings: list) -> None:
    for dup in spec.get("unique", []):
        key = dup["columns"]
        within = dup.get("within", [])
        flagged = df[df.duplicated(within + key, keep=False)]
        for _, group in flagged.groupby(within + key, sort=False):
            rows = group["source_row"].tolist()
            codes = ", ".join(group[dup["show"]].astype(str)) if dup.get("show") else ""
            findings.append(finding(
                dup.get("severity", "warning"), dup["rule"], key[-1], rows[0],
                " / ".join(group.iloc[0][within + key].astype(str)),
                f"{dup['message']} (rows {', '.join(map(str, rows))}{'; codes ' + codes if codes else ''})."))


def _hierarchy(df: pd.DataFrame, spec: dict, value_cols: list[str], findings: list) -> pd.DataFrame:
    """National parent and child categories side by side: keep the stated level, check sums."""
    col, pattern, keep = spec["column"], re.compile(spec["child_pattern"]), spec.get("keep", "parent")
    parent = df[col].map(lambda c: (m.group(1) if (m := pattern.match(str(c))) else None))
    is_child = parent.notna()
    if not is_child.any():
        return df
    group = ["_region", "_period"]
    parents = df.loc[~is_child, group + [col]].assign(_p=df.loc[~is_child, col])
    kids = df[is_child].assign(_p=parent[is_child])
    both = kids.merge(parents[group + ["_p"]], on=group + ["_p"])
    if both.empty:
        return df
    first = value_cols[0]
    sums = both.groupby(group + ["_p"])[first].apply(lambda s: to_numbers(s, ".").sum())
    par = df.loc[~is_child].assign(_p=df.loc[~is_child, col]).set_index(group + ["_p"])[first]
    par = to_numbers(par, ".")
    diff = (sums - par.reindex(sums.index)).abs()
    bad = diff[diff > 0.5]
    codes = sorted(both["_p"].unique(), key=lambda c: int(c) if c.isascii() and c.isdigit() else 0)
    dropped_children = keep == "parent"
    findings.append(finding(
        "warning", "parent_and_child_categories", col, None, ", ".join(codes),
        tr("parent categories %(codes)s are sent together with their sub-categories in %(n)s "
           "region-years; summing both would count twice.", codes=", ".join(codes), n=sums.size)
        + " " + (tr("Rule: keep the parent (comparable with years before the sub-categories "
                    "existed); the sub-category rows are not loaded.") if dropped_children else
                 tr("Rule: keep the sub-categories; the parent rows are not loaded."))
        + " " + tr("Sub-categories sum exactly to the parent in %(ok)s of %(n)s.",
                   ok=sums.size - bad.size, n=sums.size)
        + (" " + tr("They differ in %(n)s (e.g. %(region)s %(period)s code %(code)s: %(sum)s vs %(parent)s).",
                    n=bad.size, region=bad.index[0][0], period=bad.index[0][1], code=bad.index[0][2],
                    sum=f"{sums[bad.index[0]]:.0f}", parent=f"{par.get(bad.index[0], np.nan):.0f}")
           if bad.size else "")))
    pairs = both[group + ["_p"]].drop_duplicates()
    if dropped_children:
        drop = df[is_child].assign(_p=parent[is_child]).reset_index().merge(pairs, on=group + ["_p"])["index"]
    else:
        drop = df[~is_child].assign(_p=df.loc[~is_child, col]).reset_index().merge(
            pairs, on=group + ["_p"])["index"]
    return df.drop(index=drop)


def _categories(df: pd.DataFrame, spec: dict, findings: list, mappings: list | None = None,
                country: str | None = None) -> pd.Series:
    """The ICCS code of each row by the profile's rules; each category's mapping reviewed
    against its own words (ideal.ingest.categories): a warning where they surely say another
    offence, and (``mappings``) every category with its mapping, the guess and its confidence."""
    if "fixed" in spec:  # a file of one crime type
        return pd.Series(spec["fixed"], index=df.index, dtype="object")
    cols = spec["columns"]
    iccs = pd.Series(None, index=df.index, dtype="object")
    outcome = {}
    for key, idx in df.groupby(cols, sort=False).groups.items():
        values = key if isinstance(key, tuple) else (key,)
        row = dict(zip(cols, values, strict=False))
        # the category's name: its distinct values (computed per category, not per row)
        label = " / ".join(dict.fromkeys(str(v) for v in values))
        for rule in spec["rules"]:
            if all(re.search(pat, str(row.get(c, ""))) for c, pat in rule["when"].items()):
                outcome[label] = (rule, idx)
                break
        else:
            outcome[label] = (None, idx)
    out_of_scope, unmapped = [], []
    for name, (rule, idx) in outcome.items():
        mapped = rule.get("iccs") if rule else None
        g, doubt = categories.review(name, mapped, country)
        if mappings is not None:
            mappings.append({"category": name, "rows": len(idx), "iccs": mapped,
                             "out_of_scope": rule.get("out_of_scope") if rule else None,
                             "guess": g.code, "guess_out_of_scope": g.out_of_scope, "confidence": g.confidence,
                             "matched": list(g.matched), "doubt": doubt})
        if doubt:
            findings.append(finding("warning", "category_mapping_doubtful", cols[-1],
                                    int(df.loc[idx[0], "source_row"]), name,
                                    tr("%(n)s rows of the category %(name)r are mapped to ICCS %(code)s, but %(doubt)s; "
                                       "check the profile's rule for it.", n=len(idx), name=name, code=mapped,
                                       doubt=doubt), rows=len(idx)))
        if rule is None:
            unmapped.append((name, idx))
        elif "iccs" in rule:
            iccs[idx] = rule["iccs"]
        else:
            out_of_scope.append((name, idx, rule["out_of_scope"]))
    for name, idx in unmapped:
        findings.append(finding("warning", "category_unmapped", cols[-1],
                                 int(df.loc[idx[0], "source_row"]), name,
                                tr("%(n)s rows of the national category %(name)r have no ICCS "
                                   "mapping in the crosswalk profile and were not loaded; ask the "
                                   "secretariat to map it.", n=len(idx), name=name), rows=len(idx)))
    if out_of_scope:
        total = sum(len(i) for _, i, _ in out_of_scope)
        by_reason: dict[str, list[str]] = {}
        for name, idx, why in out_of_scope:
            by_reason.setdefault(why, []).append(f"{name} ({len(idx)})")
        listed = "; ".join(f"{why}: {', '.join(names)}" for why, names in by_reason.items())
        findings.append(finding("info", "category_out_of_scope", cols[-1], None, None,
                                tr("%(n)s rows in %(k)s categories are outside IDEAL's crime "
                                   "types and were not loaded. %(listed)s.", n=total,
                                   k=len(out_of_scope), listed=listed), rows=total))
    return iccs


def _rates(df: pd.DataFrame, spec: dict, counts: pd.Series, country: str, findings: list) -> None:
    stated = to_numbers(df[spec["column"]], ".")
    per = spec.get("per", 100_000)
    year = pd.to_numeric(df["_period"].str.slice(0, 4), errors="coerce")
    factor = pd.Series(1.0, index=df.index)
    if spec.get("annualised_monthly"):
        month = pd.to_numeric(df["_period"].str.slice(5, 7), errors="coerce")
        days = [calendar.monthrange(int(y), int(m))[1] if pd.notna(m) and pd.notna(y) else np.nan
                for y, m in zip(year, month, strict=False)]
        factor = 365.25 / pd.Series(days, index=df.index)
    ok = stated.notna() & counts.notna() & (stated > 0) & (counts > 0)
    # 1. the implied population must be the same for every category of a region-year
    #    (only meaningful where the file has several categories)
    implied = (counts / stated * per * factor).where(ok)
    med = implied.groupby([df["_region"], df["_period"].str.slice(0, 4)]).transform("median")
    off = ((implied / med - 1).abs() > 0.005) & ok & bool(spec.get("several_categories"))
    if off.any():
        cats = df.loc[off, spec.get("category_column", spec["column"])].value_counts()
        ex = df.loc[off].iloc[0]
        findings.append(finding(
            "warning", "rate_denominator_consistent", spec["column"], ex["source_row"],
            df.loc[off, spec["column"]].iloc[0],
            tr("%(n)s stated rates imply a different population than the other rates of the same "
               "region and year (mostly: %(which)s); their denominator differs, so those rates are "
               "not comparable and IDEAL recomputes rates from counts.", n=int(off.sum()),
               which=", ".join(f"{k} ({v})" for k, v in cats.head(3).items())), rows=int(off.sum())))
    # 2. against IDEAL's population, where that population is official (not synthetic)
    pop = reference.population()
    pop = pop[(pop["country"] == country) & (pop["synthetic"] == 0)]
    if pop.empty:
        return
    national = pop.groupby("year", as_index=False)["population"].sum().assign(region=country)
    pop = pd.concat([pop[["region", "year", "population"]], national], ignore_index=True)
    key = pd.MultiIndex.from_arrays([df["_region"], year])
    ours = pop.set_index(["region", "year"])["population"].reindex(key).to_numpy()
    expected = counts / ours * per * factor.to_numpy()
    rel = (stated / expected - 1).where(ok & pd.Series(ours > 0, index=df.index))
    bad = rel.abs() > RATE_TOLERANCE
    if bad.any():
        by_year = rel[bad].groupby(year[bad]).agg(["size", "median"])
        worst = "; ".join(tr("%(year)s: %(n)s rows, median %(median)s", year=int(y), n=int(r["size"]),
                             median=f"{r['median']:+.1%}") for y, r in by_year.tail(EXAMPLES).iterrows())
        ex = df.loc[bad].iloc[0]
        findings.append(finding(
            "warning", "rate_matches_count_population", spec["column"], ex["source_row"],
            ex[spec["column"]],
            tr("%(n)s stated rates differ by more than %(tolerance)s from count / population "
               "(IDEAL's reference population): %(worst)s. The population behind the file is "
               "probably outdated; IDEAL uses its own rates.", n=int(bad.sum()),
               tolerance=f"{RATE_TOLERANCE:.0%}", worst=worst), rows=int(bad.sum())))


def apply_profile(table: pd.DataFrame, profile: Profile, filename: str, sep: str,
                  options: ReadOptions, notes: Assumptions) -> tuple[pd.DataFrame, list[tuple]]:
    """Map a national export to canonical rows; returns (frame, findings)."""
    prof, country = profile.as_dict(), profile.country
    absent = [v.column for v in profile.values if v.empty == "skip" and v.column not in table]
    if absent:  # e.g. the victims column when only the occurrences sheet is read
        table = table.assign(**dict.fromkeys(absent, ""))
        notes.add(tr("no column %(columns)s in this file: no figures of it", columns=", ".join(absent)))
    shapes.check_columns(table, profile, filename)
    notes.add(tr("format: national export, crosswalk profile %(name)s", name=profile.name))
    findings: list[tuple] = []
    rows = table["_row"].astype(int) if "_row" in table else range(2, len(table) + 2)
    df = table.assign(source_row=rows)
    df, values = shapes.figures(df, profile, notes)
    period, months = shapes.period_of_rows(df, profile, filename, notes, findings)
    df = df.assign(_period=period, _month=months)
    df = df[df["_period"].notna()]
    df = shapes.totals(df, profile, findings)
    df = df.assign(_region=_regions(df, profile, findings))
    df = df[df["_region"].notna()]
    if df.empty:  # no row has a known region: say which values, once each
        said = [f[5] for f in findings if f[0] == "error"][:5] or [f[5] for f in findings][:5]
        raise SubmissionError(tr("%(file)s: no row has a region of %(country)s that the profile %(name)s "
                                 "maps. %(said)s", file=filename, country=country, name=profile.name,
                                 said=" ".join(said)))
    _duplicates(df, prof, findings)
    value_cols = [v["column"] for v in values]
    if prof["category"].get("hierarchy"):
        df = _hierarchy(df, prof["category"]["hierarchy"], value_cols, findings)
    mappings: list[dict] = []
    df = df.assign(_iccs=_categories(df, prof["category"], findings, mappings, country))
    for spec in prof.get("rates", []):
        decimal = decimal_mark(df[spec["count"]], spec["count"], sep, filename, options, notes)
        cat_cols = prof["category"].get("columns") or [spec["column"]]
        _rates(df, spec | {"category_column": cat_cols[-1],
                           "several_categories": "fixed" not in prof["category"]},
               to_numbers(df[spec["count"]], decimal), country, findings)
    for note in prof.get("notes", []):
        notes.add(note)
    df = df[df["_iccs"].notna()]
    per_sheet = df["_indicator"].replace("", None) if "_indicator" in df else None
    parts = []
    for spec in values:
        decimal = decimal_mark(df[spec["column"]], spec["column"], sep, filename, options, notes)
        number = to_numbers(df[spec["column"]], decimal) * spec.get("factor", 1)
        empty = number.isna() & df[spec["column"]].str.strip().eq("")
        if empty.any() and spec.get("empty") == "skip":
            notes.add(tr("%(n)s empty '%(column)s' cells not loaded (%(why)s)", n=int(empty.sum()),
                         column=spec.get("label", spec["column"]),
                         why=spec.get("empty_reason") or tr("no figure in the source")))
        keep = ~empty if spec.get("empty") == "skip" else pd.Series(True, index=df.index)
        parts.append(pd.DataFrame({
            "country": country, "region": df["_region"], "period": df["_period"],
            "crime_type": df["_iccs"],
            "indicator": spec["indicator"] if per_sheet is None else per_sheet.fillna(spec["indicator"]),
            "number": number, "raw": df[spec["column"]], "source_row": df["source_row"],
            "month": df["_month"],
        })[keep.to_numpy()])
    long = pd.concat(parts, ignore_index=True)
    if long.empty:
        raise SubmissionError(tr("%(file)s: no row maps to an IDEAL crime type with profile "
                                 "%(name)s; see the feedback for the categories found.",
                                 file=filename, name=profile.name))
    keys = ["country", "region", "period", "crime_type", "indicator"]
    bad_numbers = long[long["number"].isna()]
    agg = (long.groupby(keys, as_index=False, sort=False)
           .agg(number=("number", "sum"), source_row=("source_row", "min"), n=("number", "size")))
    if profile.count is not None:
        agg = shapes.zeros(agg, keys, notes)
    findings += shapes.date_coverage(agg, long, profile)
    # a group with an unparseable cell keeps that cell's text so the validator names it
    agg["value"] = agg["number"].map(lambda x: f"{x:.10g}")
    if not bad_numbers.empty:
        first_bad = bad_numbers.groupby(keys, sort=False)["raw"].first()
        agg = agg.set_index(keys)
        agg.loc[first_bad.index, "value"] = first_bad
        agg = agg.reset_index()
    if profile.count is not None:
        notes.add(tr("%(rows)s rows counted into %(figures)s figures", rows=int(agg["n"].sum()),
                     figures=int((agg["n"] > 0).sum())))
    elif (agg["n"] > 1).any():
        notes.add(tr("%(n)s canonical rows are sums of several source rows (sub-categories or "
                     "sub-regions of the same ICCS code and region)", n=int((agg["n"] > 1).sum())))
    for code, part in profile.category.partial.items():  # a class counted in part, said with the rows
        hit = agg["crime_type"].eq(code)
        if hit.any():
            findings.append(finding("info", "category_partial", None, None, f"{code}|{part}"[:500], tr(
                "ICCS %(code)s is covered only in part by this export (%(part)s): its %(n)s figures are "
                "kept apart from the ranking of the whole class, and the briefing says so.", code=code,
                part=part, n=int(hit.sum())), rows=int(hit.sum())))
    frame = finish(agg.assign(obs_status=_status(agg["period"], profile.status, notes), action="I"), ".")
    frame = frame.assign(coverage=agg["coverage"].to_numpy())
    frame.attrs["mappings"] = mappings
    return frame, findings


STATUS_WORDS = {"P": "provisional (P)", "E": "estimated (E)", "A": "normal (A)"}


def _status(periods: pd.Series, status, notes) -> pd.Series | str:
    """The observation status the profile gives the file's figures (one letter, or per year),
    stated in the feedback; A (normal) otherwise."""
    if not status:
        return "A"
    if isinstance(status, str):
        if status != "A":
            notes.add(tr("every figure is marked %(status)s, as the profile says", status=tr(STATUS_WORDS[status])))
        return status
    years = periods.astype(str).str.slice(0, 4)
    out = years.map(status).fillna("A")
    for year, letter in sorted(status.items()):
        if letter != "A" and (years == year).any():
            notes.add(tr("the figures of %(year)s are marked %(status)s, as the profile says",
                         year=year, status=tr(STATUS_WORDS[letter])))
    return out.to_numpy()
