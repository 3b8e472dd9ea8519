"""One picture of the whole region from exports whose latest years differ: real national files
(Argentina's SNIC to 2023, Colombia's municipal homicides of 2024, Mexico's INEGI monthly
homicides to 2022) beside generated exports ending in 2022 (annual), in March 2023 (three
months) and in November 2025 (monthly). One run scores every member with a usable year in the
window and lists every other one with its real reason."""

import numpy as np
import pandas as pd
import pytest

from ideal.contracts import AssessmentRequest
from ideal.errors import AssessmentError
from ideal.ingest.demo import country_frame
from ideal.pipeline.assessment import assess, plan
from ideal.pipeline.submission import submit_bytes
from ideal.store.runs import load as load_run
from tests.conftest import real_file
from tests.pipeline import TODAY, csv

CRIMES = ("0101", "0401")
SEASON = 1 + 0.25 * np.cos(2 * np.pi * (np.arange(12) - 6) / 12)  # peaks in July


def monthly(frame: pd.DataFrame, last: str, seed: int) -> pd.DataFrame:
    """Annual template rows spread over months with a seasonal profile (Poisson), up to ``last``
    (YYYY-MM)."""
    rng = np.random.default_rng(seed)
    rows = []
    for r in frame.itertuples():
        for m in range(12):
            period = f"{r.period}-{m + 1:02d}"
            if period <= last:
                rows.append((r.country, r.region, period, r.crime_type, r.indicator,
                             int(rng.poisson(r.value * SEASON[m] / SEASON.sum())), "A"))
    return pd.DataFrame(rows, columns=frame.columns)


def submit_real(engine, country, *parts):
    path = real_file(*parts)
    receipt = submit_bytes(path.read_bytes(), path.name, country, engine, today=TODAY)
    assert receipt.status == "accepted", receipt.message
    return receipt


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_one_run_puts_every_member_at_its_own_latest_year(engine):
    submit_real(engine, "AR", "ar_snic_provincias", "snic-provincias.csv")
    submit_real(engine, "CO", "co_homicidios_municipal_2024", "datos3.csv")
    submit_real(engine, "MX", "mx_inegi_homicidios_estatal_mensual", "mexico-state-month-homicide-rates-2000-2022.csv")
    br = country_frame("BR", years=[2020, 2021, 2022])
    cr = monthly(country_frame("CR", years=[2023]).query("crime_type in @CRIMES"), "2023-03", 1)
    ec_src = monthly(country_frame("EC", years=[2021, 2022, 2023, 2024, 2025]).query("crime_type in @CRIMES"),
                     "2025-11", 2)
    for cc, frame in (("BR", br), ("CR", cr), ("EC", ec_src)):
        assert submit_bytes(csv(frame), f"{cc.lower()}.csv", cc, engine, today=TODAY).status == "accepted"

    # the reference year: the latest year in which any member has complete data (CO and EC 2024),
    # not the latest row (EC's November 2025)
    run = assess(engine)
    assert run.period == "2024"
    members = {c["country"]: c for c in run.countries}
    assert set(members) == set(plan(engine).countries)        # every member in scope is accounted for
    scored = {cc for cc, c in members.items() if c["status"] == "assessed"}
    assert scored == {"AR", "BR", "CO", "EC", "MX"}
    assert members["AR"]["data_years"] == {"2023": members["AR"]["units_scored"]}
    assert set(members["MX"]["data_years"]) == {"2022"} and set(members["BR"]["data_years"]) == {"2022"}
    assert members["EC"]["later"] == "2025 (11/12)"
    assert members["CR"]["reason"] == ("2023 covers 3 of 12 months, fewer than the 6 needed, and no complete "
                                       "year in 2022-2024")
    assert members["PE"]["reason"] == "no data submitted"
    stored, scores = load_run(engine, run.run_id)
    # each unit flagged with its data year; carried forward where it is not the reference year
    assert (scores.loc[scores["country"] == "BR", "data_year"] == 2022).all()
    assert scores.loc[scores["country"] == "BR", "imputed"].all()
    assert stored["info"]["countries"] == run.countries
    # the observations the run used: those of its countries' trend windows, not every row stored
    # the cover's count: the observations of the members assessed (#47), those of members not
    # assessed apart
    assert run.n_observations == sum(c["observations"] for c in run.countries if c["status"] == "assessed")
    # the annex's data-quality annex: every member, and every unit not scored, with its reason
    from ideal.report import annex
    from ideal.store.queries import submissions_of

    ctx, _ = annex.build(stored, scores, submissions_of(engine, ids=stored["params"]["submissions"]), "es")
    members = {m["name"]: m["status"] for m in ctx["members"]}
    assert members["Costa Rica"].startswith("no evaluado: 2023 cubre 3 de 12 meses")
    assert members["Brasil"].startswith("evaluado con datos de 2022 (último año disponible, arrastrado)")
    units = [u for chunk in ctx["unscored"] for u in chunk]
    assert units and all(u["country"] == "Costa Rica" for u in units)
    assert {u["reason"] for u in units} == {"el año es parcial y demasiado corto para estimarlo"}

    # 2025: Ecuador's 11 months nowcast from its own seasonal profile; Brazil's and Mexico's 2022
    # is older than the window; Costa Rica's quarter still too short
    later = assess(engine, AssessmentRequest(period="2025"))
    members = {c["country"]: c for c in later.countries}
    assert members["EC"]["status"] == "assessed" and members["EC"]["nowcast"] == members["EC"]["units_scored"] > 0
    assert members["BR"]["reason"] == "latest data are for 2022, older than the window 2023-2025"
    assert members["MX"]["reason"] == "latest data are for 2022, older than the window 2023-2025"
    assert members["AR"]["data_years"] == {"2023": members["AR"]["units_scored"]}
    _, scores = load_run(engine, later.run_id)
    ec = scores[scores["country"] == "EC"]
    assert ec["partial"].str.startswith("nowcast 11/12: ").all()
    # the nowcast of a unit: its 11 months known plus an estimated December, within its interval
    known = (ec_src[ec_src["period"].str.startswith("2025")].groupby(["region", "crime_type", "indicator"])["value"]
             .sum().rename("known"))
    est = ec.join(known, on=["region", "crime_type", "indicator"])
    span = est["partial"].str.extract(r": (\d+)-(\d+)$").astype(float)
    # (a December with no event in the earlier years of a small unit adds nothing: >=)
    assert (est["value"] >= est["known"]).all() and (est["value"] > est["known"]).mean() > 0.5
    assert (est["value"] <= est["known"] * 12 / 11 * 1.5).all()
    assert ((span[0] <= est["value"].round() + 1) & (est["value"].round() - 1 <= span[1])).all()

    # a year after one member's data but within others': that member carries its year forward
    br_only = assess(engine, AssessmentRequest(period="2023", countries=("BR",)))
    assert [c["data_years"] for c in br_only.countries] == [{"2022": br_only.n_scores}]
    with pytest.raises(AssessmentError, match="latest year with data is 2025"):
        assess(engine, AssessmentRequest(period="2026"))
    # nothing to score: the message names each country's reason
    with pytest.raises(AssessmentError) as refused:
        assess(engine, AssessmentRequest(period="2025", countries=("BR", "CR")))
    assert "BR: latest data are for 2022" in str(refused.value)
    assert "CR: 2023 covers 3 of 12 months" in str(refused.value)



@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_a_year_that_looks_partial_is_not_a_year(engine):
    """SESNSP's 2025 holds about half a year (no month field; the validation says it looks
    partial): it does not make 2025 the reference year, and no unit is scored on it as a year."""
    submit_real(engine, "MX", "mx_sesnsp_incidencia_estatal_anual", "db_incidencia_ent_nac_year_x100khab_mujeres.csv.bz2")
    run = assess(engine, AssessmentRequest(countries=("MX",)))
    assert run.period == "2024"
    (mx,) = run.countries
    assert set(mx["data_years"]) == {"2024"} and mx["later"] == "2025 (looks partial)"
    later = assess(engine, AssessmentRequest(period="2025", countries=("MX",)))
    _, scores = load_run(engine, later.run_id)
    assert (scores["data_year"] == 2024).all()
    assert scores["partial"].str.fullmatch("carried forward: 2025 looks partial").all()
