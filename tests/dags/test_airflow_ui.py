"""`make airflow` for real, in a browser: the development profile starts (scripts/airflow_dev.py,
Airflow standalone on a free port), prints the login, the analyst signs in with it in Chromium,
opens ideal_assess's trigger form and sees the selects with names in Spanish; the form is kept
as a screenshot (IDEAL_SCREENSHOTS/airflow-trigger-form*.png) to look at. Ctrl-C then stops
every Airflow process it started."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.web.test_browser import CHROMIUM, FLAGS, SHOTS, free_port

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]


def _ours(home: Path) -> list[int]:
    """Processes whose environment has this AIRFLOW_HOME."""
    mark = f"AIRFLOW_HOME={home}".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if mark in (entry / "environ").read_bytes().split(b"\0"):
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


def test_trigger_form_in_the_airflow_ui_and_ctrl_c_stops_it_all(tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: `make chromium` installs it.")
    from playwright.sync_api import sync_playwright

    home, port = tmp_path / "airflow", free_port()
    env = dict(os.environ, AIRFLOW_HOME=str(home), AIRFLOW_PORT=str(port), IDEAL_HOME=str(tmp_path / "var"),
               IDEAL_MEMBERS="MX CO", IDEAL_LANGUAGE="es")
    env.pop("AIRFLOW__CORE__DAGS_FOLDER", None)
    proc = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "airflow_dev.py")], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        up = None
        deadline = time.monotonic() + 300
        while up is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            assert line or proc.poll() is None, "make airflow stopped while starting"
            up = re.search(r"Airflow is up: (\S+)\s+\(user (\S+), password (\S+)\)", line)
        assert up, "Airflow did not come up within 5 minutes"
        url, user, password = up.groups()
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url)
            page.fill("input[name=username]", user)
            page.fill("input[name=password]", password)
            page.click("button[type=submit]")
            page.wait_for_url(lambda u: "/auth/login" not in u, timeout=30_000)
            page.goto(f"{url}/dags/ideal_assess")
            page.get_by_role("button", name="Trigger").first.click()
            form = page.get_by_role("dialog")
            form.get_by_text("Países", exact=True).wait_for(timeout=60_000)
            text = form.inner_text()
            for label in ("Año", "Países", "Tipos de delito", "Perfil metodológico", "Nota"):
                assert label in text, text
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.wait_for_timeout(1500)  # the dialog's opening animation
            page.screenshot(path=str(SHOTS / "airflow-trigger-form.png"), full_page=True)
            form.get_by_role("combobox").nth(1).click()  # the countries
            page.get_by_role("option").first.wait_for()
            options = [o.inner_text() for o in page.get_by_role("option").all()]
            assert options == ["México (MX)", "Colombia (CO)"], options
            page.wait_for_timeout(500)
            page.screenshot(path=str(SHOTS / "airflow-trigger-form-countries.png"))
            browser.close()
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        out, _ = proc.communicate(timeout=120)
    assert "Airflow stopped." in out, out[-2000:]
    deadline = time.monotonic() + 30
    while _ours(home) and time.monotonic() < deadline:
        time.sleep(1)
    assert not _ours(home), f"Airflow processes left running: {_ours(home)}"
