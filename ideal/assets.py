"""Names of the Airflow assets the pipeline produces (plain data: ideal never imports
airflow; the DAG files build ``Asset(**VALIDATED_INDICATORS)`` from these)."""

VALIDATED_INDICATORS = {"uri": "ideal://warehouse/validated_indicators", "name": "validated_indicators"}
ASSESSMENT = {"uri": "ideal://warehouse/assessment", "name": "assessment"}
