"""The Sheets API emulator answers gspread's own high-level calls like the real API."""

from __future__ import annotations

import functools

import gspread
import pytest
import requests
from google.oauth2.credentials import Credentials

from automations.sheets.google import SheetsHTTPClient, build_session
from tests.emulators.sheets_api import Formula, parse_cells, split_a1


@pytest.fixture
def client(sheets_api) -> gspread.Client:
    session = build_session(Credentials(token="t"), trust_env=False)
    factory = functools.partial(SheetsHTTPClient, base_url=sheets_api.base_url)
    return gspread.Client(None, session=session, http_client=factory)  # type: ignore[arg-type]


def test_gspread_reads_quoted_url_encoded_ranges(sheets_api, client):
    ident = sheets_api.add_spreadsheet("Demo", {"Run's Log": [["a", "b"], ["1", "x"]]}, typed=False)
    sheet = client.open_by_key(ident)
    worksheet = sheet.worksheet("Run's Log")
    assert worksheet.get("A1:B2") == [["a", "b"], ["1", "x"]]
    paths = [r.path for r in sheets_api.requests if r.kind == "values.get"]
    assert paths == ["/v4/spreadsheets/" + ident + "/values/'Run''s Log'!A1:B2"]


def test_raw_keeps_text_and_user_entered_interprets_it(sheets_api, client):
    ident = sheets_api.add_spreadsheet("Demo", {"Sheet1": [["x"]]}, typed=False)
    worksheet = client.open_by_key(ident).sheet1
    worksheet.update([["=1+1", "00123"]], "A1", raw=True)
    assert sheets_api.values(ident, "Sheet1") == [["=1+1", "00123"]]
    worksheet.update([["=1+1", "00123", "3/4/2026"]], "A2", raw=False)
    row = sheets_api.values(ident, "Sheet1")[1]
    assert row[0] == Formula("=1+1") and row[1] == 123 and row[2] == 46085
    assert worksheet.get("C2", value_render_option="FORMATTED_VALUE") == [["3/4/2026"]]


def test_add_worksheet_gets_the_reply_shape_gspread_expects(sheets_api, client):
    ident = sheets_api.add_spreadsheet("Demo", {"Sheet1": []})
    sheet = client.open_by_key(ident)
    added = sheet.add_worksheet("Run Log", rows=10, cols=3)
    assert added.title == "Run Log" and added.row_count == 10 and added.col_count == 3
    with pytest.raises(gspread.exceptions.APIError) as caught:
        sheet.add_worksheet("Run Log", rows=10, cols=3)
    assert caught.value.response.status_code == 400


def test_writes_outside_the_grid_are_refused_like_the_real_api(sheets_api, client):
    ident = sheets_api.add_spreadsheet("Demo", {"Sheet1": []})
    sheets_api.sheet(ident, "Sheet1").row_count = 5
    worksheet = client.open_by_key(ident).sheet1
    with pytest.raises(gspread.exceptions.APIError, match="exceeds grid limits"):
        worksheet.update([["x"]], "A6")


def test_requests_without_a_bearer_token_get_401(sheets_api):
    ident = sheets_api.add_spreadsheet("Demo", {"Sheet1": []})
    answer = requests.get(f"{sheets_api.base_url}/v4/spreadsheets/{ident}", timeout=5)
    assert answer.status_code == 401
    assert answer.json()["error"]["status"] == "UNAUTHENTICATED"


def test_a1_parsing():
    assert split_a1("'It''s'!A1:B2") == ("It's", "A1:B2")
    assert split_a1("Members") == ("Members", None)
    assert parse_cells("A:A") == (0, 0, None, 0)
    assert parse_cells("1:10") == (0, 0, 9, None)
    assert parse_cells("B5:C") == (4, 1, None, 2)
    assert parse_cells("AA10") == (9, 26, 9, 26)


def test_batch_get_ranges_with_and_without_tab_names_and_render_options(sheets_api, client):
    ident = sheets_api.add_spreadsheet(
        "Demo", {"First": [["Date", "n"], ["3/4/2026", "7"]], "Second": [["x"]]}, typed=True
    )
    answer = client.http_client.values_batch_get(
        ident,
        ["A1:B2", "Second", "'First'!B:B"],
        params={"valueRenderOption": "UNFORMATTED_VALUE", "dateTimeRenderOption": "SERIAL_NUMBER"},
    )
    first, second, column = answer["valueRanges"]
    assert first == {
        "range": "First!A1:B2",
        "majorDimension": "ROWS",
        "values": [["Date", "n"], [46085, 7]],
    }
    assert second["values"] == [["x"]] and second["range"] == "Second!A1:Z1000"
    assert column["values"] == [["n"], [7]]
    formatted = client.http_client.values_batch_get(
        ident, ["First!A2"], params={"valueRenderOption": "FORMATTED_VALUE"}
    )
    assert formatted["valueRanges"][0]["values"] == [["3/4/2026"]]
