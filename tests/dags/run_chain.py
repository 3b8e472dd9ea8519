"""Run the three DAGs one after another with dag.test() (one process, no scheduler).

Called by tests/dags/test_dag_runs.py in a subprocess whose environment points AIRFLOW_HOME,
IDEAL_HOME and the database at temporary folders. Prints one JSON line per DAG run.
"""

import json
import sys

from airflow.dag_processing.dagbag import DagBag

bag = DagBag(dag_folder=sys.argv[1])
assert not bag.import_errors, bag.import_errors
for dag_id, conf in [("ideal_ingest", {}), ("ideal_assess", {"note": "dag.test"}),
                     ("ideal_report", {}), ("ideal_assess", {"period": "2030"})]:
    run = bag.get_dag(dag_id).test(run_conf=conf)
    states = {ti.task_id + (f"[{ti.map_index}]" if ti.map_index >= 0 else ""): str(ti.state)
              for ti in run.get_task_instances()}
    names = {f"{ti.task_id}[{ti.map_index}]": ti.rendered_map_index
             for ti in run.get_task_instances() if ti.map_index >= 0}
    tries = {ti.task_id: ti.try_number for ti in run.get_task_instances() if ti.map_index < 0}
    print(json.dumps({"dag_id": dag_id, "conf": conf, "state": str(run.state), "tasks": states,
                      "names": names, "tries": tries}), flush=True)
