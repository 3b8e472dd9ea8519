"""The assessment reads the same observations from SQLite and from PostgreSQL (COPY path)."""

from ideal.ingest.demo import country_frame
from ideal.pipeline.submission import submit_bytes
from ideal.store import make_engine, upgrade
from ideal.store.runs import current_observations


def test_current_observations_same_on_both_backends(ideal_env, pg_url, monkeypatch):
    from sqlalchemy import text

    frames = []
    for url in (f"sqlite:///{ideal_env.home / 'ideal.db'}", pg_url):
        monkeypatch.setenv("IDEAL_DATABASE_URL", url)
        engine = make_engine(url)
        upgrade(engine)
        data = country_frame("CO").head(300)
        data.loc[5, "obs_status"] = "M"
        data.loc[5, "value"] = None
        assert submit_bytes(data.to_csv(index=False).encode(), "co.csv", "CO", engine).ok
        frames.append(current_observations(engine, 2020, 2025).drop(columns="submission_id"))
        if url == pg_url:
            with engine.begin() as conn:
                conn.execute(text("TRUNCATE reports, threat_scores, assessment_runs, validation_results, "
                                  "observation_facts, submissions, audit_log RESTART IDENTITY CASCADE"))
        engine.dispose()
    a, b = frames
    assert len(a) == len(b) > 0 and a["value"].isna().sum() == 1
    assert a.astype(str).equals(b.astype(str)), (a.dtypes, b.dtypes)
