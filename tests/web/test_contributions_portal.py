"""The portal's criminal-markets page (#49): a member's focal point downloads the template,
sends its assessors' ratings like a data file, and sees only its own; another member's steward
can neither see nor send them."""

from __future__ import annotations

import io

import openpyxl

from tests.web.conftest import csrf, login

HEADER = "country,market,region,year,round,assessor,role,severity,confidence,evidence,evidence_grade\n"


def contributions(country: str, severity: float = 6) -> bytes:
    rows = "".join(f"{country},cocaine,,2025,1,{a},police,{severity},moderate,ref {a},B2\n" for a in (1, 2, 3))
    return (HEADER + rows).encode()


def test_a_steward_sends_and_sees_only_its_own_contributions(client):
    assert login(client, "mx.steward").status_code == 303
    page = client.get("/contributions")
    assert page.status_code == 200 and "Comercio de cocaína" not in page.text  # nothing sent yet
    assert "Prácticamente inexistente" in page.text  # the anchors, in the steward's language
    book = openpyxl.load_workbook(io.BytesIO(client.get("/contributions/template.xlsx").content))
    assert {"contributions", "markets", "anchors"} <= set(book.sheetnames)
    r = client.post("/submissions", data={"country": "MX", "csrf_token": csrf(client)},
                    files={"file": ("mercados.csv", contributions("MX", 7.5), "text/csv")}, follow_redirects=True)
    assert r.status_code == 200
    page = client.get("/contributions")
    assert "Comercio de cocaína" in page.text
    spread = client.get("/contributions/spread.csv?country=MX")
    assert spread.status_code == 200 and "cocaine" in spread.text and "police" not in spread.text
    # another member's rows, sent by this steward, are refused row by row
    r = client.post("/submissions", data={"country": "MX", "csrf_token": csrf(client)},
                    files={"file": ("co.csv", contributions("CO"), "text/csv")}, follow_redirects=True)
    assert "Valoración de otro miembro" in r.text and "RECHAZAD" in r.text.upper()
    # and the steward cannot send a file for another member
    r = client.post("/submissions", data={"country": "CO", "csrf_token": csrf(client)},
                    files={"file": ("co.csv", contributions("CO"), "text/csv")})
    assert r.status_code == 403


def test_another_members_steward_cannot_see_them(client):
    assert login(client, "co.steward").status_code == 303
    assert client.get("/contributions?country=MX").status_code == 403
    assert client.get("/contributions/spread.csv?country=MX").status_code == 403
    own = client.get("/contributions")
    assert own.status_code == 200 and "Comércio de cocaína" not in own.text
