"""Spreadsheets: XLSX through openpyxl (read-only, values not formulas), XLS through xlrd. A sheet is
its name on a line, then one line per row with the cells' text separated by tabs."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime

import openpyxl
import xlrd

from archive.filetext.result import DAMAGED, MAX_EXPANDED_BYTES, TOO_LARGE, FileText, TextCollector

# Parts openpyxl inflates besides the sheets themselves: only their sizes count towards the budget.
XLSX_TEXT_PARTS = ("xl/sharedStrings.xml", "xl/workbook.xml")


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _row(values) -> str:
    cells = [_cell(v) for v in values]
    while cells and not cells[-1]:
        cells.pop()
    return "\t".join(cells)


def read_xlsx(body: bytes) -> FileText:
    expanded = sum(info.file_size for info in zipfile.ZipFile(io.BytesIO(body)).infolist()
                   if info.filename.startswith("xl/worksheets/") or info.filename in XLSX_TEXT_PARTS)
    if expanded > MAX_EXPANDED_BYTES:
        return FileText(TOO_LARGE, kind="xlsx",
                        detail=f"its sheets expand to {expanded:,} bytes, past the {MAX_EXPANDED_BYTES:,} read")
    book = openpyxl.load_workbook(io.BytesIO(body), read_only=True, data_only=True)
    try:
        out = TextCollector()
        for sheet in book.worksheets:
            out.add(sheet.title)
            for values in sheet.iter_rows(values_only=True):
                out.add(_row(values))
                if out.full:
                    return out.result("xlsx")
        return out.result("xlsx")
    finally:
        book.close()


def read_xls(body: bytes) -> FileText:
    try:
        book = xlrd.open_workbook(file_contents=body, on_demand=True)
    except xlrd.XLRDError as exc:
        return FileText(DAMAGED, kind="xls", detail=str(exc)[:500])
    try:
        out = TextCollector()
        for index in range(book.nsheets):
            sheet = book.sheet_by_index(index)
            out.add(sheet.name)
            for number in range(sheet.nrows):
                out.add(_row(_xls_value(book, cell) for cell in sheet.row(number)))
                if out.full:
                    return out.result("xls")
            book.unload_sheet(index)
        return out.result("xls")
    finally:
        book.release_resources()


def _xls_value(book, cell):
    if cell.ctype == xlrd.XL_CELL_DATE:
        try:
            return xlrd.xldate.xldate_as_datetime(cell.value, book.datemode)
        except (ValueError, OverflowError):
            return cell.value
    if cell.ctype in (xlrd.XL_CELL_ERROR, xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return None
    return cell.value
