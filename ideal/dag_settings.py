"""What the DAG files share, as plain data (ideal never imports airflow): the assets the
pipeline produces (the DAGs build ``Asset(**VALIDATED_INDICATORS)``) and the task defaults."""

from datetime import timedelta

VALIDATED_INDICATORS = {"uri": "ideal://warehouse/validated_indicators", "name": "validated_indicators"}
ASSESSMENT = {"uri": "ideal://warehouse/assessment", "name": "assessment"}
DEFAULT_ARGS = {"owner": "ideal", "retries": 2, "retry_delay": timedelta(seconds=30),
                "retry_exponential_backoff": True}
