"""An assessment period from a request to the PDF: read the current observations, score
them, store the run immutably, render and record its briefings."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine

from ideal import __version__, reference
from ideal.config import get_settings
from ideal.contracts import AssessmentRequest
from ideal.errors import AssessmentError
from ideal.i18n import N_
from ideal.report import render
from ideal.scoring import compare, markets, run, window
from ideal.scoring.early_warning import detect, detect_regression, gathered, monthly_up_to
from ideal.scoring.profile import load_profile, profile_hash
from ideal.scoring.score import UNIT, rates_for, score_rates, top_threats
from ideal.store import audit, contributions, queries, reports, runs


@dataclass
class RunResult:
    run_id: str
    period: str
    reused: bool
    n_observations: int
    n_scores: int
    unscored: pd.DataFrame
    countries: list[dict] = field(default_factory=list)
    # other years that would assess members this run does not (window.best_year)
    other_years: list[dict] = field(default_factory=list)

    def not_assessed(self) -> list[dict]:
        """The members in scope that no unit of was scored, each with its reason."""
        return [c for c in self.countries if c.get("status") != window.ASSESSED]


@dataclass
class Plan:
    """An assessment request checked and resolved: the year, the countries, the crime types
    and the methodology profile."""

    period: str
    countries: list[str]
    crime_types: list[str]
    profile: dict
    note: str | None = None
    # per member in scope: assessed on which year, or why not (ideal.scoring.window.statuses)
    window: list[dict] = field(default_factory=list)
    # other years that would assess members this one does not (window.best_year)
    other_years: list[dict] = field(default_factory=list)
    # per member: its current crime observations of the years read (how many crime types
    # ``prepare`` reads at a time)
    rows: dict = field(default_factory=dict)

    def params(self) -> dict:
        return {"period": self.period, "countries": self.countries,
                "crime_types": self.crime_types, "profile": self.profile["name"]}


@dataclass
class CountryPart:
    """What one country brings to an assessment, computed from its observations alone: its
    yearly rates, its monthly series (early warning), its population (its own submitted
    figures first), the submissions used and how many observations were read."""

    country: str
    rates: pd.DataFrame
    monthly: pd.DataFrame
    population: pd.DataFrame
    own: pd.DataFrame  # the population figures it submitted itself
    submissions: list[str]
    n_observations: int
    has_year: bool

    FRAMES = ("rates", "monthly", "population", "own")

    def save(self, folder: Path) -> Path:
        """Written as Parquet files under ``folder/<country>/`` (between Airflow tasks)."""
        out = folder / self.country
        out.mkdir(parents=True, exist_ok=True)
        for name in self.FRAMES:
            getattr(self, name).to_parquet(out / f"{name}.parquet")
        (out / "part.json").write_text(json.dumps({
            "country": self.country, "submissions": self.submissions,
            "n_observations": self.n_observations, "has_year": self.has_year}))
        return out

    @classmethod
    def load(cls, folder: Path) -> CountryPart:
        meta = json.loads((folder / "part.json").read_text())
        return cls(**meta, **{n: pd.read_parquet(folder / f"{n}.parquet") for n in cls.FRAMES})


def plan(engine: Engine, request: AssessmentRequest | None = None) -> Plan:
    """The request checked (members, ICCS codes, a year) and resolved: the reference year (when
    none is given, the latest year in which any member in scope has complete data), every member
    and every scored crime type when none are, and per member the year it is assessed on (its
    latest usable year within the profile's window) or why it cannot be."""
    request = request or AssessmentRequest()
    settings = get_settings()
    scope = sorted(request.countries or settings.members)
    types = sorted(request.crime_types or reference.scored_crime_types())
    run.check_scope(request.period, scope, types, settings.members)
    prof = load_profile(request.profile)
    counts = runs.country_years(engine)
    known = window.months_known(counts)
    mine = known[known["country"].isin(scope)]
    if mine.empty:
        if known.empty and not request.countries:
            raise AssessmentError(msgid=N_("there are no accepted observations yet: a member's data must be "
                                           "submitted and accepted first (`ideal submit FILE --country CC`, "
                                           "the portal's upload or `ideal ingest`)."))
        reasons = window.statuses(known, scope, int(request.period or known["year"].max()), 0, None,
                                  runs.rejected_submissions(engine))
        raise AssessmentError("there are no accepted observations for "
                              + "; ".join(f"{r['country']} ({r['reason']})" for r in reasons)
                              + "; submit data first (`ideal submit FILE --country CC` or `ideal ingest`).")
    # a year after every member's data is refused; one after some members' data is not: they
    # carry their latest year forward within the window, or are listed with the reason
    latest = int(known["year"].max())
    carry = prof["missing"]["carry_forward_years"]
    best, other_years = window.best_year(known, scope, carry, window.need_months(prof),
                                         int(request.period) if request.period else None)
    year = request.period or f"{best:04d}"
    if int(year) > latest:
        raise AssessmentError(msgid=N_("no accepted observations for %(year)s: the latest year with data is "
                                       "%(latest)s; assess %(latest)s or an earlier year."),
                              values={"year": year, "latest": latest})
    statuses = window.statuses(known, scope, int(year), carry, window.need_months(prof),
                               runs.rejected_submissions(engine))
    first = run.first_year(year, prof)
    inside = counts[counts["country"].isin(scope) & counts["year"].astype(int).between(first, int(year))]
    rows = {cc: int(n) for cc, n in inside.groupby("country")["n"].sum().items()}
    return Plan(year, scope, types, prof, request.note, statuses, other_years, rows)



# a large country's observations are read a few crime types at a time: the rates of one crime
# type depend on its own rows alone, and the largest country's decade of municipal data (9 M
# rows) then stays well within a worker's memory; a country of fewer rows is read at once
# (each read and its rates have a fixed cost: 85 reads of the demo's 18 members took 13 s)
CRIME_TYPES_PER_READ = 3
ROWS_READ_AT_ONCE = 250_000


class RatesCache:
    """The yearly rates of a chunk of observations, kept for the next assessment in the same
    process: they depend only on those rows, the population, the profile and the year, so a
    second run whose members' data did not change (the portal's repeated runs, the demo's run
    after the late files) reads them again but does not recompute them. Keyed by a hash of
    the rows; at most ``rows`` rows of rates are kept, the oldest dropped first."""

    def __init__(self, rows: int = 500_000):
        self.rows, self._kept = rows, {}

    @staticmethod
    def key(obs: pd.DataFrame, population: pd.DataFrame, prof: dict, period: str) -> tuple:
        return (int(pd.util.hash_pandas_object(obs, index=False).sum()),
                int(pd.util.hash_pandas_object(population, index=False).sum()), profile_hash(prof), period, len(obs))

    def rates(self, obs: pd.DataFrame, population: pd.DataFrame, prof: dict, period: str) -> pd.DataFrame:
        key = self.key(obs, population, prof, period)
        if key in self._kept:
            self._kept[key] = self._kept.pop(key)   # the most recent last
            return self._kept[key].copy()
        out = rates_for(obs, population, prof, period)
        if len(out) <= self.rows:
            self._kept[key] = out.copy()
            while sum(len(v) for v in self._kept.values()) > self.rows:
                self._kept.pop(next(iter(self._kept)))
        return out


RATES = RatesCache()


def prepare(engine: Engine, p: Plan, country: str,
            population: pd.DataFrame | None = None) -> CountryPart:
    """One country's part of the assessment (its observations only are read, a few crime
    types at a time). ``population``: the reference population (ideal.reference's by
    default)."""
    prof = p.profile
    first, last = run.first_year(p.period, prof), int(p.period)
    own = runs.current_observations(engine, first, last, country=country,
                                    crime_types=[reference.POPULATION_CRIME])
    own = own[own["indicator"] == "population"].reset_index(drop=True) if not own.empty else own
    population = run.with_submitted_population(
        reference.population() if population is None else population, own)
    population = population[population["country"] == country].reset_index(drop=True)
    rates, monthly, used, n_obs, has_year = [], [], set(own["submission_id"]) if not own.empty else set(), 0, False
    in_window = [str(y) for y in range(last - prof["missing"]["carry_forward_years"], last + 1)]
    small = p.rows.get(country, ROWS_READ_AT_ONCE) < ROWS_READ_AT_ONCE
    step = max(1, len(p.crime_types)) if small else CRIME_TYPES_PER_READ
    for i in range(0, len(p.crime_types), step):
        obs = runs.current_observations(engine, first, last, country=country,
                                        crime_types=p.crime_types[i:i + step])
        if obs.empty:
            continue
        n_obs += len(obs)
        used |= set(obs["submission_id"])
        has_year = has_year or bool(obs["period"].str.slice(0, 4).isin(in_window).any())
        rates.append(RATES.rates(obs, population, prof, p.period))
        monthly.append(monthly_up_to(obs, p.period, prof["indicator_preference"]))
        del obs
    if has_year:
        rates_all = pd.concat(rates, ignore_index=True).sort_values(
            [*UNIT, "indicator", "year"], ignore_index=True, kind="stable")
        monthly_all = gathered(monthly)
    else:
        rates_all, monthly_all = pd.DataFrame(), pd.DataFrame()
    return CountryPart(country, rates_all, monthly_all, population,
                       own if not own.empty else pd.DataFrame(), sorted(used), n_obs, has_year)


def combine(engine: Engine, p: Plan, parts: list[CountryPart]) -> RunResult:
    """The run from the countries' parts: its identity, then (unless the same run is stored)
    the goalposts, ranks and Monte Carlo across countries, the early warning, and the run
    stored immutably."""
    parts = sorted(parts, key=lambda part: part.country)
    statuses = p.window or [{"country": cc, "status": "not_assessed", "reason": None} for cc in p.countries]
    observations = {part.country: part.n_observations for part in parts}
    if not any(part.has_year for part in parts):
        raise AssessmentError(window.nothing_scored(p.period, window.account(
            statuses, pd.DataFrame(), pd.DataFrame(), [], observations)))
    prof, year, params = p.profile, p.period, p.params()
    population = pd.concat([part.population for part in parts], ignore_index=True)
    own = pd.concat([part.own for part in parts if not part.own.empty] or [pd.DataFrame()],
                    ignore_index=True)
    used = sorted(set().union(*(part.submissions for part in parts)))
    # the markets' evidence (#49): the member's structured contributions and the indicators
    # linked to the markets are part of the run's identity
    evidence = market_evidence(engine, p)
    used = sorted(set(used) | set(evidence["submissions"]))
    run_id = run.run_id(params, prof, used, run.reference_fingerprint(
        population, reference.iccs(), reference.crosswalks_digest() + reference.harm_digest()
        + f"markets-{reference.market_catalogue_version()}-{markets.METHOD}"), __version__)
    existing = runs.find(engine, run_id)
    if existing:
        if p.note:
            runs.add_note(engine, run_id, p.note)
        info = existing.get("info") or {}
        return RunResult(run_id, year, True, existing["n_observations"], existing["n_scores"],
                         pd.DataFrame(info.get("unscored") or [],
                                      columns=["country", "region", "crime_type", "reason"]),
                         info.get("countries") or [], info.get("other_years") or [])
    rates = pd.concat([part.rates for part in parts if not part.rates.empty], ignore_index=True)
    # classes a member's export covers only in part (its profile's category.partial): kept apart
    # from the ranking of the whole class (#47: robbery of vehicles, cargo and banks alone made
    # every region "very low" beside members that send all robbery)
    partial = runs.partial_classes(engine, used)
    in_part = pd.Series([(c, t) in partial for c, t in zip(rates["country"], rates["crime_type"], strict=True)],
                        index=rates.index, dtype=bool)
    partial_units = _partial_figures(rates[in_part], partial, int(year))
    rates = rates[~in_part].reset_index(drop=True)
    scores, unscored, info = score_rates(rates, prof, year)
    info = {**info, "partial_classes": partial_units}
    monthly = gathered([part.monthly for part in parts])
    ew = prof.get("early_warning") or {}
    if ew.get("method") == "regression":  # v4: regression baseline, false-discovery control
        warnings_, monitoring = detect_regression(monthly, ew)
    else:
        warnings_, monitoring = detect(monthly, ew), None
    accounted = window.account(statuses, scores, unscored, info.get("national", []), observations)
    # the observations of the members assessed (#47: the cover counted those of members left out)
    counted = {c["country"] for c in accounted if c.get("status") in (window.ASSESSED, window.NATIONAL_ONLY)}
    n_obs = sum(n for cc, n in observations.items() if cc in counted)
    info = {**info, "unscored": unscored.to_dict("records"), "countries": accounted,
            "observations_not_assessed": {cc: n for cc, n in observations.items() if cc not in counted and n},
            "other_years": p.other_years,
            "early_warning": warnings_.head(200).to_dict("records"),
            **({"monitoring": monitoring} if monitoring else {}),
            "population_methods": population.groupby("method").size().to_dict()}
    if scores.empty:
        raise AssessmentError(window.nothing_scored(year, accounted))
    severities, regional = markets.severities(
        evidence["contributions"], evidence["totals"], population, p.countries, int(year),
        draws=max(1000, int(prof["uncertainty"].get("draws", 1000))), seed=int(prof["uncertainty"]["seed"]))
    info = {**info, "markets": {"method": markets.METHOD, "catalogue": reference.market_catalogue_version(),
                                "regional": regional.astype(object).where(regional.notna(), None).to_dict("records")}}
    if (prof.get("priorities") or {}).get("basis") == "markets":
        # v5 (#48): the priorities follow from the markets' evidence, not from goalposts
        info = {**info, "priorities": markets.propose(severities, regional, prof["priorities"], scores)}
    rows = run.score_rows(scores, run_id)
    stored = runs.save(engine, dict(
        id=run_id, period=year, countries=p.countries, profile_name=prof["name"],
        profile_sha256=profile_hash(prof), profile=prof, params={**params, "submissions": used},
        n_observations=n_obs, n_scores=len(rows), note=p.note,
        seed=prof["uncertainty"]["seed"], code_version=__version__, info=info), rows, severities)
    if stored and not own.empty:
        audit.log(engine, actor=audit.current_actor("cli"), action="population.submitted_used",
                  outcome="ok", object_id=run_id, country=",".join(sorted(own["country"].unique())),
                  detail="own population figures of " + ", ".join(sorted(own["submission_id"].unique()))
                         + " take precedence over the reference population")
    # not stored: the same run was stored meanwhile by an assessment started at the same time
    return RunResult(run_id, year, not stored, n_obs, len(rows), unscored, accounted, p.other_years)


def market_evidence(engine: Engine, p: Plan) -> dict:
    """What the markets are judged on: the current contributions of the members in scope up
    to the run's year, the national totals of the classes and indicators linked to the
    markets, and the submissions behind both."""
    cat = reference.markets()
    classes = sorted({c for x in cat["iccs"] for c in x} | set(reference.indicators()["iccs"].replace("", None).dropna()))
    nature = reference.indicator_nature()
    indicators = sorted(k for k, v in nature.items() if v in ("prevalence", "enforcement"))
    last = int(p.period)
    totals, used = runs.national_totals(engine, last - markets.CARRY_YEARS, last, classes, indicators)
    totals = totals[totals["country"].isin(p.countries)]
    contrib = contributions.current(engine, p.countries, last)
    return {"contributions": contrib, "totals": totals,
            "submissions": sorted(set(used) | set(contrib["submission_id"] if not contrib.empty else []))}


def _partial_figures(rates: pd.DataFrame, partial: dict[tuple[str, str], str], year: int) -> list[dict]:
    """Per member and class covered in part: the part, and the latest year's count and rate over
    its regions (listed apart, never ranked beside the members that send the whole class)."""
    out = []
    regional = rates[(rates["region"] != rates["country"]) & (rates["year"] <= year)]
    for (cc, crime, ind), group in regional.groupby(["country", "crime_type", "indicator"], sort=True):
        latest = group[group["year"] == group["year"].max()]
        pop = latest["population"].sum()
        out.append({"country": cc, "crime_type": crime, "indicator": ind, "part": partial.get((cc, crime), ""),
                    "data_year": int(latest["year"].max()), "regions": int(len(latest)),
                    "value": float(latest["value"].sum()),
                    "rate": float(latest["value"].sum() / pop * 100_000) if pop and pop == pop else None})
    return out


def assess(engine: Engine, request: AssessmentRequest | None = None) -> RunResult:
    """Score the request's year (the latest with data if none) and store the run; the same
    data, scope and method give back the run already stored. Country by country, then
    combined: the process holds one country's observations at a time (the Airflow DAG runs
    the same steps as one task per country and one that combines them)."""
    p = plan(engine, request)
    return combine(engine, p, [prepare(engine, p, country) for country in p.countries])


def render_report(engine: Engine, run_id: str | None = None, kind: str = "briefing",
                  language: str = "es", out_dir: Path | None = None) -> Path:
    """Render the run's briefing or annex (the newest run by default) and record it."""
    stored, scores = runs.load(engine, run_id)
    stored["market_severities"] = contributions.severities(engine, stored["id"])
    if kind == "annex":
        used = (stored.get("params") or {}).get("submissions", [])
        # the submissions the run used, and its members' rejected ones received before it
        every = queries.submissions_of(engine, countries=list(stored["countries"]))
        created = pd.Timestamp(stored["created_at"])
        created = created.tz_localize("UTC") if created.tzinfo is None else created  # stored times are UTC
        received = pd.to_datetime(every["received_at"], utc=True)
        rejected = every[every["status"].eq("rejected") & ~every["id"].isin(used) & (received <= created)]
        subs = pd.concat([queries.submissions_of(engine, ids=used), rejected], ignore_index=True)
        path, pages = render.render_annex(stored, scores, subs, language, out_dir)
    else:
        subs = queries.submissions_of(engine, countries=list(stored["countries"]))
        # page 1 says what changed since the previous run of the same scope (#50)
        stored["since"] = compare.since(stored, scores, *(runs.previous(engine, stored) or (None, None)))
        path, pages = render.render_briefing(stored, scores, subs, language, out_dir)
    reports.record(engine, stored["id"], kind, language, path, pages)
    # the latest rendered run's copy beside the runs' folders (reports/<period>/briefing-es.pdf);
    # each run keeps its own file, so a second run never takes the first one's away
    latest = path.parent.parent / path.name
    shutil.copyfile(path, latest.with_suffix(".part"))
    os.replace(latest.with_suffix(".part"), latest)
    return path


def report(engine: Engine, run_id: str | None = None,
           languages: list[str] | None = None) -> dict:
    """Render the run's briefings (newest run by default); returns {run_id, paths}."""
    run_id = runs.load(engine, run_id)[0]["id"] if run_id is None else run_id
    paths = [str(render_report(engine, run_id, "briefing", lang))
             for lang in (languages or [get_settings().language])]
    return {"run_id": run_id, "paths": paths}


def assess_and_report(engine: Engine, request: AssessmentRequest,
                      step: Callable[..., None] | None = None) -> dict:
    """A reassessment without Airflow: assess with the request, then render the briefing;
    ``step(message, **values)`` hears the progress (an English message of the catalogue and
    its values: the job page shows it in the reader's language). Returns {run_id, paths}."""
    step = step or (lambda _message, **_values: None)
    step("assessing")
    result = assess(engine, request)
    step("run %(run)s: %(scores)s scores from %(observations)s observations"
         + (" (same data and method: the stored run is reused)" if result.reused else ""),
         run=result.run_id, scores=result.n_scores, observations=result.n_observations)
    step("rendering the briefing")
    rendered = report(engine, result.run_id, list(request.languages) or None)
    step("briefing ready")
    return rendered


def compare_runs(engine: Engine, run_a: str, run_b: str) -> tuple[bool, pd.DataFrame]:
    """(same methodology profile?, score/level/rank changes with their cause)."""
    a, scores_a = runs.load(engine, run_a)
    b, scores_b = runs.load(engine, run_b)
    same = a["profile_sha256"] == b["profile_sha256"]
    return same, compare.compare(scores_a, scores_b, same)


def top_scores(engine: Engine, run_id: str | None = None, limit: int = 15,
               scores: pd.DataFrame | None = None, profile: dict | None = None) -> pd.DataFrame:
    """The run's highest scores, ordered as in the briefing, ties broken by the harm weights of
    the run's profile (``scores``, ``profile``: the run's, when the caller has them already)."""
    if scores is None or profile is None:
        stored, loaded = runs.load(engine, run_id)
        scores = loaded if scores is None else scores
        profile = stored.get("profile") or {}
    harm = reference.harm_weights((profile.get("harm") or {}).get("weights", "iccs"))
    return top_threats(scores, harm, limit)
