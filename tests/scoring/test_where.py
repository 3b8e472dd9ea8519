"""Methodology v5's two tracks (#48): WHERE (exceedance probabilities within each crime type, no
goalposts) and WHAT (priorities proposed from the market severities)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ideal import reference
from ideal.scoring import markets, where
from ideal.scoring.profile import load_profile
from ideal.scoring.score import score
from tests.scoring.test_score import FAST, obs, pop

RNG = np.random.default_rng(5)


def _units(crime: str, rates: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"country": ["AA"] * len(rates), "region": [f"AA-{i}" for i in range(len(rates))],
                         "crime_type": crime, "indicator": "incidents", "rate": rates})


@pytest.mark.parametrize("crime", sorted(set(reference.iccs()["code"]) & {"0101", "0903", "1003", "1004", "0703",
                                                                              "07041", "0204", "09051"}))
def test_any_crime_type_can_have_hotspots(crime):
    """No cross-crime scale: a region at five times the members' median is a hotspot whatever
    the crime type (v4 capped cybercrime and fauna and flora below 'high' by their goalposts)."""
    rates = [1.0, 1.2, 0.9, 1.1, 5.0, 1.0, 0.8]
    u = _units(crime, rates)
    draws = np.exp(np.log(np.array(rates))[:, None] + RNG.normal(0, 0.1, (len(rates), 400)))
    trend = RNG.normal(0.05, 0.02, (len(rates), 400))
    e = where.exceedance(u, draws, trend, {"k": 2.0, "hotspot": 0.8})
    assert e["hotspot"].tolist() == [False, False, False, False, True, False, False]
    assert e.loc[4, "exceed_threshold"] == pytest.approx(2.0)
    assert e["rising"].all() and (e["rate_p5"] < np.array(rates)).all() and (e["rate_p95"] > np.array(rates)).all()


def test_an_uncertain_excess_is_not_a_hotspot():
    """A small region at five times the median but with an interval that reaches the median:
    P(exceed) below 0.8, so not a hotspot (Richardson et al. 2004)."""
    rates = [1.0, 1.0, 1.0, 5.0]
    draws = np.exp(np.log(np.array(rates))[:, None] + RNG.normal(0, [[0.05], [0.05], [0.05], [1.5]], (4, 1000)))
    e = where.exceedance(_units("0101", rates), draws, np.full((4, 1000), np.nan), {"k": 2.0})
    assert not e.loc[3, "hotspot"] and 0.5 < e.loc[3, "p_exceed"] < 0.8
    assert e["p_rising"].isna().all() and not e["rising"].any()


def test_fewer_hotspots_as_k_grows_and_the_analysis_says_how_many():
    rates = list(np.exp(RNG.normal(0, 1, 60)))
    draws = np.exp(np.log(np.array(rates))[:, None] + RNG.normal(0, 0.1, (60, 200)))
    out = where.k_sensitivity(_units("0101", rates), draws, {"k": 2.0, "hotspot": 0.8, "k_range": [1.0, 4.0]})
    counts = [x["hotspots"] for x in sorted(out["by_k"], key=lambda x: x["k"])]
    assert counts == sorted(counts, reverse=True) and counts[0] > counts[-1]


def _contrib(ratings: dict[str, dict[str, list[float]]], year: int = 2025) -> pd.DataFrame:
    rows = [dict(country=cc, market=m, region=None, year=year, round=1, assessor=i + 1, severity=v)
            for cc, by in ratings.items() for m, values in by.items() for i, v in enumerate(values)]
    return pd.DataFrame(rows)


MARKETS = reference.markets()
ORDINARY = {"cocaine": [5, 5.5, 6], "extortion": [5, 5, 5.5], "human_trafficking": [4.5, 5, 5]}


@pytest.mark.parametrize("market", MARKETS.loc[MARKETS["kind"] == "market", "code"].tolist())
def test_any_market_can_be_proposed_when_its_evidence_is_strong(market):
    """Every market of the catalogue, cybercrime and environmental crime among them, is proposed
    when three members' assessors put it at 8.5-9; the ordinary markets at 4.5-6 are not."""
    ratings = {cc: {**ORDINARY, market: [8.5, 9, 9]} for cc in ("MX", "CO", "PE")}
    sev, reg = markets.severities(_contrib(ratings), pd.DataFrame(), pd.DataFrame(), ["MX", "CO", "PE"], 2025,
                                  draws=300, seed=1)
    proposed = markets.propose(sev, reg, {"min_members": 2, "p_top3": 0.5, "most": 5})
    chosen = [p["market"] for p in proposed]
    assert chosen[0] == market
    assert proposed[0]["p_top3"] > 0.9 and len(proposed[0]["severe"]) == 3
    # the ordinary markets only complete three, as the region's leading ones, never as severe
    assert all(p["basis"] == "top3" and not p["severe"] for p in proposed[1:]) and len(proposed) <= 3


def test_nothing_severe_proposes_only_the_regions_leading_markets_with_their_doubt():
    ratings = {cc: {"cocaine": [5, 5, 5], "extortion": [3, 3, 3], "cyber": [2, 2, 2]} for cc in ("MX", "CO")}
    sev, reg = markets.severities(_contrib(ratings), pd.DataFrame(), pd.DataFrame(), ["MX", "CO"], 2025,
                                  draws=300, seed=1)
    proposed = markets.propose(sev, reg, {"min_members": 2, "p_top3": 0.5, "most": 5})
    assert [p["basis"] for p in proposed] == ["top3"] * len(proposed)
    assert all(not p["severe"] for p in proposed)


def test_goalposts_and_k_do_not_move_the_proposed_priorities():
    """#48 done-when: the goalposts or k changed by a factor of 0.5 or 2 leave the priorities
    unchanged (they follow from the markets' evidence); the hotspots move with k only as the
    run's k analysis reports."""
    regions = ["MX-JAL", "MX-COL", "MX-SON", "MX-GUA", "MX-MIC", "MX-CHH"]
    counts = [12.0, 80.0, 20.0, 30.0, 45.0, 15.0]
    o = obs([("MX", r, str(y), "0101", "incidents", c * (1 + 0.1 * (y - 2023)))
             for r, c in zip(regions, counts, strict=True) for y in (2023, 2024, 2025)])
    p = pop(regions)
    ratings = {cc: {**ORDINARY, "flora": [8, 8.5, 9]} for cc in ("MX", "CO", "PE")}
    sev, reg = markets.severities(_contrib(ratings), pd.DataFrame(), pd.DataFrame(), ["MX", "CO", "PE"], 2025,
                                  draws=300, seed=2)
    base = load_profile("default")
    seen, hot = [], {}
    for gp in (0.5, 1.0, 2.0):
        for k in (1.0, 2.0, 4.0):
            goals = {c: [g[0] * gp, g[1] * gp] for c, g in base["normalisation"]["goalposts"].items()}
            prof = {**FAST, "normalisation": {**FAST["normalisation"], "goalposts": goals},
                    "where": {**base["where"], "k": k}}
            scores, _, info = score(o, p, prof, "2025")
            seen.append([m["market"] for m in markets.propose(sev, reg, base["priorities"], scores)])
            hot[(gp, k)] = int(scores["hotspot"].sum())
            reported = {x["k"]: x["hotspots"] for x in info["where"]["by_k"]}
            assert reported[k] == hot[(gp, k)]
    assert all(s == seen[0] for s in seen) and seen[0][0] == "flora"
    assert hot[(1.0, 1.0)] >= hot[(1.0, 2.0)] >= hot[(1.0, 4.0)]


def test_since_the_previous_run_names_new_hotspots_priorities_markets_and_members():
    """#50: page 1's "what changed": hotspots new and no longer (the most probable new one
    first), markets newly proposed or dropped, regional severities moved by half a point, and
    members added or no longer assessed; a first run says so."""
    from ideal.scoring.compare import since

    def run(rid, proposed, regional, members):
        return {"id": rid, "period": "2025", "created_at": "2026-01-01",
                "info": {"priorities": [{"market": m} for m in proposed],
                         "markets": {"regional": [{"market": m, "kind": "market", "severity": s} for m, s in regional.items()]
                                     + [{"market": "area:cyber", "kind": "area", "severity": 9.0}]},
                         "countries": [{"country": c, "status": "assessed"} for c in members]}}
    key = ["country", "region", "crime_type", "indicator"]
    now = pd.DataFrame([["MX", "MX-JAL", "0101", "victims", 0.95, 30.0, True],
                        ["MX", "MX-SON", "0101", "victims", 0.85, 20.0, True],
                        ["PE", "PE-LIM", "0401", "incidents", 0.99, 900.0, True],
                        ["MX", "MX-GRO", "0101", "victims", 0.40, 10.0, False]],
                       columns=key + ["p_exceed", "rate", "hotspot"])
    before_hot = pd.DataFrame([["MX", "MX-JAL", "0101", "victims", 0.9], ["MX", "MX-GRO", "0101", "victims", 0.9]],
                              columns=key + ["p_exceed"])
    a = run("2025-a", ["cocaine", "arms"], {"cocaine": 7.0, "arms": 6.0, "heroin": 5.0}, ["MX", "GT"])
    b = run("2025-b", ["cocaine", "human_trafficking"], {"cocaine": 7.8, "arms": 5.8, "heroin": 4.0}, ["MX", "PE"])
    c = since(b, now, a, before_hot)
    assert c["n_new_hotspots"] == 2 and c["n_gone_hotspots"] == 1
    assert c["new_hotspots"][0]["region"] == "PE-LIM"                     # the most probable first
    assert c["proposed"] == ["human_trafficking"] and c["dropped"] == ["arms"]
    assert [m["market"] for m in c["up"]] == ["cocaine"] and [m["market"] for m in c["down"]] == ["heroin"]
    assert c["members_added"] == ["PE"] and c["members_removed"] == ["GT"]
    assert since(b, now, None, None) == {"first": True}
    same = since(b, now, {**b, "id": "2025-c"}, now[now["hotspot"]][key + ["p_exceed"]])
    assert same["n_new_hotspots"] == 0 and not (same["proposed"] or same["up"] or same["members_added"])
