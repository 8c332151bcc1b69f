"""The workbook backend's own .xlsx reader: the values openpyxl gives, formulas told apart."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import openpyxl
import pytest

from automations.demo import init_demo
from automations.sheets.xlsx_read import NotAWorkbook, Package, read_grid
from tests.fixtures.bad_input import corpus_workbooks, save_grids
from tests.fixtures.excel_files import Formula, excel_workbook
from tests.fixtures.workbooks import TODAY, write_workbook


def trimmed(rows) -> list[list[object]]:
    rows = [list(r) for r in rows]
    for row in rows:
        while row and row[-1] is None:
            row.pop()
    while rows and not rows[-1]:
        rows.pop()
    return rows


def assert_same_as_openpyxl(path) -> int:
    data = path.read_bytes()
    package = Package(data)
    theirs = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    cells = 0
    for title in package.titles():
        mine = trimmed(read_grid(package, title).values)
        assert mine == trimmed(theirs[title].iter_rows(values_only=True)), (path.name, title)
        cells += sum(len(row) for row in mine)
    return cells


def test_demo_and_bad_input_workbooks_read_as_openpyxl_reads_them(tmp_path):
    init_demo(tmp_path / "demo", TODAY)
    corpus = tmp_path / "corpus"
    init_demo(corpus, TODAY)
    save_grids(corpus, corpus_workbooks(TODAY)[0])
    books = [*sorted((tmp_path / "demo").glob("*.xlsx")), *sorted(corpus.glob("*.xlsx"))]
    assert sum(assert_same_as_openpyxl(book) for book in books) > 500


def test_calamine_and_the_xml_stream_read_every_tab_alike(tmp_path):
    from automations.sheets.xlsx_read import _calamine_grid, _streamed_grid

    init_demo(tmp_path / "demo", TODAY)
    save_grids(tmp_path / "demo", corpus_workbooks(TODAY)[0])
    formulas = excel_workbook(
        tmp_path / "demo" / "formulas.xlsx",
        {"T": [["A", "B"], [Formula("1+1", 2), Formula('LOWER("X")')], [True, 2.5]]},
    )
    assert formulas.exists()
    kinds = [
        ["text", "ünïcödé ✓ 日本", "two\nlines", "  spaced  ", "=1+1 as text", "00123"],
        [1, -2, 3.25, 1e-7, 12345678901, 0],
        [True, False, None, "", "x", None],
        [dt.date(2026, 3, 4), dt.datetime(2026, 3, 4, 18, 30), dt.time(18, 30), "3/4/2026"],
    ]
    write_workbook(tmp_path / "demo" / "kinds.xlsx", {"Kinds": kinds})
    tabs = 0
    for path in sorted((tmp_path / "demo").glob("*.xlsx")):
        package = Package(path.read_bytes())
        for title in package.titles():
            whole = _calamine_grid(package, title)
            assert whole is not None
            assert whole == _streamed_grid(package, title), (path.name, title)
            some = _calamine_grid(package, title, [0, 1], 2)
            assert some == _streamed_grid(package, title, columns=[0, 1], full_rows=2)
            tabs += 1
    assert tabs >= 9


def test_every_kind_of_value_reads_as_openpyxl_reads_it(tmp_path):
    rows = [
        ["text", "ünïcödé ✓ 日本", "two\nlines", "  spaced  ", "a & b <c>", "=1+1 as text"],
        [1, -2, 3.25, 1e-7, 12345678901, 0],
        [True, False, None, "", "x", None],
        [dt.date(2026, 3, 4), dt.datetime(2026, 3, 4, 18, 30), dt.time(18, 30), "3/4/2026"],
    ]
    path = write_workbook(tmp_path / "kinds.xlsx", {"Kinds": rows})
    workbook = openpyxl.load_workbook(path)
    workbook["Kinds"]["B5"] = dt.timedelta(hours=30)
    workbook.save(path)
    assert assert_same_as_openpyxl(path) >= 20


def test_shared_strings_and_cached_formula_results_are_read(tmp_path):
    path = excel_workbook(
        tmp_path / "excel.xlsx",
        {
            "People": [
                ["Name", "Email", "Date"],
                [
                    "D. Washington",
                    Formula('LOWER("D.Washington@Example.org")', "d.washington@example.org"),
                    Formula("DATE(2026,12,10)", dt.date(2026, 12, 10)),
                ],
                ["No Result", Formula('LOWER("X@Example.org")'), dt.date(2026, 1, 5)],
            ]
        },
    )
    grid = read_grid(Package(path.read_bytes()), "People")
    assert grid.values[1] == [
        "D. Washington",
        "d.washington@example.org",
        dt.datetime(2026, 12, 10),
    ]
    # A formula saved without its result is unknown, not blank.
    assert grid.values[2][1] is None
    assert grid.uncalculated == {(2, 1)}
    assert assert_same_as_openpyxl(path) > 0


def test_a_formula_whose_result_is_empty_text_is_calculated(tmp_path):
    path = excel_workbook(tmp_path / "empty.xlsx", {"T": [["A"], [Formula('IF(1,"","x")', "")]]})
    grid = read_grid(Package(path.read_bytes()), "T")
    assert grid.uncalculated == set()


def test_excel_escapes_in_text_are_undone(tmp_path):
    path = excel_workbook(
        tmp_path / "escaped.xlsx", {"T": [["line_x000D_\nnext", "_x005F_x0041_"]]}
    )
    grid = read_grid(Package(path.read_bytes()), "T")
    assert grid.values[0] == ["line\r\nnext", "_x0041_"]


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "password-protected"),
        (b"Name,Email\nMaria,m@example.org\n", "damaged"),
        (b"PK\x03\x04 cut short", "damaged"),
    ],
)
def test_files_that_are_not_workbooks_say_what_they_look_like(data, words):
    with pytest.raises(NotAWorkbook, match=words):
        Package(data)


def test_a_truncated_workbook_is_damaged(tmp_path):
    path = write_workbook(tmp_path / "book.xlsx", {"T": [["a"] * 10] * 2000})
    data = path.read_bytes()
    with pytest.raises(NotAWorkbook, match="damaged"):
        package = Package(data[: len(data) // 2])
        read_grid(package, "T")


def test_a_zip_that_is_not_a_workbook_says_so(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
    with pytest.raises(NotAWorkbook, match="not an Excel workbook"):
        Package(buffer.getvalue())
