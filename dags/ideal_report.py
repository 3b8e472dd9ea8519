"""ideal_report: an assessment run -> PDF briefings (wiring only)."""

from __future__ import annotations

from airflow.sdk import Asset, AssetOrTimeSchedule, CronTriggerTimetable, Param, dag, task

from ideal.pipeline import dag_settings

ASSESSMENT = Asset(**dag_settings.ASSESSMENT)


@dag(
    dag_id="ideal_report",
    schedule=AssetOrTimeSchedule(timetable=CronTriggerTimetable(dag_settings.QUARTERLY, timezone="UTC"),
                                 assets=ASSESSMENT),
    **dag_settings.DAG_DEFAULTS,
    tags=["ideal", "report"],
    params={
        "run_id": Param(None, type=["null", "string"],
                        description="Assessment run; empty for the one that triggered this "
                                    "run, else the newest."),
        "languages": Param(["es"], type="array", items={"type": "string", "enum": ["es", "en", "pt"]},
                           description="Languages of the briefing."),
        "distribution": Param(None, type=["null", "string"],
                              description="Distribution list (YAML); empty for IDEAL_DISTRIBUTION."),
    },
    doc_md="""
### Render briefings
Runs when a new **assessment** is stored, each quarter for the CLASI meetings, or on demand. Renders the ministerial briefing
PDF into `reports/<period>/briefing-<lang>.pdf`, records it in the warehouse, and sends it to
the distribution list by SMTP (once per recipient; a retry sends only what was not sent). The
run's note names the assessment it rendered and the PDFs' paths.
""",
)
def ideal_report():
    @task
    def render(params=None, dag_run=None, triggering_asset_events=None) -> dict:
        from airflow.sdk.exceptions import AirflowFailException

        from ideal.errors import AssessmentError, NotFound
        from ideal.pipeline import tasks  # at run time: the DAG file stays light to parse

        run_id = params["run_id"]
        if not run_id and triggering_asset_events:
            events = [e for evs in triggering_asset_events.values() for e in evs]
            run_id = (events[-1].extra or {}).get("run_id") if events else None
        try:
            rendered = tasks.report(run_id, params["languages"])
        except (NotFound, AssessmentError) as exc:  # no such run, or none yet: a retry cannot help
            raise AirflowFailException(str(exc)) from exc
        tasks.note_run(dag_run.dag_id, dag_run.run_id, tasks.report_note(rendered))
        return rendered

    @task
    def deliver(rendered: dict, params=None) -> list[dict]:
        from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

        from ideal.errors import ConfigError
        from ideal.pipeline import tasks

        try:
            out = tasks.deliver(rendered["run_id"], params["distribution"])
        except ConfigError as exc:  # the list that was asked for is missing or wrong
            raise AirflowFailException(str(exc)) from exc
        if "skipped" in out:  # no list configured: shown as skipped, with the reason
            raise AirflowSkipException(out["skipped"])
        return out["delivered"]

    deliver(render())


ideal_report()
