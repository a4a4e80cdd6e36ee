"""Attachment text (archive/filetext): every format with known text, and the files that have none —
a scan, a damaged PDF, a zip bomb dressed as a DOCX, DOC without a reader — recorded, never raised."""

from __future__ import annotations

import importlib
import io
import zipfile

import pytest

from archive.filetext import read_file_text, sniff
from archive.filetext import result as limits
from fixtures import documents
from fixtures.site.files import file_bytes

TEXT_CASES = {
    "pdf": (lambda: documents.pdf_with_text([["财政预算执行情况", "second line"], ["第二页"]]),
            "财政预算执行情况\nsecond line\n第二页"),
    "docx": (lambda: documents.docx(["关于印发实施方案的通知", "各区人民政府：现将方案印发给你们。"]),
             "关于印发实施方案的通知\n各区人民政府：现将方案印发给你们。"),
    "xlsx": (lambda: documents.xlsx({"收入": [["项目", "金额"], ["一般公共预算收入", 12345]], "空表": []}),
             "收入\n项目\t金额\n一般公共预算收入\t12345\n空表"),
    "xls": (lambda: documents.xls({"支出": [["项目", "金额"], ["教育支出", 678.5]]}), "支出\n项目\t金额\n教育支出\t678.5"),
    "ofd": (lambda: documents.ofd([["青岚市人民政府文件", "青政发〔2024〕3号"], ["第二页"]]),
            "青岚市人民政府文件\n青政发〔2024〕3号\n第二页"),
}


@pytest.mark.parametrize("kind", sorted(TEXT_CASES))
def test_each_format_gives_its_text(kind):
    make, expected = TEXT_CASES[kind]
    found = read_file_text(make(), None, f"http://example.gov.cn/files/a.{kind}")
    assert (found.status, found.kind, found.text) == ("text", kind, expected)
    assert found.length == len(expected)


@pytest.mark.parametrize("kind", sorted(TEXT_CASES))
def test_the_format_is_told_by_the_bytes_not_the_name(kind):
    body = TEXT_CASES[kind][0]()
    assert sniff(body, "application/octet-stream", "http://example.gov.cn/download.jsp?id=7") == kind


def test_a_scan_has_no_text_layer():
    found = read_file_text(documents.scanned_pdf(), "application/pdf")
    assert found.status == "no text layer" and found.text == "" and "OCR" in found.detail


def test_a_damaged_pdf_is_recorded_as_damaged():
    found = read_file_text(documents.damaged_pdf(), "application/pdf")
    assert found.status == "damaged" and found.detail


def test_a_truncated_docx_is_damaged():
    body = documents.docx(["一段文字"])
    assert read_file_text(body[: len(body) // 2]).status in ("damaged", "not a document")


def test_a_zip_bomb_disguised_as_docx_is_too_large_and_never_inflated():
    found = read_file_text(documents.zip_bomb_docx(), None, "http://example.gov.cn/a.docx")
    assert found.status == "too large" and "word/document.xml" in found.detail


def test_a_file_past_the_size_limit_is_not_read(monkeypatch):
    monkeypatch.setattr(importlib.import_module("archive.filetext.formats"), "MAX_FILE_BYTES", 100)
    assert read_file_text(documents.docx(["x" * 200])).status == "too large"


def test_text_is_cut_at_the_limit_and_says_so(monkeypatch):
    monkeypatch.setattr(limits, "MAX_TEXT_CHARS", 10)
    found = read_file_text(documents.docx(["一二三四五六七八", "九十十一十二十三"]))
    assert found.status == "text" and found.length <= 12 and "cut" in found.detail


def test_doc_without_antiword_or_catdoc_is_not_extractable(monkeypatch):
    monkeypatch.setattr("archive.filetext.legacy.shutil.which", lambda name: None)
    found = read_file_text(file_bytes("doc", "x"), "application/msword", "http://example.gov.cn/a.doc")
    assert (found.status, found.kind) == ("not extractable", "doc")
    assert "antiword" in found.detail


def test_a_doc_the_tools_refuse_is_not_extractable_with_their_reason():
    found = read_file_text(file_bytes("wps", "x"), "application/kswps", "http://example.gov.cn/a.wps")
    assert found.status == "not extractable" and found.kind == "wps"


@pytest.mark.parametrize("body", [file_bytes("png", "x"), b"", b"plain text", b"PK\x03\x04broken"])
def test_what_is_not_a_document_says_so(body):
    assert read_file_text(body).status == "not a document"


def test_an_empty_spreadsheet_is_empty_not_text():
    found = read_file_text(documents.xlsx({"Sheet": []}))
    assert found.status == "text" and found.text == "Sheet"  # the sheet's name is its only text
    blank_ofd = documents.ofd([[]])
    assert read_file_text(blank_ofd).status == "empty"


def test_hostile_xml_entities_are_not_expanded():
    bomb = ('<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
            f'<w:document xmlns:w="{documents.W_NS}"><w:body><w:p><w:r><w:t>&b;</w:t></w:r></w:p></w:body></w:document>')
    body = documents._zip([("word/document.xml", bomb)])
    found = read_file_text(body)
    assert found.status in ("text", "empty", "damaged") and "aaaaaaaaaaaaaaaaaaaa" not in found.text


def test_the_fixture_portal_files_are_read():
    found = read_file_text(file_bytes("pdf", "k1"), "application/pdf")
    assert found.status == "text" and "k1" in found.text
    assert zipfile.is_zipfile(io.BytesIO(file_bytes("ofd", "k1")))
