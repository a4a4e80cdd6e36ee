"""The outcome of reading a file's text, and the limits every reader keeps to."""

from __future__ import annotations

from dataclasses import dataclass

# Statuses, as users see them in `show --json`, exports and the web interface.
TEXT = "text"  # text was extracted
EMPTY = "empty"  # a readable document with no text in it (an empty sheet, a blank page)
NO_TEXT_LAYER = "no text layer"  # a PDF of page images (a scan): OCR could read it, we do not
DAMAGED = "damaged"  # the bytes are not a valid file of the format they claim
ENCRYPTED = "encrypted"  # password-protected
TOO_LARGE = "too large"  # past a limit below (a zip bomb among them)
NOT_EXTRACTABLE = "not extractable"  # a format we know but cannot read here (DOC/WPS without antiword/catdoc)
NOT_A_DOCUMENT = "not a document"  # an image, an archive, anything without text to read
FAILED = "failed"  # the reader ran out of time or crashed its worker

# Files above this are not read at all: a disclosure attachment of text is rarely past a few MB, and the
# reader holds the whole file in memory.
MAX_FILE_BYTES = 64 * 1024 * 1024
# The bytes a zip-based document (DOCX, XLSX, OFD) may expand to in the parts we read: a 300-page DOCX's
# document.xml is ~10 MB; a zip bomb declares gigabytes (Python's zipfile never inflates past the declared
# size, so checking the declared sizes bounds what is read).
MAX_EXPANDED_BYTES = 48 * 1024 * 1024
# Text kept per file: about 1,000 pages of Chinese. The rest is cut and the detail says so.
MAX_TEXT_CHARS = 2_000_000
# PDF pages read: past this the text is cut (a 2,000-page statistical yearbook is not searched whole).
MAX_PDF_PAGES = 2000
# Seconds antiword/catdoc may run on one DOC/WPS file.
TOOL_TIMEOUT_SECONDS = 30.0


@dataclass
class FileText:
    """What a file says. `kind` is the format found (pdf, docx, xlsx, xls, ofd, doc, wps) or None."""

    status: str
    text: str = ""
    kind: str | None = None
    detail: str = ""  # why there is no text, or that it was cut

    @property
    def length(self) -> int:
        return len(self.text)


class TextCollector:
    """Lines of text up to MAX_TEXT_CHARS; `full` once the limit is reached, so readers can stop early."""

    def __init__(self, limit: int | None = None) -> None:
        self.lines: list[str] = []
        self.size = 0
        self.limit = MAX_TEXT_CHARS if limit is None else limit
        self.full = False

    def add(self, line: str) -> None:
        # whitespace (U+3000 too) folded to one space; tabs between spreadsheet cells kept
        cells = [" ".join(cell.replace("\u3000", " ").split()) for cell in line.split("\t")]
        line = "\t".join(cells).strip("\t")
        if not line.strip() or self.full:
            return
        if self.size + len(line) > self.limit:
            line = line[: max(0, self.limit - self.size)]
            self.full = True
        self.lines.append(line)
        self.size += len(line) + 1

    def result(self, kind: str, empty_status: str = EMPTY, empty_detail: str = "") -> FileText:
        text = "\n".join(self.lines)
        if not text:
            return FileText(empty_status, "", kind, empty_detail)
        detail = f"text cut at {self.limit:,} characters" if self.full else ""
        return FileText(TEXT, text, kind, detail)
