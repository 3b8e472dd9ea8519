"""An assessment period end to end (ideal.pipeline.assessment): stored run, reuse, briefing;
on SQLite and on PostgreSQL."""


import pytest
from pypdf import PdfReader

from ideal.contracts import AssessmentRequest
from ideal.errors import AssessmentError
from ideal.ingest.demo import country_frame
from ideal.pipeline.assessment import assess, render_report
from ideal.pipeline.submission import submit_bytes
from ideal.store.models import Report
from ideal.store.runs import load as load_run
from tests.pipeline import TODAY, count, csv


def test_assess_and_report(engine, mx, ideal_env):
    with pytest.raises(AssessmentError, match="no accepted observations"):
        assess(engine)
    submit_bytes(csv(mx), "mx.csv", "MX", engine, today=TODAY)
    submit_bytes(csv(country_frame("CO")), "co.csv", "CO", engine, today=TODAY)
    run = assess(engine, AssessmentRequest(note="test"))
    assert run.period == "2025" and not run.reused and run.n_scores > 0
    stored, scores = load_run(engine, run.run_id)
    assert set(scores["country"]) == {"CO", "MX"}
    scored = scores[scores["status"] == "scored"]
    assert scored["score"].between(0, 10).all() and scored["reliability"].between(0, 10).all()
    assert (scored["rank_p5"] <= scored["rank_p95"]).all() and scored["rank"].min() == 1
    assert stored["profile"]["name"] == "default" and len(stored["profile_sha256"]) == 64
    assert stored["seed"] == stored["profile"]["uncertainty"]["seed"] and stored["code_version"]
    # v4: the method's sensitivity one choice at a time, the data's shift beside it
    assert set(stored["info"]["sensitivity"]) == {"weights", "normalisation", "aggregation", "imputation",
                                                  "harm_weights", "harm_floor", "data"}
    assert stored["info"]["monte_carlo"]["draws"] == 200 and stored["info"]["monte_carlo"]["model"]
    assert scored["p_first"].sum() == pytest.approx(1.0, abs=0.05) and (scored["p_top15"] >= scored["p_top10"]).all()
    assert assess(engine, AssessmentRequest(note="again")).run_id == run.run_id  # same data and parameters
    assert load_run(engine, run.run_id)[0]["note"] == "test; again"  # the repeated run's note is kept
    assert assess(engine, AssessmentRequest(countries=("MX",))).run_id != run.run_id
    with pytest.raises(AssessmentError, match="not members"):
        assess(engine, AssessmentRequest(countries=("US",)))

    pdf = render_report(engine, run.run_id, "briefing", "es")
    assert pdf == ideal_env.reports_dir / "2025" / run.run_id / "briefing-es.pdf"
    latest = ideal_env.reports_dir / "2025" / "briefing-es.pdf"  # the latest run's copy
    assert latest.read_bytes() == pdf.read_bytes()
    reader = PdfReader(pdf)
    body = "\n".join(page.extract_text() for page in reader.pages)
    # #50: at most four pages before the annex (#32 held the whole briefing to eight pages
    # before the annex moved into it)
    annex_at = next(i for i, page in enumerate(reader.pages) if "Anexo: detalles para analistas" in page.extract_text())
    assert 1 <= annex_at <= 4 and len(reader.pages) <= 10
    for name in ("México", "Colombia", "Principales amenazas", "Página 1 de"):
        assert name in body
    # no member sent contributions or market data: page 1 says no market can be proposed, and why
    # (v5, #48), rather than leaving the priorities out in silence
    assert "No se puede proponer ningún mercado criminal" in reader.pages[0].extract_text()
    assert count(engine, Report) == 1
    render_report(engine, run.run_id, "briefing", "es")
    assert count(engine, Report) == 1


def test_reference_data_and_submitted_populations_make_new_runs_and_runs_keep_their_pdfs(
        engine, mx, ideal_env, monkeypatch, light_profile):
    """Changing the population or a harm weight is a new run (not 'already assessed'); a
    country's own population takes precedence and is recorded; two runs of one period keep
    their own briefings."""
    import pandas as pd

    from ideal import reference
    from ideal.store.audit import events

    submit_bytes(csv(mx), "mx.csv", "MX", engine, today=TODAY)
    first = assess(engine, AssessmentRequest(countries=("MX",), profile=light_profile))
    pdf_first = render_report(engine, first.run_id, "briefing", "es")

    pop = reference.population()
    bigger = pop.assign(population=pop["population"] * 2)
    monkeypatch.setattr(reference, "population", lambda: bigger)
    second = assess(engine, AssessmentRequest(countries=("MX",), profile=light_profile))
    assert second.run_id != first.run_id and not second.reused
    monkeypatch.setattr(reference, "population", lambda: pop)

    iccs = reference.iccs()
    heavier = iccs.assign(harm_weight=iccs["harm_weight"].where(iccs["code"] != "0101", 9))
    monkeypatch.setattr(reference, "iccs", lambda: heavier)
    third = assess(engine, AssessmentRequest(countries=("MX",), profile=light_profile))
    assert third.run_id not in (first.run_id, second.run_id)
    monkeypatch.undo()

    pdf_second = render_report(engine, second.run_id, "briefing", "es")
    assert pdf_first.exists() and pdf_second.exists() and pdf_first != pdf_second

    own = pd.DataFrame({"country": "MX", "region": ["MX-JAL", "MX-COL"], "period": "2025",
                        "crime_type": "_T", "indicator": "population", "value": [9_000_000, 800_000],
                        "obs_status": "A"})
    assert submit_bytes(csv(own), "pop.csv", "MX", engine, today=TODAY).status == "accepted"
    fourth = assess(engine, AssessmentRequest(countries=("MX",), profile=light_profile))
    stored, scores = load_run(engine, fourth.run_id)
    jal = scores[(scores["region"] == "MX-JAL") & (scores["data_year"] == 2025)]
    assert (jal["population"] == 9_000_000).all() and (jal["population_method"] == "submitted").all()
    assert stored["info"]["population_methods"]["submitted"] == 2
    assert "population.submitted_used" in set(events(engine, object_id=fourth.run_id)["action"])


def test_a_monthly_surge_is_an_emerging_threat_and_each_leader_says_why(engine, ideal_env):
    """Monthly homicides of four Mexican states, 2023-2025; Jalisco's triple from June 2025: the
    run's early warning names Jalisco from 2025-06 (none of the flat states), the briefing lists
    it under emerging threats, and each leading threat's 'why' is its stored pillar points."""
    import numpy as np

    from ideal import reference
    from ideal.report.context import build
    from ideal.store.queries import submissions_of

    rng = np.random.default_rng(3)
    rows = ["country,region,period,crime_type,indicator,value"]
    for region, mean in (("MX-JAL", 60), ("MX-CMX", 80), ("MX-NLE", 40), ("MX-YUC", 5)):
        for year in (2023, 2024, 2025):
            for month in range(1, 13):
                surge = 3 if region == "MX-JAL" and year == 2025 and month >= 6 else 1
                rows.append(f"MX,{region},{year}-{month:02d},0101,incidents,{rng.poisson(mean * surge)}")
    assert submit_bytes("\n".join(rows).encode(), "mx-monthly.csv", "MX", engine, today=TODAY).ok
    result = assess(engine, AssessmentRequest(period="2025", countries=("MX",)))
    stored, scores = load_run(engine, result.run_id)
    alarms = stored["info"]["early_warning"]
    # v4 dates a rise from the first month above its baseline within the alarm's window
    assert [a["region"] for a in alarms] == ["MX-JAL"] and "2025-03" <= alarms[0]["started"] <= "2025-06"
    assert alarms[0]["ratio"] > 2
    ctx = build(stored, scores, submissions_of(engine, countries=["MX"]), "en")
    assert [e["region"] for e in ctx["emerging"]] == ["Jalisco"]
    assert ctx["emerging"][0]["started"] == alarms[0]["started"]
    # the executive summary: at most six sentences, its numbers those of the stored scores
    assert 2 <= len(ctx["findings"]) <= 6
    best = scores.sort_values("score", ascending=False).iloc[0]
    assert reference.region_name(best["region"]) in ctx["findings"][1]
    assert f"{best['score']:.1f} of 10" in ctx["findings"][1]
    # v4: first only when first in at least half of the simulations, else the leading group
    said = "first in" in ctx["findings"][1] and ("The highest threat is" in ctx["findings"][1]) == (best["p_first"] >= 0.5)
    assert said, ctx["findings"][1]
    assert f"{len(scores['region'].unique())} regions of 1 countries" in ctx["findings"][0]
    series = {s["region"]: s for s in stored["info"]["series"]}
    jal = series["MX-JAL"]
    assert jal["years"] == [2022, 2023, 2024, 2025][-len(jal["years"]):] and len(jal["rates"]) == len(jal["years"])
    assert jal["change"] == pytest.approx(float(scores.set_index("region").loc["MX-JAL", "trend_change"]), abs=1e-4)
    code = {reference.region_name(r): r for r in scores["region"]}
    by_region = scores.set_index("region")
    import re

    for row in ctx["top"]:
        # #50: the parts are the points of the score shown (harm's factor inside them), rounded
        # so that they add up to it
        r = by_region.loc[code[row["region"]]]
        shown, parts = re.search(r"score ([0-9.]+) = (.*)$", row["why"]).groups()
        points = dict((name, float(v)) for name, v in re.findall(r"(magnitude|trend|spread) ([0-9.]+)", parts))
        assert sum(points.values()) == pytest.approx(float(shown), abs=1e-9), row["why"]
        data = sum(v for v in (r["contrib_magnitude"], r["contrib_trend"], r["contrib_spread"]) if v == v and v > 0)
        assert points["magnitude"] == pytest.approx(r["contrib_magnitude"] * r["score"] / data, abs=0.1), row["why"]


def test_country_by_country_gives_the_run_of_all_countries_at_once(engine, mx, tmp_path, light_profile):
    """The assessment read and computed one country at a time (each part through files, as
    between the Airflow tasks) scores exactly as reading every country at once did."""
    from ideal import reference
    from ideal.pipeline.assessment import CountryPart, combine, plan, prepare
    from ideal.scoring import run as scoring_run
    from ideal.scoring.early_warning import early_warning
    from ideal.scoring.score import score
    from ideal.store.runs import current_observations

    submit_bytes(csv(mx), "mx.csv", "MX", engine, today=TODAY)
    for cc in ("CO", "PE", "GT"):
        submit_bytes(csv(country_frame(cc)), f"{cc.lower()}.csv", cc, engine, today=TODAY)
    p = plan(engine, AssessmentRequest(countries=("CO", "GT", "MX", "PE"), profile=light_profile))
    parts = [CountryPart.load(prepare(engine, p, cc).save(tmp_path)) for cc in p.countries]
    assert [part.country for part in parts] == ["CO", "GT", "MX", "PE"]
    result = combine(engine, p, parts)
    stored, by_parts = load_run(engine, result.run_id)

    # all at once, from one read of every country
    current = current_observations(engine, scoring_run.first_year(p.period, p.profile), int(p.period))
    obs = scoring_run.in_scope(current, p.countries, p.crime_types)
    own = current[current["indicator"] == "population"]
    population = scoring_run.with_submitted_population(reference.population(), own)
    population = population[population["country"].isin(p.countries)]
    scores, _, _ = score(obs, population, p.profile, p.period)
    assert result.n_observations == len(obs)
    key = ["country", "region", "crime_type"]
    a = scores.sort_values(key).reset_index(drop=True)
    b = by_parts.sort_values(key).reset_index(drop=True)
    assert len(a) == len(b) > 100
    for column in ("score", "rank", "rank_median", "rank_p5", "rank_p95", "magnitude", "trend",
                   "reliability"):
        assert a[column].tolist() == pytest.approx(b[column].tolist(), nan_ok=True), column
    assert a["level"].tolist() == b["level"].tolist()
    warnings = early_warning(obs, p.period, p.profile["indicator_preference"],
                             p.profile.get("early_warning"))
    assert warnings.head(200).to_dict("records") == stored["info"]["early_warning"]


def test_a_year_after_the_latest_with_data_is_refused_before_anything_runs(engine, mx):
    submit_bytes(csv(mx), "mx.csv", "MX", engine, today=TODAY)
    with pytest.raises(AssessmentError, match="latest year with data is 2025"):
        assess(engine, AssessmentRequest(period="2030"))


def test_rates_cache_reuses_unchanged_rows_and_recomputes_changed_ones(monkeypatch):
    """The demo's second run and the portal's repeated runs: the rates of rows that did not
    change are not recomputed; a changed value is."""
    import pandas as pd

    from ideal import reference
    from ideal.pipeline import assessment
    from ideal.scoring.profile import load_profile

    prof = load_profile("default")
    obs = pd.DataFrame({"country": "MX", "region": "MX-JAL", "crime_type": "0101", "indicator": "victims",
                        "period": ["2022", "2023", "2024", "2025"], "value": [1500.0, 1600.0, 1700.0, 1800.0],
                        "obs_status": "A", "submission_id": "s1", "coverage": ""})
    population = reference.population()
    population = population[population["country"] == "MX"].reset_index(drop=True)
    calls = []
    real = assessment.rates_for
    monkeypatch.setattr(assessment, "rates_for", lambda *a: calls.append(1) or real(*a))
    cache = assessment.RatesCache(rows=1000)
    first = cache.rates(obs, population, prof, "2025")
    again = cache.rates(obs.copy(), population, prof, "2025")
    assert len(calls) == 1 and first.equals(again)
    changed = cache.rates(obs.assign(value=[1500.0, 1600.0, 1700.0, 2500.0]), population, prof, "2025")
    assert len(calls) == 2 and not changed.equals(first)
