"""ideal_assess: validated indicators -> an assessment run (wiring only)."""

from __future__ import annotations

from airflow.sdk import Asset, AssetOrTimeSchedule, CronTriggerTimetable, Param, dag, task

from ideal.pipeline import dag_settings

ASSESSMENT = Asset(**dag_settings.ASSESSMENT)
VALIDATED_INDICATORS = Asset(**dag_settings.VALIDATED_INDICATORS)
# the trigger form in the analysts' language (IDEAL_LANGUAGE), from IDEAL's catalogues
LANGUAGE = dag_settings.form_language()
_ = dag_settings.translator(LANGUAGE)
MEMBERS, CRIMES, YEARS = dag_settings.members(), dag_settings.crime_types(), dag_settings.recent_years()


def _final(call, *args):
    """``call(*args)``; an error a retry cannot fix (bad parameters, no data for the period)
    fails the task at once, without its retries, with IDEAL's message."""
    from airflow.sdk.exceptions import AirflowFailException

    from ideal.errors import AssessmentError

    try:
        return call(*args)
    except AssessmentError as exc:
        raise AirflowFailException(str(exc)) from exc


@dag(
    dag_id="ideal_assess",
    schedule=AssetOrTimeSchedule(timetable=CronTriggerTimetable(dag_settings.MONTHLY, timezone="UTC"),
                                 assets=VALIDATED_INDICATORS),
    **dag_settings.DAG_DEFAULTS,
    tags=["ideal", "assess"],
    params={
        "period": Param(None, type=["null", "string"], pattern=r"^\d{4}$", examples=YEARS,
                        title=_("Reference year"),
                        description=_("The reference year (four digits, e.g. 2025); empty for the latest "
                                      "year in which any member has complete data. Each member is assessed "
                                      "on its latest data within the window; a year after all data is "
                                      "refused.")),
        "countries": Param([], type=["array", "null"], items={"type": "string", "enum": MEMBERS},
                           uniqueItems=True, examples=MEMBERS,
                           values_display=dag_settings.member_labels(LANGUAGE),
                           title=_("Countries"),
                           description=_("Member countries to assess; none selected: every member.")),
        "crime_types": Param([], type=["array", "null"], items={"type": "string", "enum": CRIMES},
                             uniqueItems=True, examples=CRIMES,
                             values_display=dag_settings.crime_labels(LANGUAGE),
                             title=_("Crime types"),
                             description=_("ICCS crime types to assess; none selected: every "
                                           "scored crime type.")),
        "profile": Param("default", type="string", enum=dag_settings.profiles(),
                         title=_("Methodology profile"),
                         description=_("The methodology profile the scores are computed with.")),
        "note": Param(None, type=["null", "string"], title=_("Note"),
                      description=_("Why this run is made; kept with the run.")),
    },
    doc_md="""
### Assess threats
Runs when **validated_indicators** is updated, on the first of each month, or on demand with parameters (period,
countries, crime types, profile, note). **plan** checks them; **prepare** runs once per country
(its observations alone: rates, monthly series, population); **assess** combines the countries
(goalposts, ranks, Monte Carlo), stores one immutable assessment run (the same data and
parameters give the same run) and updates the asset **assessment**. The run's note (and the
assess task's log) gives the assessment id, the top threats and its page in the portal.
""",
)
def ideal_assess():
    @task
    def plan(params=None) -> list[dict]:
        from ideal.pipeline import tasks  # at run time: the DAG file stays light to parse

        return _final(tasks.plan_assessment, dict(params))

    # one task per country, named by it: none holds more than one country's observations
    @task(map_index_template="{{ ideal_country }}")
    def prepare(folder: str, country: str) -> dict:
        from airflow.sdk import get_current_context

        from ideal.pipeline import tasks

        get_current_context()["ideal_country"] = country
        return tasks.prepare_country(folder, country)

    @task(outlets=[ASSESSMENT])
    def assess(parts: list, params=None, dag_run=None, outlet_events=None) -> dict:
        from ideal.pipeline import tasks

        result = _final(tasks.combine_assessment, parts)
        outlet_events[ASSESSMENT].extra = result
        # the result where analysts look: the run's note (assessment id, the analyst's note,
        # top threats, the portal's page), through the REST API when IDEAL_AIRFLOW_URL is set
        tasks.note_run(dag_run.dag_id, dag_run.run_id, tasks.summary(result, params.get("note")))
        return result

    assess(prepare.expand_kwargs(plan()))


ideal_assess()
