"""ideal_assess: validated indicators -> an assessment run (wiring only)."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import Asset, Param, dag, task

from ideal import dag_settings

ASSESSMENT = Asset(**dag_settings.ASSESSMENT)
VALIDATED_INDICATORS = Asset(**dag_settings.VALIDATED_INDICATORS)


@dag(
    dag_id="ideal_assess",
    schedule=[VALIDATED_INDICATORS],
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=dag_settings.DEFAULT_ARGS,
    tags=["ideal", "assess"],
    params={
        "period": Param(None, type=["null", "string"], pattern=r"^\d{4}$",
                        description="Year to assess; empty for the latest year with data."),
        "countries": Param([], type="array", items={"type": "string", "pattern": "^[A-Z]{2}$"},
                           description="Member countries (ISO alpha-2); empty for all members."),
        "crime_types": Param([], type="array", items={"type": "string", "pattern": r"^\d{2,6}$"},
                             description="ICCS codes; empty for every scored crime type."),
        "profile": Param("default", type="string", description="Methodology profile."),
        "note": Param(None, type=["null", "string"], description="Why this run is made."),
    },
    doc_md="""
### Assess threats
Runs when **validated_indicators** is updated, or on demand with parameters (period,
countries, crime types, profile, note). Stores one immutable assessment run (the same
data and parameters give the same run) and updates the asset **assessment**.
""",
)
def ideal_assess():
    @task(outlets=[ASSESSMENT])
    def assess(params=None, outlet_events=None) -> dict:
        from ideal.pipeline import assess as run_assessment

        result = run_assessment(params["period"], params["countries"], params["crime_types"],
                                params["profile"], params["note"])
        outlet_events[ASSESSMENT].extra = result
        return result

    assess()


ideal_assess()
