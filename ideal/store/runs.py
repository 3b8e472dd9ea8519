"""Assessment runs: the observations an assessment reads, and the immutable runs with their
scores."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import pandas as pd
from sqlalchemy import Engine, bindparam, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from ideal.config import sql
from ideal.errors import AssessmentError, NotFound
from ideal.store.db import to_frame
from ideal.store.models import AssessmentRun, Submission, ThreatScore, ValidationResult

TEXT_COLUMNS = ["country", "region", "period", "crime_type", "indicator", "obs_status", "coverage",
                "submission_id"]
LISTED = ("id", "created_at", "period", "countries", "profile_name", "params", "n_observations",
          "n_scores", "note", "seed", "code_version")


def country_years(engine: Engine) -> pd.DataFrame:
    """Per country, year and period: current crime observations and their stated coverage
    (sql/country_years.sql; what ideal.scoring.window reads)."""
    with engine.connect() as conn:
        rows = conn.execute(text(sql("country_years"))).all()
    return pd.DataFrame(rows, columns=["country", "year", "period", "coverage", "n"])


def rejected_submissions(engine: Engine) -> dict[str, list[str]]:
    """Per country, the ids of its rejected submissions, latest first."""
    q = (select(Submission.country, Submission.id).where(Submission.status == "rejected")
         .order_by(Submission.received_at.desc()))
    out: dict[str, list[str]] = {}
    with engine.connect() as conn:
        for country, sid in conn.execute(q):
            out.setdefault(country, []).append(sid)
    return out


def current_observations(engine: Engine, first_year: int, last_year: int,
                         country: str | None = None,
                         crime_types: list[str] | None = None) -> pd.DataFrame:
    """The current observations of the years (of one ``country``, or all; of some
    ``crime_types``, or all), as the assessment reads them: by first-level region, municipal
    rows added up to theirs (sql/current_observations_rolled_up.sql). On PostgreSQL through COPY ... TO
    STDOUT and pandas' CSV reader: at the L scale's municipal slice that is several times faster
    than fetching rows through the driver, and uses a fraction of the memory."""
    if country is not None and not re.fullmatch(r"[A-Z]{2}", country):
        raise ValueError(f"not a country code: {country!r}")
    if crime_types is not None and not all(re.fullmatch(r"[A-Za-z0-9_]{1,8}", c) for c in crime_types):
        raise ValueError(f"not ICCS codes: {crime_types!r}")
    codes = list(crime_types or ["-"])
    with engine.connect() as conn:
        # municipalities are added up to their first-level region, in the database (a country's
        # municipal rows are many times its regional picture); a country without any reads its
        # rows as they are
        municipal = conn.execute(text(sql("has_municipalities")),
                                 {"prefix": f"{country}-%" if country else "%"}).first() is not None
        query = sql("current_observations_rolled_up" if municipal else "current_observations").replace(
            "{current_facts}", sql("current_facts").strip())
        if conn.dialect.name == "postgresql":
            # COPY takes no parameters: the values are inlined, each checked above as an
            # integer, a two-letter code or an ICCS code (a literal lets PostgreSQL prune the
            # partitions)
            bound = (query.replace(":first_year", str(int(first_year)))
                     .replace(":last_year", str(int(last_year)))
                     .replace(":country", "NULL" if country is None else f"'{country}'")
                     .replace(":all_crime_types", "1" if crime_types is None else "0")
                     .replace(":crime_types", "(" + ", ".join(f"'{c}'" for c in codes) + ")"))
            buf = io.BytesIO()
            with conn.connection.driver_connection.cursor() as cur:
                with cur.copy(f"COPY ({bound.strip().rstrip(';')}) TO STDOUT "
                              "WITH (FORMAT csv, HEADER true)") as copy:
                    for chunk in copy:
                        buf.write(chunk)
            buf.seek(0)
            out = pd.read_csv(buf, dtype={c: str for c in TEXT_COLUMNS} | {"value": "float64"},
                              keep_default_na=False, na_values={"value": [""]})
        else:
            result = conn.execute(text(query).bindparams(bindparam("crime_types", expanding=True)),
                                  {"first_year": int(first_year), "last_year": int(last_year),
                                   "country": country, "crime_types": codes,
                                   "all_crime_types": 1 if crime_types is None else 0})
            out = to_frame(result)
    if out.empty:
        return out
    # in one order whatever the database's plan (it differed between PostgreSQL and SQLite, and
    # with a table's history): what reads the rows, the data simulations included, sees the same
    # rows in the same order for the same data
    out = out.sort_values(["country", "region", "period", "crime_type", "indicator"], ignore_index=True)
    # a complete year has no coverage: "" on both backends (COPY writes NULL as "")
    return out.astype({"warned": "bool"}).assign(coverage=out["coverage"].fillna("").astype(str))


def find(engine: Engine, run_id: str) -> dict | None:
    """The stored run (without its scores), or None."""
    with engine.connect() as conn:
        row = conn.execute(select(AssessmentRun.__table__).where(AssessmentRun.id == run_id)
                           ).mappings().first()
    return dict(row) if row else None


def add_note(engine: Engine, run_id: str, note: str) -> None:
    """Keep a note given on a repeated assessment (the run itself is unchanged)."""
    with engine.begin() as conn:
        old = conn.execute(select(AssessmentRun.note).where(AssessmentRun.id == run_id)).scalar()
        if note and note not in (old or ""):
            conn.execute(update(AssessmentRun.__table__).where(AssessmentRun.id == run_id)
                         .values(note=f"{old}; {note}" if old else note))


def save(engine: Engine, run: dict, scores: list[dict], markets: pd.DataFrame | None = None) -> bool:
    """Store a run, its scores and its market severities in one transaction. False when the
    same run (same id: same data, scope and method) was stored meanwhile by an assessment
    running at the same time; nothing is written then."""
    from ideal.store.contributions import save_severities

    try:
        with engine.begin() as conn:
            conn.execute(insert(AssessmentRun.__table__).values(
                created_at=datetime.now(UTC), **run))
            conn.execute(insert(ThreatScore.__table__), scores)
            if markets is not None:
                save_severities(conn, run["id"], markets)
    except IntegrityError:
        if find(engine, run["id"]) is None:
            raise
        return False
    return True


def partial_classes(engine: Engine, submissions: list[str]) -> dict[tuple[str, str], str]:
    """(country, ICCS code) -> the part of the class covered, for the classes these submissions
    said they cover only in part (their reading's finding category_partial)."""
    if not submissions:
        return {}
    with engine.connect() as conn:
        rows = conn.execute(select(Submission.country, ValidationResult.value)
                            .join(Submission, Submission.id == ValidationResult.submission_id)
                            .where(ValidationResult.rule == "category_partial",
                                   ValidationResult.submission_id.in_(submissions))).all()
    return {(cc, str(v).split("|", 1)[0]): str(v).split("|", 1)[1] if "|" in str(v) else ""
            for cc, v in rows}


def load(engine: Engine, run_id: str | None = None) -> tuple[dict, pd.DataFrame]:
    """A stored run (the newest if ``run_id`` is None) and its scores."""
    with engine.connect() as conn:
        query = select(AssessmentRun.__table__)
        query = (query.where(AssessmentRun.id == run_id) if run_id
                 else query.order_by(AssessmentRun.created_at.desc()).limit(1))
        run = conn.execute(query).mappings().first()
        if run is None:
            if run_id:
                raise NotFound(f"assessment run {run_id} not found.")
            raise AssessmentError("no assessment run yet; run `ideal assess` first.")
        result = conn.execute(select(ThreatScore.__table__).where(ThreatScore.run_id == run["id"]))
        scores = to_frame(result)
    return dict(run), scores


def previous(engine: Engine, run: dict) -> tuple[dict, pd.DataFrame] | None:
    """The run before ``run`` of the same scope (#50): the newest stored earlier, with the same
    profile name and crime types, for the same or an earlier reference year; with its hotspots
    (country, region, crime type, indicator, P(exceed)). None when there is none."""
    crimes = sorted((run.get("params") or {}).get("crime_types") or [])
    q = (select(AssessmentRun.__table__)
         .where(AssessmentRun.profile_name == run["profile_name"], AssessmentRun.id != run["id"],
                AssessmentRun.created_at < run["created_at"], AssessmentRun.period <= run["period"])
         .order_by(AssessmentRun.created_at.desc()))
    with engine.connect() as conn:
        for row in conn.execute(q).mappings():
            if sorted((row["params"] or {}).get("crime_types") or []) != crimes:
                continue
            hot = to_frame(conn.execute(
                select(ThreatScore.country, ThreatScore.region, ThreatScore.crime_type, ThreatScore.indicator,
                       ThreatScore.p_exceed)
                .where(ThreatScore.run_id == row["id"], ThreatScore.hotspot.is_(True))))
            return dict(row), hot
    return None


def recent(engine: Engine, limit: int = 50) -> list[dict]:
    """Stored runs, newest first (the CLI's `ideal runs`, the portal's runs page, the API)."""
    q = (select(*[getattr(AssessmentRun, c) for c in LISTED])
         .order_by(AssessmentRun.created_at.desc()).limit(limit))
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]


def scored_countries(engine: Engine, run_id: str) -> list[str]:
    with engine.connect() as conn:
        return sorted(r[0] for r in conn.execute(
            select(ThreatScore.country).where(ThreatScore.run_id == run_id).distinct()))


def national_totals(engine: Engine, first_year: int, last_year: int, crime_types: list[str],
                    indicators: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """Per country, crime type, indicator and year of ``crime_types`` x ``indicators``: the
    sum of the current values (one level of regions is stored per country, so the sum is the
    national figure), the year's own row or, without one, its 12 months or 4 quarters; and the
    submissions behind them (the data track of the markets, scoring.markets)."""
    from ideal.store.models import Observation

    o = Observation.__table__
    periods = [str(y) for y in range(int(first_year), int(last_year) + 1)]
    year = func.substr(o.c.period, 1, 4)
    q = (select(o.c.country, o.c.crime_type, o.c.indicator, o.c.period, func.sum(o.c.value), func.count())
         .where(o.c.superseded_by.is_(None), year.in_(periods), o.c.crime_type.in_(list(crime_types)),
                o.c.indicator.in_(list(indicators)), o.c.value.is_not(None))
         .group_by(o.c.country, o.c.crime_type, o.c.indicator, o.c.period))
    s = select(o.c.submission_id).distinct().where(
        o.c.superseded_by.is_(None), year.in_(periods), o.c.crime_type.in_(list(crime_types)),
        o.c.indicator.in_(list(indicators)))
    with engine.connect() as conn:
        rows = to_frame(conn.execute(q), ["country", "crime_type", "indicator", "period", "value", "n"])
        used = sorted(r[0] for r in conn.execute(s))
    cols = ["country", "crime_type", "indicator", "year", "value"]
    if rows.empty:
        return pd.DataFrame(columns=cols), used
    rows = rows.assign(year=rows["period"].str.slice(0, 4).astype(int), value=rows["value"].astype(float),
                       part=rows["period"].str.slice(5, 6))
    key = ["country", "crime_type", "indicator", "year"]
    annual = rows[rows["part"] == ""].groupby(key, as_index=False)["value"].sum()
    months = rows[rows["part"].str.fullmatch(r"[01]")]
    months = months.groupby(key).agg(value=("value", "sum"), k=("period", "nunique")).reset_index()
    quarters = rows[rows["part"] == "Q"].groupby(key).agg(value=("value", "sum"), k=("period", "nunique")).reset_index()
    whole = pd.concat([annual.assign(pref=0), months[months["k"] == 12].assign(pref=1),
                       quarters[quarters["k"] == 4].assign(pref=2)], ignore_index=True)
    whole = whole.sort_values([*key, "pref"]).drop_duplicates(key)
    return whole[cols].reset_index(drop=True), used
