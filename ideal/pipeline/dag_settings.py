"""What the DAG files share, as plain data and light functions (ideal never imports airflow,
and nothing here imports pandas or SQLAlchemy: DAG files must parse fast). The DAGs build
``Asset(**VALIDATED_INDICATORS)`` from these names."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from pathlib import Path

from ideal.config import language_code, member_codes

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
    return list(crime_labels("en"))


def crime_labels(language: str) -> dict[str, str]:
    """ICCS code -> 'code · short name' in the language, for the crime types IDEAL scores."""
    path = Path(__file__).resolve().parent.parent / "reference" / "data" / "iccs.csv"
    with path.open(encoding="utf-8") as fh:
        return {row["code"]: f"{row['code']} · {row[f'short_{language}']}"
                for row in csv.DictReader(fh) if row["harm_weight"]}


def member_labels(language: str) -> dict[str, str]:
    """Member code -> 'name (code)' in the language (CLDR through Babel)."""
    from babel import Locale

    names = Locale.parse(language).territories
    return {cc: f"{names.get(cc, cc)} ({cc})" for cc in members()}


def profiles() -> list[str]:
    """The installed methodology profiles, by name."""
    from ideal.scoring.profile import installed

    return installed()


def recent_years(n: int = 10) -> list[str]:
    """The last ``n`` years, newest first: the proposals of the trigger form's year."""
    year = datetime.now().year
    return [str(y) for y in range(year, year - n, -1)]


def form_language() -> str:
    return language_code()


def translator(language: str):
    """msgid -> its text in the language, from IDEAL's own catalogue (read with Babel: the
    DAG files must not import pandas, as ideal.i18n does through its contracts)."""
    if language == "en":
        return lambda msgid: msgid
    from babel.messages.pofile import read_po

    path = Path(__file__).resolve().parent.parent / "locale" / language / "LC_MESSAGES" / "ideal.po"
    with path.open("rb") as fh:
        catalogue = read_po(fh)
    return lambda msgid: (catalogue.get(msgid).string if catalogue.get(msgid) is not None
                          and catalogue.get(msgid).string else msgid)
