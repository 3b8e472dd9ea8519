"""The Airflow tasks' bodies (ideal.pipeline.tasks) without Airflow."""

from datetime import date

from ideal.ingest.demo import country_frame
from ideal.pipeline.submission import submit_bytes
from ideal.pipeline.tasks import receipt_dict, summarise

TODAY = date(2026, 11, 28)


def test_asset_event_extra_names_countries_periods_and_submissions(engine):
    mx = country_frame("MX")
    receipt = submit_bytes(mx.head(30).to_csv(index=False).encode(), "mx.csv", "MX", engine, today=TODAY)
    summary = summarise([receipt_dict(receipt)])
    assert summary == {"accepted": 1, "rejected": 0, "countries": ["MX"],
                       "periods": sorted(mx.head(30)["period"].unique().tolist()),
                       "submission_ids": [receipt.submission_id]}
