"""A submission end to end (ideal.pipeline.submission) on a temporary warehouse, on SQLite and
on PostgreSQL."""


import pytest
from sqlalchemy import select, text

from ideal.errors import IdealError
from ideal.pipeline.submission import submit_bytes
from ideal.store.models import Observation, Submission, ValidationResult
from tests.pipeline import TODAY, count, csv


def test_schema_is_migrated_by_alembic(engine):
    from alembic.script import ScriptDirectory

    from ideal.store.db import alembic_config

    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    assert head == "0017"  # the newest migration in ideal/store/migrations/versions
    with engine.connect() as conn:
        assert conn.execute(text("select version_num from alembic_version")).scalar() == head


def test_accepted_file_loads_once(engine, mx, ideal_env):
    data = csv(mx)
    first = submit_bytes(data, "mx.csv", "MX", engine, today=TODAY)
    assert first.status == "accepted" and first.rows_accepted == len(mx)
    assert count(engine, Observation) == len(mx)
    again = submit_bytes(data, "renamed.csv", "MX", engine, today=TODAY)
    assert again.duplicate and again.submission_id == first.submission_id
    assert count(engine, Observation) == len(mx)
    assert count(engine, Submission) == 1
    assert first.feedback_path.exists()
    archived = list((ideal_env.archive_dir / "MX").iterdir())
    assert [p.read_bytes() for p in archived] == [data]


def test_rejected_file_loads_nothing_and_is_quarantined(engine, mx, ideal_env):
    bad = mx.head(20).astype({"value": object}).copy()
    bad.loc[3, "value"] = -5
    bad.loc[7, "crime_type"] = "101"
    receipt = submit_bytes(csv(bad), "mx-bad.csv", "MX", engine, today=TODAY)
    assert receipt.status == "rejected" and receipt.rows_rejected == 20
    assert count(engine, Observation) == 0
    with engine.connect() as conn:
        found = conn.execute(select(ValidationResult.rule, ValidationResult.row, ValidationResult.value)
                             .where(ValidationResult.severity == "error")).all()
    assert ("value_non_negative", 5, "-5") in found and ("crime_type_known", 9, "101") in found
    quarantined = {p.suffix for p in (ideal_env.quarantine_dir / "MX").iterdir()}
    assert quarantined == {".csv", ".txt"}
    # the raw file is kept in the archive too
    assert len(list((ideal_env.archive_dir / "MX").iterdir())) == 1


def test_unreadable_file_is_a_rejected_receipt(engine, ideal_env):
    receipt = submit_bytes(b"\x00\x01garbage", "x.csv", "MX", engine, today=TODAY)
    # in the steward's language: IDEAL_LANGUAGE (es) unless the steward asks for another
    assert receipt.status == "rejected" and "no es un archivo CSV de texto" in receipt.message
    assert count(engine, Submission, Submission.status == "rejected") == 1
    again = submit_bytes(b"\x00\x02garbage", "x.csv", "MX", engine, today=TODAY, language="pt")
    assert "não é um arquivo CSV de texto" in again.message and "REJEITADO" in again.summary()


def test_steward_cannot_load_rows_of_another_country(engine, mx):
    receipt = submit_bytes(csv(mx.head(10)), "mx.csv", "CO", engine, today=TODAY)
    assert receipt.status == "rejected"
    assert "country_is_submitter" in set(receipt.findings["rule"])
    assert count(engine, Observation) == 0


def test_non_member_country_is_refused(engine, mx):
    with pytest.raises(IdealError, match="not a CLASI member"):
        submit_bytes(csv(mx.head(3)), "mx.csv", "US", engine)


def test_correction_supersedes_previous_values(engine, mx):
    submit_bytes(csv(mx), "mx.csv", "MX", engine, today=TODAY)
    fix = mx[(mx["period"] == "2025") & (mx["crime_type"] == "0101")].copy()
    fix["value"] = fix["value"] + 1
    receipt = submit_bytes(csv(fix), "fix.csv", "MX", engine, today=TODAY)
    assert receipt.rows_superseded == len(fix)
    assert count(engine, Observation) == len(mx) + len(fix)
    assert count(engine, Observation, Observation.superseded_by.is_(None)) == len(mx)
    with engine.connect() as conn:
        current = conn.execute(select(Observation.value).where(
            Observation.region == "MX-JAL", Observation.period == "2025",
            Observation.crime_type == "0101", Observation.indicator == "incidents",
            Observation.superseded_by.is_(None))).scalar()
    expected = fix[(fix["region"] == "MX-JAL") & (fix["indicator"] == "incidents")]["value"].iloc[0]
    assert current == expected


def test_crashed_submission_is_retried_once(engine, mx, monkeypatch):
    from ideal.store import load

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(load, "load_accepted", boom)
    with pytest.raises(RuntimeError):
        submit_bytes(csv(mx), "mx.csv", "MX", engine, today=TODAY)
    assert count(engine, Submission, Submission.status == "failed") == 1
    assert count(engine, Observation) == 0
    monkeypatch.undo()
    retry = submit_bytes(csv(mx), "mx.csv", "MX", engine, today=TODAY)
    assert retry.status == "accepted" and count(engine, Submission) == 1
    assert count(engine, Observation) == len(mx)


def test_sdmx_delete_supersedes_without_new_value(engine):
    base = ("STRUCTURE,STRUCTURE_ID,ACTION,REF_AREA,CRIME_TYPE,INDICATOR,TIME_PERIOD,OBS_VALUE,OBS_STATUS\n"
            "dataflow,IDEAL:CRIME_IND(1.0),I,MX-JAL,0101,incidents,2024,100,A\n"
            "dataflow,IDEAL:CRIME_IND(1.0),I,MX-COL,0101,incidents,2024,20,A\n")
    assert submit_bytes(base.encode(), "a.csv", "MX", engine, today=TODAY).ok
    delete = ("STRUCTURE,STRUCTURE_ID,ACTION,REF_AREA,CRIME_TYPE,INDICATOR,TIME_PERIOD,OBS_VALUE,OBS_STATUS\n"
              "dataflow,IDEAL:CRIME_IND(1.0),D,MX-COL,0101,incidents,2024,,\n")
    receipt = submit_bytes(delete.encode(), "d.csv", "MX", engine, today=TODAY)
    assert receipt.ok and receipt.rows_superseded == 1
    with engine.connect() as conn:
        current = conn.execute(select(Observation.region).where(Observation.superseded_by.is_(None))).scalars().all()
    assert current == ["MX-JAL"]
    assert count(engine, Observation) == 2  # the deleted value stays on record


def test_real_sesnsp_file_through_the_normal_path(engine):
    from tests.conftest import real_file

    path = real_file("mx_sesnsp_incidencia_estatal_anual", "db_incidencia_ent_nac_year_x100khab_mujeres.csv.bz2")
    receipt = submit_bytes(path.read_bytes(), path.name, "MX", engine, today=TODAY)
    assert receipt.ok and receipt.format == "profile:mx_sesnsp_estatal"
    rules = set(receipt.findings["rule"])
    assert {"national_beside_regions", "partial_period", "category_out_of_scope"} <= rules
    # national rows are not loaded next to the states: 32 states x 11 years x 8 ICCS codes
    assert count(engine, Observation) == 32 * 11 * 8 == receipt.rows_accepted
    assert count(engine, Observation, Observation.region == "MX") == 0
    # the same file from another steward country is refused: rows of Mexico
    other = submit_bytes(path.read_bytes(), path.name, "CO", engine, today=TODAY)
    assert other.status == "rejected" and "country_is_submitter" in set(other.findings["rule"])


def _slow(*args, **kwargs):
    import time

    time.sleep(30)


def _greedy(*args, **kwargs):
    return bytearray(8 * 2**30)  # 8 GB: over any reading's memory limit


@pytest.mark.parametrize(("reader", "limit", "words"), [
    (_slow, {"IDEAL_READ_SECONDS": "1"}, "IDEAL_READ_SECONDS"),
    (_greedy, {"IDEAL_READ_MEMORY_MB": "256"}, "IDEAL_READ_MEMORY_MB"),
])
def test_a_reading_past_its_limit_is_rejected_and_may_be_sent_again(engine, mx, monkeypatch, ideal_env,
                                                                     reader, limit, words):
    """#46: a reading that outlives its limit of time or memory ends in its own process; the
    submission is rejected naming the limit (never left 'received'), the raw file is kept in
    quarantine, this process lives, and the same bytes are processed again when resent."""
    import os

    from ideal.pipeline import submission

    for name, value in limit.items():
        monkeypatch.setenv(name, value)
    original = submission.read_submission
    monkeypatch.setattr(submission, "read_submission", reader)
    data = csv(mx.head(30))
    pid = os.getpid()
    receipt = submit_bytes(data, "mx.csv", "MX", engine, today=TODAY, language="en")
    assert os.getpid() == pid and receipt.status == "rejected"
    assert words in receipt.message and "nothing was loaded" in receipt.message
    assert receipt.findings["rule"].tolist() == ["reading_limit"]
    assert count(engine, Submission, Submission.status == "rejected") == 1
    assert {p.suffix for p in (ideal_env.quarantine_dir / "MX").iterdir()} == {".csv", ".txt"}
    monkeypatch.setattr(submission, "read_submission", original)
    for name in limit:
        monkeypatch.delenv(name)
    again = submit_bytes(data, "mx.csv", "MX", engine, today=TODAY)
    assert not again.duplicate and again.status == "accepted"
    assert again.submission_id == receipt.submission_id and count(engine, Submission) == 1


def test_a_row_of_a_million_fields_is_rejected_naming_the_row(engine):
    """#46: the 2 MB CSV whose second line has 1,000,000 fields."""
    header = "country,region,period,crime_type,indicator,value,obs_status\n"
    data = (header + ",".join("1" for _ in range(1_000_000)) + "\n").encode()
    receipt = submit_bytes(data, "row.csv", "MX", engine, today=TODAY, language="en")
    assert receipt.status == "rejected" and "row 2 has 1000000 fields" in receipt.message
