"""The application layer: the only place that combines the stages (ingest, validate, store,
scoring, report) and the services (engine, mailer, Airflow). The CLI, the portal and the DAG
tasks call into here.

Nothing is imported here, so that ``ideal.pipeline.dag_settings`` stays light for the DAG
files' parse time.
"""
