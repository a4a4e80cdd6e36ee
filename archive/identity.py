"""Which reports are the same document: the canonical form of a 文号, a body's SimHash, and the keys
that link two reports of one document.

The same 文件 is published on several sites and columns (转发, 转载) with its 文号 written in different
ways: `国办发〔2024〕7号`, `国办发[2024]7号`, full-width `国办发（２０２４）第７号`. `doc_number_key`
folds those into one canonical form (`国办发〔2024〕7号`), kept beside the original. Two reports are one
document when they share
- the canonical 文号 and the issuer,
- a near-identical body: SimHash over character shingles within SIMHASH_DISTANCE bits, or
- the attachment, when the page is only a wrapper for it (a body shorter than WRAPPER_BODY_CHARS).
`document_keys` gives a report's keys; the store links reports sharing one (archive/store/documents.py).
"""

from __future__ import annotations

import hashlib
import re

# Full-width ASCII (U+FF01–FF5E) to ASCII: the fold the search tokenizer applies to letters and digits.
FULLWIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}
# Brackets a 文号's year is written in: 〔〕 is the standard (GB/T 9704), the others are common mistakes.
OPEN_BRACKETS, CLOSE_BRACKETS = "〔[(（【［〖﹝", "〕])）】］〗﹞"
_FOLD = {**FULLWIDTH, **{ord(c): "〔" for c in OPEN_BRACKETS}, **{ord(c): "〕" for c in CLOSE_BRACKETS}}
_SPACES = re.compile(r"[\s\u3000\u00a0]+")
# …〔2024〕第07号 → …〔2024〕7号: 第 and leading zeros are not part of the number
_NUMBER = re.compile(r"第?0*(\d+)号")

# Characters per shingle: two-character words are everywhere in Chinese; four carry a phrase.
SHINGLE_CHARS = 4
# Bits two SimHashes may differ by and still be one body (of 64): reposts differ by a header line,
# a 转发 preamble or a changed word (3–5 bits on a 400-character body); distinct texts differ by ~32.
SIMHASH_DISTANCE = 5
# Bodies shorter than this have too few shingles for a SimHash to tell documents apart.
MIN_SIMHASH_CHARS = 120
# Characters a SimHash reads (from the start): a repost copies the whole text, so its first pages tell;
# this bounds the cost (about 1 ms per 1,000 characters) on the longest bodies.
MAX_SIMHASH_CHARS = 4000
# A page whose body is shorter than this is a wrapper for its attachments (详见附件): their bytes are the
# document. A long body with an attachment is a document of its own, whatever it attaches.
WRAPPER_BODY_CHARS = 200
# SimHash bands: with at most SIMHASH_DISTANCE differing bits, two hashes agree on one of
# SIMHASH_DISTANCE + 1 bands (pigeonhole), so candidates are found by equal bands through an index.
SIMHASH_BANDS = SIMHASH_DISTANCE + 1
_TEXT_CHARS = re.compile(r"[\W_]+")
# byte value → its bits spread one per 32-bit lane (a count of up to 4 billion shingles per lane)
_LANES = [sum(1 << (32 * bit) for bit in range(8) if byte >> bit & 1) for byte in range(256)]


def fold(text: str) -> str:
    """Full-width letters and digits to ASCII, every bracket to 〔〕, no spaces."""
    return _SPACES.sub("", text.translate(_FOLD))


def doc_number_key(doc_number: str | None) -> str | None:
    """The canonical form of a 文号 (`国办发（２０２４）第７号` → `国办发〔2024〕7号`), or None."""
    if not doc_number:
        return None
    key = _NUMBER.sub(r"\1号", fold(doc_number))
    return key[:200] or None


def doc_number_query(text: str) -> str:
    """A 文号 or a piece of one, as `search --doc-number` looks for it among the canonical forms."""
    return _NUMBER.sub(r"\1号", fold(text))


def issuer_key(issuer: str | None) -> str:
    return fold(issuer or "")


def simhash(text: str) -> int | None:
    """64-bit SimHash of the text's character shingles (letters and digits only), None if too short."""
    chars = _TEXT_CHARS.sub("", (text or "")[: 2 * MAX_SIMHASH_CHARS].translate(FULLWIDTH)).lower()
    chars = chars[:MAX_SIMHASH_CHARS]
    if len(chars) < MIN_SIMHASH_CHARS:
        return None
    # counted per byte value of each of the 8 hash bytes (8 steps a shingle, not 64), bits summed after
    counts = [[0] * 256 for _ in range(8)]
    shingles = {chars[i:i + SHINGLE_CHARS] for i in range(len(chars) - SHINGLE_CHARS + 1)}
    for shingle in shingles:
        digest = hashlib.blake2b(shingle.encode("utf-8"), digest_size=8).digest()
        for position, byte in enumerate(digest):
            counts[position][byte] += 1
    value = 0
    for position in range(8):
        # the eight bits' counts at once, each in its own 32-bit lane of one integer
        lanes = sum(n * _LANES[byte] for byte, n in enumerate(counts[position]) if n)
        for bit in range(8):
            if 2 * (lanes >> (32 * bit) & 0xFFFFFFFF) > len(shingles):
                value |= 1 << (8 * (7 - position) + bit)
    return value


def distance(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def simhash_hex(value: int | None) -> str | None:
    return None if value is None else f"{value:016x}"


def document_keys(doc_number: str | None, issuer: str | None, body_simhash: int | None) -> list[str]:
    """The keys a report shares with the other reports of its document (attachment keys: `file_key`)."""
    keys = []
    if number := doc_number_key(doc_number):
        keys.append(f"doc:{number}|{issuer_key(issuer)}"[:300])
    if body_simhash is not None:
        keys += [f"sim{i}:{band:x}" for i, band in enumerate(simhash_bands(body_simhash))]
    return keys


def simhash_bands(value: int) -> list[int]:
    """The hash cut into SIMHASH_BANDS runs of bits (11, 11, 11, 11, 10, 10 for six bands)."""
    bands, start = [], 0
    for i in range(SIMHASH_BANDS):
        width = 64 // SIMHASH_BANDS + (1 if i < 64 % SIMHASH_BANDS else 0)
        bands.append(value >> start & ((1 << width) - 1))
        start += width
    return bands


def file_key(sha256: str) -> str:
    return f"file:{sha256}"
