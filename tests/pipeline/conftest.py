import pytest

from ideal.ingest.demo import country_frame


@pytest.fixture(scope="module")
def mx():
    return country_frame("MX")
