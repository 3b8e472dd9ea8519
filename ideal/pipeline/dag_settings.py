"""What the DAG files share, as plain data and light functions (ideal never imports airflow,
and nothing here imports pandas or SQLAlchemy: DAG files must parse fast). The DAGs build
``Asset(**VALIDATED_INDICATORS)`` from these names."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from pathlib import Path

from ideal.config import member_codes

VALIDATED_INDICATORS = {"uri": "ideal://warehouse/validated_indicators", "name": "validated_indicators"}
ASSESSMENT = {"uri": "ideal://warehouse/assessment", "name": "assessment"}
MONTHLY = "0 6 1 * *"            # assessments: the first of each month, 06:00 UTC
QUARTERLY = "0 6 1 1,4,7,10 *"   # briefings for CLASI meetings: each quarter


def on_failure(context) -> None:
    """Task failure callback: tell the analysts (see ideal.pipeline.notify; imported when
    called: the DAG files stay light to parse)."""
    from ideal.pipeline.notify import task_failed

    ti = context.get("task_instance") or context.get("ti")
    task_failed(dag_id=getattr(ti, "dag_id", "?"), task_id=getattr(ti, "task_id", "?"),
                run_id=getattr(ti, "run_id", "?"), error=str(context.get("exception") or ""))


DEFAULT_ARGS = {"owner": "ideal", "retries": 2, "retry_delay": timedelta(seconds=30),
                "retry_exponential_backoff": True, "on_failure_callback": on_failure}
# what every IDEAL DAG has in common: @dag(..., **DAG_DEFAULTS). Unpaused from the start (a
# file dropped in the landing folder is ingested, the report follows the assessment) and
# without catch-up (a schedule missed while Airflow was down runs once, not once per interval)
DAG_DEFAULTS = {"start_date": datetime(2026, 1, 1), "catchup": False, "max_active_runs": 1,
                "is_paused_upon_creation": False, "default_args": DEFAULT_ARGS}


def members() -> list[str]:
    """Member codes for the trigger form (IDEAL_MEMBERS, checked fully at run time)."""
    return member_codes()


def crime_types() -> list[str]:
    """ICCS codes IDEAL scores (those with a harm weight), read with the csv module."""
    path = Path(__file__).resolve().parent.parent / "reference" / "data" / "iccs.csv"
    with path.open(encoding="utf-8") as fh:
        return [row["code"] for row in csv.DictReader(fh) if row["harm_weight"]]
