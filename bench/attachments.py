"""Attachment text benchmark: archive.filetext per format, against a baseline measured in the same run.

    python bench/attachments.py [--rounds N] [--pages N]

For each format a document of known text is generated (fixtures/documents.py): a PDF of N pages of
Chinese text, an OFD of N pages, a DOCX, an XLSX and an XLS of about the same text. Each is read
`--rounds` times by `read_file_text`; the figures are documents/s, pages/s (PDF, OFD), MB/s of input
(and, for the zip formats, of the XML inflated from it) and characters/s of text out. The baseline is the least a reader of that format must do: for a PDF,
pdfium's own loop (open, load each page's text page, get its text) with nothing of ours around it;
for the zip formats, inflating their members (zipfile) with no XML parsing; for XLS, xlrd's open of
the workbook and a walk over every cell. "ratio" is our time over the baseline's.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pypdfium2 as pdfium  # noqa: E402
import xlrd  # noqa: E402

from archive.filetext import read_file_text  # noqa: E402
from fixtures import documents  # noqa: E402

LINE = "为深入贯彻落实党中央、国务院决策部署，进一步优化营商环境，激发市场主体活力，结合本市实际，制定本方案。"
LINES_PER_PAGE = 40


def corpus(pages: int) -> dict[str, tuple[bytes, int]]:
    """format → (bytes, pages); DOCX/XLSX/XLS count as one page per LINES_PER_PAGE lines."""
    lines = [[f"{n + 1}. {LINE}" for n in range(LINES_PER_PAGE)] for _ in range(pages)]
    flat = [line for page in lines for line in page]
    rows = [[f"项目{n}", LINE[:20], n * 1.5, n] for n in range(len(flat))]
    return {
        "pdf": (documents.pdf_with_text(lines), pages),
        "ofd": (documents.ofd(lines), pages),
        "docx": (documents.docx(flat), pages),
        "xlsx": (documents.xlsx({"表1": rows}), pages),
        "xls": (documents.xls({"表1": rows[:65000]}), pages),
    }


def baseline(kind: str, body: bytes) -> int:
    if kind == "pdf":
        document = pdfium.PdfDocument(body)
        size = 0
        for number in range(len(document)):
            page = document[number]
            textpage = page.get_textpage()
            size += len(textpage.get_text_range())
            textpage.close()
            page.close()
        document.close()
        return size
    if kind == "xls":
        book = xlrd.open_workbook(file_contents=body)
        return sum(len(str(c.value)) for s in book.sheets() for r in range(s.nrows) for c in s.row(r))
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        return sum(len(archive.read(info)) for info in archive.infolist())


def inflated_bytes(body: bytes) -> int:
    """The zip formats' members inflated (what their readers parse); 0 for the others."""
    if not zipfile.is_zipfile(io.BytesIO(body)):
        return 0
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        return sum(info.file_size for info in archive.infolist())


def timed(function, rounds: int) -> float:
    function()  # warm: imports, caches
    start = time.perf_counter()
    for _ in range(rounds):
        function()
    return (time.perf_counter() - start) / rounds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--pages", type=int, default=50)
    args = parser.parse_args(argv)
    print(f"attachment text: {args.pages}-page documents, {args.rounds} rounds each")
    print(f"{'format':<6} {'size':>9} {'inflated':>9} {'chars':>9} {'docs/s':>8} {'pages/s':>9} {'MB/s':>7} "
          f"{'xml MB/s':>8} {'Mchar/s':>8} {'baseline':>10} {'ratio':>6}")
    for kind, (body, pages) in corpus(args.pages).items():
        found = read_file_text(body)
        assert found.status == "text", (kind, found)
        ours = timed(lambda body=body: read_file_text(body), args.rounds)
        base = timed(lambda kind=kind, body=body: baseline(kind, body), args.rounds)
        megabytes = len(body) / 1e6
        inflated = inflated_bytes(body)
        xml = f"{inflated / 1e6 / ours:>8.1f}" if inflated else f"{'—':>8}"
        print(f"{kind:<6} {len(body) / 1024:>7.0f}KB {(f'{inflated / 1024:.0f}KB' if inflated else '—'):>9} "
              f"{found.length:>9,} {1 / ours:>8.1f} {pages / ours:>9.0f} {megabytes / ours:>7.1f} {xml} "
              f"{found.length / ours / 1e6:>8.2f} {base * 1000:>8.1f}ms {ours / base:>6.2f}")
    bomb = documents.zip_bomb_docx()
    refused = timed(lambda: read_file_text(bomb), args.rounds)
    print(f"zip bomb ({len(bomb) / 1024:.0f} KB declaring 100 MB): refused in {refused * 1000:.2f} ms "
          f"({read_file_text(bomb).status})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
