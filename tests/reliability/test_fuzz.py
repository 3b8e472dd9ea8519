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
