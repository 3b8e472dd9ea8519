"""`make demo`: the whole pipeline on generated demo submissions, from an empty folder to a
briefing: warehouse, demo files in the landing folder, ingestion, assessment, briefing."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ideal import services
from ideal.config import DEFAULT_CLASSIFICATION, get_settings, set_marking, use_demo_home
from ideal.contracts import AssessmentRequest
from ideal.ingest.demo import LATE, generate
from ideal.pipeline import assessment, inbox
from ideal.pipeline.submission import Receipt
from ideal.store import queries, runs


@dataclass
class DemoResult:
    run_id: str
    briefing: Path
    scores: pd.DataFrame
    countries: list[str]
    submissions: dict[str, tuple[int, int]]  # status -> (count, rows)
    n_observations: int
    top: pd.DataFrame


def run(say: Callable[[str], None], heard: Callable[[int, int, Receipt], None] | None = None) -> DemoResult:
    """Run the demo in its own home (config.use_demo_home); ``say`` hears each step, ``heard``
    each ingested file's receipt."""
    home = use_demo_home()
    if not get_settings().classification:  # the demonstration marking, in the demo's home only
        set_marking(home, DEFAULT_CLASSIFICATION)
    s = get_settings()
    eng = services.engine(s)
    say(f"[1/5] warehouse ready ({eng.url.render_as_string(hide_password=True)})")
    on_time = tuple(m for m in s.members if m not in LATE)
    late = tuple(m for m in s.members if m in LATE)
    files = generate(s.inbox_dir, on_time)
    say(f"[2/5] {len(files)} demo submissions in {s.inbox_dir}; ingesting")
    # the demo wrote these files itself: no need to wait for them to settle
    fast = dataclasses.replace(s, inbox_settle_seconds=0)
    receipts = list(inbox.ingest_inbox(eng, fast, heard))
    if not receipts:
        say("inbox is empty: nothing to ingest.")
    # the year's first run, before the late members' files: page 1 of the briefing says what
    # changed since (#50)
    before = assessment.assess(eng, AssessmentRequest(note="make demo: before the late files"))
    say(f"[3/5] first assessment {before.period}: run {before.run_id}"
        f"{' (unchanged data: existing run reused)' if before.reused else ''}; "
        f"{len(late)} members' files arrive late ({', '.join(late) or 'none'})")
    if late:
        files += generate(s.inbox_dir, late)
        receipts += list(inbox.ingest_inbox(eng, fast, heard))
    result = assessment.assess(eng, AssessmentRequest(note="make demo"))
    say(f"[4/5] assessment {result.period}: run {result.run_id}"
        f"{' (unchanged data: existing run reused)' if result.reused else ''}")
    path = assessment.render_report(eng, result.run_id, "briefing", "es")
    path = path.parent.parent / path.name  # the latest run's copy: reports/<period>/briefing-es.pdf
    say("[5/5] briefing rendered")
    stored, scores = runs.load(eng, result.run_id)
    by_status, n_obs = queries.totals(eng)
    return DemoResult(result.run_id, path, scores, list(stored["countries"]), by_status, n_obs,
                      assessment.top_scores(eng, result.run_id, 5))
