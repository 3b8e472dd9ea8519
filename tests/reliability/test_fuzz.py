"""Property-based fuzzing of the readers and the validators: whatever bytes arrive, the only
exception that leaves them is SubmissionError (a message for the steward)."""

from __future__ import annotations

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ideal.config import DEFAULT_MEMBERS
from ideal.errors import SubmissionError
from ideal.ingest.formats import read_submission
from ideal.ingest.sniff import ReadOptions
from ideal.validate import plausibility, validate_submission

HEADER = ["country", "region", "period", "crime_type", "indicator", "value", "obs_status"]
FUZZ = settings(max_examples=200, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

cells = st.one_of(
    st.sampled_from(["MX", "CO", "MX-JAL", "MX-CMX", "2024", "2024-03", "2024-Q2", "0101", "0401",
                     "incidents", "victims", "seizures_kg", "A", "E", "M", "", "NA", "-", "s/d",
                     "1.234,5", "1,234.5", "1e9", "-3", "0", "inf", "=1+1", '"', "'", ";", "\t"]),
    st.text(max_size=12),
    st.integers(-10**12, 10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)


TALLY = None


def _read(data: bytes, name: str, options: ReadOptions | None = None):
    try:
        return read_submission(data, name, options)
    except SubmissionError as exc:
        assert str(exc) and "Traceback" not in str(exc)
        return None
    except Exception:
        TALLY.add("fuzz_unhandled")
        raise


def _count(tally) -> None:
    global TALLY
    TALLY = tally
    tally.add("fuzz_examples")
    tally.add("fuzz_unhandled", 0)


def test_readers_take_any_bytes(tally):
    @FUZZ
    @given(data=st.binary(max_size=3000),
           name=st.sampled_from(["a.csv", "a.xlsx", "a.csv.gz", "a.csv.bz2", "a.txt", "a"]))
    def run(data, name):
        _count(tally)
        _read(data, name)

    run()


def test_readers_take_any_text(tally):
    @FUZZ
    @given(text=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=2000),
           encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]),
           separator=st.sampled_from([None, ",", ";", "\t", "|"]))
    def run(text, encoding, separator):
        _count(tally)
        try:
            data = text.encode(encoding)
        except UnicodeEncodeError:
            data = text.encode("utf-8")
        _read(data, "fuzz.csv", ReadOptions(separator=separator))

    run()


def test_template_rows_read_and_validate(tally):
    """Files shaped like the template with any cell values: read, checked for plausibility
    against a history, validated by the suite. No exception but SubmissionError."""
    history = pd.DataFrame({"region": ["MX-JAL"], "period": ["2023"], "crime_type": ["0101"],
                            "indicator": ["incidents"], "value_number": [100.0]})

    @settings(max_examples=80, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow])
    @given(rows=st.lists(st.lists(cells, min_size=7, max_size=7), min_size=1, max_size=12),
           sep=st.sampled_from([",", ";"]))
    def run(rows, sep):
        _count(tally)
        def field(v: str) -> str:
            return '"' + v.replace('"', '""') + '"'
        text = sep.join(HEADER) + "\n" + "\n".join(sep.join(field(v) for v in r) for r in rows)
        parsed = _read(text.encode(), "fuzz.csv", ReadOptions(separator=sep))
        if parsed is None:
            return
        try:
            to_load, found = plausibility.run(parsed.frame, history)
            report = validate_submission(parsed.frame, "MX", tuple(DEFAULT_MEMBERS), extra=found)
        except Exception:
            tally.add("fuzz_unhandled")
            raise
        assert report.n_errors >= 0 and len(to_load) <= len(parsed.frame)

    run()


# --- mutants of real files (#46): bench/fuzz.py's mutators, chosen by Hypothesis ---------------

MUTANTS = settings(max_examples=120, deadline=None, derandomize=True,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
SLOWEST: dict[str, float] = {}


def _seeds():
    from bench.fuzz import seeds

    return seeds()


def test_mutants_of_real_files_get_a_verdict_with_a_reason_through_submit_bytes(engine, ideal_env, tally):
    """Truncated, flipped, huge, nested, re-encoded, compressed and bombed variants of the
    template and of every shared real export: each is accepted or rejected naming a reason,
    its raw file kept in quarantine; none is left 'received'; nothing but a receipt comes out."""
    import random
    import time

    from bench.fuzz import MUTATORS, stored_check
    from ideal.pipeline import bounded
    from ideal.pipeline.submission import submit_bytes

    pool = _seeds()
    assert len(pool) >= 9  # the template, SDMX and the six shared real exports
    count = iter(range(10**6))

    @MUTANTS
    @given(seed=st.integers(0, len(pool) - 1), how=st.lists(st.sampled_from(MUTATORS), min_size=1, max_size=2),
           rnd=st.integers(0, 2**32))
    def run(seed, how, rnd):
        rng = random.Random(rnd)
        name, data = pool[seed]
        for m in how:
            name, data = m(rng, name, data)
        tally.add("mutants")
        t0 = time.perf_counter()
        receipt = submit_bytes(data, f"{next(count):05d}-{name}", "MX", engine, language="en")
        SLOWEST["submit_bytes"] = max(SLOWEST.get("submit_bytes", 0), time.perf_counter() - t0)
        SLOWEST["peak_mb"] = max(SLOWEST.get("peak_mb", 0), bounded.LAST.get("extra_kb", 0) / 1024)
        # a verdict: accepted, rejected with a reason, or the receipt of the same bytes sent before
        answered = receipt.status in ("accepted", "rejected") or (receipt.duplicate and receipt.status == "superseded")
        if not answered or (receipt.status == "rejected" and not receipt.message.strip()):
            tally.add("mutants_unanswered")
        assert answered, receipt.summary()

    run()
    stored = stored_check(engine, ideal_env)
    unanswered = stored["received"] + stored["rejected_without_raw_file"] + stored["rejected_without_reason"]
    tally.add("mutants_unanswered", unanswered)
    assert unanswered == 0, stored


def test_mutants_sent_to_a_running_server_get_answers_and_no_worker_dies(tmp_path, tally):
    """The same mutants through the API of `ideal serve` (two processes): no 5xx, no server
    process lost, every file answered with a verdict."""
    import random

    from bench.fuzz import Tally, fuzz_api

    found = Tally()
    stored = fuzz_api(40, random.Random(46), _seeds(), found, tmp_path)
    tally.add("mutants", found.files)
    bad = found.status_5xx + found.deaths + len(found.unhandled) + stored["received"] \
        + stored["rejected_without_raw_file"] + stored["rejected_without_reason"]
    tally.add("mutants_unanswered", bad)
    peak = max(stored["peak_mb_per_worker"].values() or [0])
    tally.note("mutants_slowest", f"{SLOWEST.get('submit_bytes', 0):.1f} s / {found.slowest[0]:.1f} s; "
                                  f"reading +{SLOWEST.get('peak_mb', 0):.0f} MB beyond its process, server process {peak:.0f} MB")
    assert bad == 0, (found.summary(), stored)
    assert found.files == 40
