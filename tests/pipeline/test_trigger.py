"""Reassessments (ideal.pipeline.trigger): locally without Airflow, and through Airflow's
REST API v2, here a small stand-in on loopback that answers as Airflow does."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ideal.contracts import AssessmentRequest
from ideal.errors import AssessmentError, UpstreamError
from ideal.ingest.demo import country_frame
from ideal.pipeline import trigger
from ideal.pipeline.submission import submit_bytes
from ideal.store import audit


class FakeAirflow(BaseHTTPRequestHandler):
    calls: list = []
    password = "airflow-pass"

    def _send(self, code: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        FakeAirflow.calls.append((self.path, body, self.headers.get("authorization")))
        if self.path == "/auth/token":
            ok = body.get("password") == self.password
            return self._send(201 if ok else 401, {"access_token": "jwt"} if ok else {"detail": "no"})
        if self.path == "/api/v2/dags/ideal_assess/dagRuns":
            if body.get("logical_date", "missing") is not None:
                return self._send(422, {"detail": "logical_date is required"})
            return self._send(200, {"dag_run_id": "manual__1", "state": "queued", "conf": body["conf"]})
        return self._send(404, {"detail": "not found"})

    def do_GET(self):  # noqa: N802
        return self._send(200, {"dag_runs": [{"dag_run_id": "manual__1", "state": "success",
                                              "start_date": "2026-11-28T10:00:00Z", "conf": {}}]})

    def log_message(self, *args):
        pass


@pytest.fixture
def airflow(monkeypatch):
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeAirflow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    FakeAirflow.calls = []
    monkeypatch.setenv("IDEAL_AIRFLOW_URL", f"http://127.0.0.1:{server.server_port}")
    monkeypatch.setenv("IDEAL_AIRFLOW_USER", "analyst")
    monkeypatch.setenv("IDEAL_AIRFLOW_PASSWORD", FakeAirflow.password)
    yield server
    server.shutdown()


def test_bad_parameters_are_refused_before_anything_starts(engine):
    with pytest.raises(AssessmentError, match="not members"):
        trigger.trigger(engine, AssessmentRequest(countries=("US",)), "test")
    with pytest.raises(AssessmentError, match="give a year"):
        trigger.trigger(engine, AssessmentRequest(period="2025-Q1"), "test")


def test_locally_without_airflow(engine, monkeypatch):
    monkeypatch.delenv("IDEAL_AIRFLOW_URL", raising=False)
    submit_bytes(country_frame("MX").to_csv(index=False).encode(), "mx.csv", "MX", engine)
    done = trigger.trigger(engine, AssessmentRequest(countries=("MX",)), "cli:test")
    assert done.where == "local" and done.state == "success" and done.link.endswith("briefing-es.pdf")
    listed = trigger.recent_runs(engine)
    assert [r["run_id"] for r in listed] == [done.run_id] and listed[0]["conf"]["countries"] == ["MX"]
    events = audit.events(engine)
    assert "run.triggered" in set(events["action"])


def test_through_airflow(engine, airflow):
    done = trigger.trigger(engine, AssessmentRequest(period="2025", countries=("MX",)), "portal:ana")
    assert (done.where, done.run_id, done.state) == ("airflow", "manual__1", "queued")
    path, body, auth = FakeAirflow.calls[-1]
    assert auth == "Bearer jwt" and body["conf"]["countries"] == ["MX"] and body["conf"]["period"] == "2025"
    assert trigger.recent_runs(engine)[0]["state"] == "success"


def test_airflow_refusing_the_login_is_said(engine, airflow, monkeypatch):
    monkeypatch.setenv("IDEAL_AIRFLOW_PASSWORD", "wrong")
    with pytest.raises(UpstreamError, match="IDEAL_AIRFLOW_PASSWORD"):
        trigger.trigger(engine, AssessmentRequest(), "cli:test")
