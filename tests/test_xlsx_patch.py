"""Patching cells into an .xlsx package: only the tool's cells change, everything else stays."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

import openpyxl

from automations.sheets.xlsx_patch import TabEdit, save_patched
from automations.sheets.xlsx_read import Package, read_grid
from tests.fixtures.excel_files import Formula, excel_workbook, parts_of
from tests.fixtures.workbooks import write_workbook


def patched(path, edits=None, new_tabs=None) -> Package:
    out = io.BytesIO()
    save_patched(Package(path.read_bytes()), edits or {}, new_tabs or {}, out)
    path.write_bytes(out.getvalue())
    return Package(out.getvalue())


def sheet_xml(path, part="xl/worksheets/sheet1.xml") -> str:
    return parts_of(path)[part].decode()


def test_values_go_in_raw_and_a_replaced_cell_keeps_its_style(tmp_path):
    path = excel_workbook(
        tmp_path / "b.xlsx", {"T": [["Name", "Date"], ["a", dt.date(2026, 3, 4)]]}
    )
    edit = TabEdit(
        {(2, 2): "=1+1", (2, 3): 42, (2, 4): 2.5, (2, 5): True, (2, 6): "_x0041_ \r\n x"}
    )
    package = patched(path, {"T": edit})
    values = read_grid(package, "T").values
    assert values[1][1:] == ["=1+1", 42, 2.5, True, "_x0041_ \r\n x"]
    xml = sheet_xml(path)
    assert '<c r="B2" s="1" t="inlineStr"><is><t>=1+1</t></is></c>' in xml  # style kept
    assert "<f>" not in xml
    cell = openpyxl.load_workbook(path)["T"]["B2"]
    assert (cell.value, cell.data_type) == ("=1+1", "s")


def test_cells_and_rows_are_added_in_order_and_the_dimension_grows(tmp_path):
    path = excel_workbook(tmp_path / "b.xlsx", {"T": [["A", None, "C"], [], ["x"]]})
    package = patched(path, {"T": TabEdit({(1, 2): "B", (2, 4): "new row", (9, 1): "far"})})
    assert read_grid(package, "T").values[:3] == [
        ["A", "B", "C"],
        [None, None, None, "new row"],
        ["x"],
    ]
    xml = sheet_xml(path)
    assert '<dimension ref="A1:D9"/>' in xml
    assert xml.index('<row r="2">') < xml.index('<row r="3"') < xml.index('<row r="9">')
    assert 'spans="1:3"' in xml  # row 1 spans already covered B


def test_a_cell_set_to_none_is_cleared_and_keeps_its_style(tmp_path):
    path = excel_workbook(tmp_path / "b.xlsx", {"T": [["A"], [dt.date(2026, 1, 1)]]})
    patched(path, {"T": TabEdit({(2, 1): None})})
    assert '<c r="A2" s="1"/>' in sheet_xml(path)


def test_a_merged_range_over_a_written_cell_is_unmerged_others_stay(tmp_path):
    path = write_workbook(tmp_path / "b.xlsx", {"T": [["A", "Comments"], ["x"]]})
    workbook = openpyxl.load_workbook(path)
    workbook["T"].merge_cells("B1:D1")
    workbook["T"].merge_cells("A3:B3")
    workbook.save(path)
    patched(path, {"T": TabEdit({(1, 3): "Status"})})
    workbook = openpyxl.load_workbook(path)
    assert [str(r) for r in workbook["T"].merged_cells.ranges] == ["A3:B3"]
    assert workbook["T"]["C1"].value == "Status"


def test_overwriting_a_formula_drops_the_calculation_chain_and_keeps_shared_results(tmp_path):
    path = excel_workbook(tmp_path / "b.xlsx", {"T": [["Status"], [Formula("1+1", 2)]]})
    # Make B2:B4 one shared formula defined in A2, the way Excel fills a formula down.
    parts = parts_of(path)
    xml = parts["xl/worksheets/sheet1.xml"].decode()
    xml = xml.replace(
        '<c r="A2"><f>1+1</f><v>2</v></c>',
        '<c r="A2"><f t="shared" ref="A2:A4" si="0">1+1</f><v>2</v></c>',
    ).replace(
        "</row></sheetData>",
        '</row><row r="3"><c r="A3"><f t="shared" si="0"/><v>2</v></c></row>'
        '<row r="4"><c r="A4"><f t="shared" si="0"/><v>2</v></c></row></sheetData>',
    )
    parts["xl/worksheets/sheet1.xml"] = xml.encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    patched(path, {"T": TabEdit({(2, 1): "Sent"})})
    after = parts_of(path)
    assert "xl/calcChain.xml" not in after
    assert b"calcChain" not in after["[Content_Types].xml"]
    assert b"calcChain" not in after["xl/_rels/workbook.xml.rels"]
    xml = after["xl/worksheets/sheet1.xml"].decode()
    assert "<f" not in xml  # no cell refers to a shared formula that is gone
    assert read_grid(Package(path.read_bytes()), "T").values == [["Status"], ["Sent"], [2], [2]]
    openpyxl.load_workbook(path)


def test_a_new_tab_is_added_to_the_workbook_its_relationships_and_content_types(tmp_path):
    path = excel_workbook(tmp_path / "b.xlsx", {"T": [["A"]]}, picture_on="T")
    before = parts_of(path)
    package = patched(path, new_tabs={"Run Log": [["When", "Job"], ["2026-11-30", "x"]]})
    assert package.titles() == ["T", "Run Log"]
    workbook = openpyxl.load_workbook(path)
    assert [list(r) for r in workbook["Run Log"].iter_rows(values_only=True)] == [
        ["When", "Job"],
        ["2026-11-30", "x"],
    ]
    after = parts_of(path)
    new = set(after) - set(before)
    assert new == {"xl/worksheets/sheet2.xml"}
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {"[Content_Types].xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels"}


def test_replacing_a_tab_keeps_its_column_widths_and_drops_old_cells_and_merges(tmp_path):
    path = excel_workbook(tmp_path / "b.xlsx", {"T": [["old", "old"], ["old"] * 5]})
    parts = parts_of(path)
    parts["xl/worksheets/sheet1.xml"] = parts["xl/worksheets/sheet1.xml"].replace(
        b"</sheetData>", b'</sheetData><mergeCells count="1"><mergeCell ref="A1:B1"/></mergeCells>'
    )
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    package = patched(path, {"T": TabEdit(rows=[["new"], [], ["x", 3]])})
    assert read_grid(package, "T").values == [["new"], [], ["x", 3]]
    xml = sheet_xml(path)
    assert '<col min="1" max="3" width="24" customWidth="1"/>' in xml
    assert "mergeCell" not in xml and '<dimension ref="A1:B3"/>' in xml


def test_prefixed_xml_and_rows_without_numbers_are_patched(tmp_path):
    path = excel_workbook(tmp_path / "b.xlsx", {"T": [["a"], ["b"], ["c"]]})
    parts = parts_of(path)
    xml = parts["xl/worksheets/sheet1.xml"].decode()
    # Some generators write a namespace prefix and leave out row and cell numbers.
    xml = re.sub(r' (?:r|spans)="[A-Z]*\d+(?::\d+)?"', "", xml)
    xml = re.sub(
        r"<(/?)(worksheet|dimension|sheetViews|sheetView|sheetFormatPr|cols|col|"
        r"sheetData|row|c|v|f|is|t|pageMargins)\b",
        r"<\1x:\2",
        xml,
    )
    xml = xml.replace('xmlns="http', 'xmlns:x="http', 1)
    parts["xl/worksheets/sheet1.xml"] = xml.encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    assert read_grid(Package(path.read_bytes()), "T").values == [["a"], ["b"], ["c"]]
    package = patched(path, {"T": TabEdit({(2, 2): "B2", (4, 1): "d"})})
    assert read_grid(package, "T").values == [["a"], ["b", "B2"], ["c"], ["d"]]
    assert "<x:c " in sheet_xml(path)


def test_very_long_text_is_cut_to_what_excel_accepts(tmp_path):
    path = excel_workbook(tmp_path / "b.xlsx", {"T": [["a"]]})
    package = patched(path, {"T": TabEdit({(1, 1): "x" * 40_000})})
    value = read_grid(package, "T").values[0][0]
    assert isinstance(value, str) and len(value) == 32_767 and value.endswith("…")


def _rewrite_sheet(path, change) -> None:
    parts = parts_of(path)
    parts["xl/worksheets/sheet1.xml"] = change(parts["xl/worksheets/sheet1.xml"].decode()).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def test_a_cell_text_that_looks_like_a_cell_reference_is_not_taken_for_the_cell(tmp_path):
    path = excel_workbook(tmp_path / "b.xlsx", {"T": [["a"], ["x", "old"]]})
    # Text may hold quotes: a note reading  r="B2"  must not be overwritten as cell B2.
    _rewrite_sheet(
        path,
        lambda xml: xml.replace(
            '<c r="A2" t="s"><v>1</v></c>',
            '<c r="A2" t="inlineStr"><is><t>see r="B2" here</t></is></c>',
        ),
    )
    assert read_grid(Package(path.read_bytes()), "T").values[1] == ['see r="B2" here', "old"]
    package = patched(path, {"T": TabEdit({(2, 2): "new", (2, 3): "added"})})
    assert read_grid(package, "T").values[1] == ['see r="B2" here', "new", "added"]


def test_pretty_printed_rows_empty_rows_and_cells_out_of_order_are_patched(tmp_path):
    path = excel_workbook(tmp_path / "b.xlsx", {"T": [["a", "b"], ["c", "d"], ["e"]]})

    def reshape(xml: str) -> str:
        # Some generators indent rows, write a row without cells as <row .../>, put a
        # space before ">" and list a row's cells out of column order.
        xml = xml.replace("<row ", "\n  <row ").replace("</sheetData>", "\n</sheetData>")
        xml = re.sub(r'<row r="3"([^>]*)>.*?</row>', r'<row r="3"\1 />', xml)
        xml = xml.replace('<row r="1"', '<row r="1" ', 1)
        return re.sub(r'(<c r="A2"[^>]*>.*?</c>)(<c r="B2"[^>]*>.*?</c>)', r"\2\1", xml, flags=re.S)

    _rewrite_sheet(path, reshape)
    assert read_grid(Package(path.read_bytes()), "T").values == [["a", "b"], ["c", "d"]]
    edits = {(1, 3): "new", (2, 1): "C", (2, 2): "D", (3, 2): "F"}
    package = patched(path, {"T": TabEdit(edits)})
    assert read_grid(package, "T").values == [["a", "b", "new"], ["C", "D"], [None, "F"]]
    openpyxl.load_workbook(path)


def test_a_row_cut_by_the_read_chunk_is_patched_whole(tmp_path):
    # Rows long enough that some straddle the 1 MiB chunks the sheet is read in.
    long = "x" * 300_000
    rows = [["Name", "Notes"]] + [[f"n{i}", long] for i in range(10)]
    path = excel_workbook(tmp_path / "b.xlsx", {"T": rows})
    edits = {(row, 3): f"status {row}" for row in range(2, 12)}
    package = patched(path, {"T": TabEdit(edits)})
    values = read_grid(package, "T").values
    assert [row[2] for row in values[1:]] == [f"status {row}" for row in range(2, 12)]
    assert all(row[1] == long for row in values[1:])
