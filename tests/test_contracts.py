"""The assessment request, built the same way from the CLI, the portal, the API and Airflow."""

import pytest

from ideal.contracts import AssessmentRequest, code_list
from ideal.errors import AssessmentError


def test_codes_from_a_text_or_a_list():
    assert code_list("mx, co  ar") == ["MX", "CO", "AR"]
    assert code_list(["mx", " co "]) == ["MX", "CO"]
    assert code_list(None) == [] and code_list("") == []


def test_request_from_a_mapping_and_back():
    r = AssessmentRequest.from_mapping({"period": 2025, "countries": "mx,co", "crime_types": ["0101"],
                                        "profile": "", "note": "  why  ", "languages": ["es", "PT"]})
    assert r == AssessmentRequest("2025", ("MX", "CO"), ("0101",), "default", "why", ("es", "pt"))
    assert r.conf() == {"period": "2025", "countries": ["MX", "CO"], "crime_types": ["0101"],
                        "profile": "default", "note": "why", "languages": ["es", "pt"]}
    assert AssessmentRequest.from_mapping({"period": None, "note": ""}) == AssessmentRequest()


@pytest.mark.parametrize("body, says", [
    ({"countries": {"MX": 1}}, "list of codes"),
    ({"countries": [["MX"]]}, "codes must be text"),
    ({"note": {"a": 1}}, "note"),
    ({"profile": ["default"]}, "profile"),
    ({"period": [2025]}, "period"),
    ({"languages": ["fr"]}, "languages"),
    ([1, 2], "must be an object"),
])
def test_a_value_of_the_wrong_kind_names_the_field(body, says):
    with pytest.raises(AssessmentError, match=says):
        AssessmentRequest.from_mapping(body)
