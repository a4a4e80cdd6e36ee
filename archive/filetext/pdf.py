"""PDF: the text layer, page by page, through pdfium (pypdfium2, BSD/Apache). A PDF whose pages carry
no text at all is a scan (`no text layer`), not an empty success."""

from __future__ import annotations

import pypdfium2 as pdfium

from archive.filetext.result import DAMAGED, ENCRYPTED, MAX_PDF_PAGES, NO_TEXT_LAYER, FileText, TextCollector

# pdfium's error for a password it was not given (FPDF_ERR_PASSWORD).
_PASSWORD_ERROR = "password"


def read_pdf(body: bytes) -> FileText:
    try:
        document = pdfium.PdfDocument(body)
    except pdfium.PdfiumError as exc:
        status = ENCRYPTED if _PASSWORD_ERROR in str(exc).lower() else DAMAGED
        return FileText(status, kind="pdf", detail=str(exc)[:500])
    try:
        out = TextCollector()
        pages = len(document)
        for number in range(min(pages, MAX_PDF_PAGES)):
            page = document[number]
            try:
                textpage = page.get_textpage()
                try:
                    for line in textpage.get_text_range().splitlines():
                        out.add(line)
                finally:
                    textpage.close()
            finally:
                page.close()
            if out.full:
                break
        result = out.result("pdf", NO_TEXT_LAYER, f"{pages} page(s) of images only: a scan, readable only by OCR")
        if pages > MAX_PDF_PAGES and not out.full:
            result.detail = f"only the first {MAX_PDF_PAGES} of {pages} pages read"
        return result
    finally:
        document.close()
