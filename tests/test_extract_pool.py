"""Extraction in worker processes gives the same reports and errors as extraction inline."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from archive.extract import ExtractionError, extract
from archive.extract.pool import ExtractionPool

PAGES = sorted((Path(__file__).resolve().parent.parent / "fixtures" / "pages").glob("*.html"))[:6]
URL = "http://www.example.gov.cn/art/2024/2/29/art_1_2.html"


def run(pool: ExtractionPool, body: bytes):
    return asyncio.run(pool.extract(body, URL))


@pytest.mark.parametrize("workers", [0, 1])
def test_pool_gives_the_same_report_as_inline(workers):
    pool = ExtractionPool(workers)
    try:
        for page in PAGES:
            body = page.read_bytes()
            assert run(pool, body).to_dict() == extract(body, URL).to_dict(), page.name
    finally:
        pool.close()


def test_errors_cross_the_process_boundary_with_their_kind():
    pool = ExtractionPool(1)
    try:
        with pytest.raises(ExtractionError) as caught:
            run(pool, b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")
        assert caught.value.kind == "binary"
    finally:
        pool.close()
