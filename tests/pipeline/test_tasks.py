"""The Airflow tasks' bodies (ideal.pipeline.tasks) without Airflow."""

from datetime import date

from ideal.ingest.demo import country_frame
from ideal.pipeline.submission import receipt_dict, submit_bytes
from ideal.pipeline.tasks import summarise

TODAY = date(2026, 11, 28)


def test_asset_event_extra_names_countries_periods_and_submissions(engine):
    mx = country_frame("MX")
    receipt = submit_bytes(mx.head(30).to_csv(index=False).encode(), "mx.csv", "MX", engine, today=TODAY)
    summary = summarise([receipt_dict(receipt)])
    assert summary == {"accepted": 1, "rejected": 0, "countries": ["MX"],
                       "periods": sorted(mx.head(30)["period"].unique().tolist()),
                       "submission_ids": [receipt.submission_id]}


def test_delivery_without_a_list_is_skipped_with_its_reason_and_a_missing_given_list_fails(
        ideal_env, tmp_path):
    import pytest

    from ideal.errors import ConfigError
    from ideal.pipeline.tasks import deliver, item_name

    out = deliver(None, None)
    assert "no distribution list" in out["skipped"] and "Nothing delivered" in out["skipped"]
    with pytest.raises(ConfigError, match="no distribution list"):
        deliver(None, str(tmp_path / "missing.yaml"))
    assert item_name({"country": "MX", "path": "/x/inbox/MX/mx-2025.csv"}) == "MX mx-2025.csv"
    assert item_name({"country": "MX", "retry": "MX-1"}) == "MX retry MX-1"
