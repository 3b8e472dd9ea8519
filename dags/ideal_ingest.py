"""ideal_ingest: landing folder -> validated, loaded submissions (wiring only)."""

from __future__ import annotations

from airflow.sdk import Asset, dag, task
from airflow.sdk.exceptions import AirflowSkipException

from ideal.pipeline import dag_settings

VALIDATED_INDICATORS = Asset(**dag_settings.VALIDATED_INDICATORS)


@dag(
    dag_id="ideal_ingest",
    schedule="*/15 * * * *",
    **dag_settings.DAG_DEFAULTS,
    tags=["ideal", "ingest"],
    doc_md="""
### Ingest country submissions
Scans the landing folder (`$IDEAL_DATA_DIR/inbox/<CC>/`), submits each new file (one mapped
task per file: archive, validate with Great Expectations, load or quarantine) and updates the
asset **validated_indicators** when rows were accepted. The run fails at the end if a file
was rejected, so the rejection is seen; the steward's feedback file names every problem.
""",
)
def ideal_ingest():
    @task
    def scan() -> list[dict]:
        from ideal.pipeline import tasks  # at run time: the DAG file stays light

        return tasks.pending_submissions()

    # one task per file, named by its country and file (or the submission it retries)
    @task(max_active_tis_per_dagrun=1, map_index_template="{{ ideal_item }}")
    def submit(item: dict) -> dict:
        from airflow.sdk import get_current_context

        from ideal.pipeline import tasks  # at run time: the DAG file stays light

        get_current_context()["ideal_item"] = tasks.item_name(item)
        return tasks.ingest_item(item)

    @task(outlets=[VALIDATED_INDICATORS])
    def publish(receipts: list[dict], outlet_events=None) -> dict:
        from ideal.pipeline import tasks  # at run time: the DAG file stays light

        summary = tasks.summarise(list(receipts))
        if not summary["accepted"]:
            raise AirflowSkipException("no newly accepted submission: asset not updated")
        outlet_events[VALIDATED_INDICATORS].extra = summary
        return summary

    @task(trigger_rule="all_done", retries=0)
    def check_rejections(receipts: list[dict]) -> None:
        from ideal.pipeline import tasks  # at run time: the DAG file stays light

        tasks.raise_for_rejections(list(receipts))

    receipts = submit.expand(item=scan())
    publish(receipts)
    check_rejections(receipts)


ideal_ingest()
