"""The search tokenizer shared by the index and the query compiler.

Chinese has no spaces, so a CJK run is indexed as overlapping bigrams plus its last character
(`财政预算` → `财政 政预 预算 算`). Every character of a run is then the first character of some token,
so a one-character query is a prefix query (`财*`) and a longer one is a phrase of adjacent bigrams.
Other letters and digits form lowercase words; full-width `ＡＢＣ１２` matches `abc12`. The same token stream feeds SQLite FTS5 and PostgreSQL tsvector, which is what
makes both backends return the same hits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from operator import add

CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
RUN_RE = re.compile(rf"([{CJK}]+)|([^\W_{CJK}]+)")
# PostgreSQL limits a lexeme to 2 KB; longer "words" are noise (hashes, base64) and are skipped everywhere.
MAX_TOKEN_CHARS = 100


@dataclass(frozen=True)
class Run:
    """A run of CJK characters or one word of other letters/digits, as it appears in the text."""

    text: str
    cjk: bool


FULLWIDTH_RE = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")
FULLWIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}


def _normalise(text: str) -> str:
    """Lowercase, full-width letters and digits folded to ASCII (ＡＢＣ１２ → abc12). Full NFKC
    would do more but costs as much as the rest of tokenizing; punctuation separates tokens anyway."""
    if FULLWIDTH_RE.search(text):
        text = text.translate(FULLWIDTH)
    return text.lower()


def runs(text: str) -> list[Run]:
    """Split text into CJK runs and lowercase words; punctuation and spaces separate them."""
    text = _normalise(text or "")
    out = []
    for m in RUN_RE.finditer(text):
        if m.group(1):
            out.append(Run(m.group(1), True))
        elif len(m.group(2)) <= MAX_TOKEN_CHARS:
            out.append(Run(m.group(2), False))
    return out


def run_tokens(run: Run) -> list[str]:
    """Index tokens of one run: bigrams plus the final character for CJK, the word otherwise."""
    if not run.cjk:
        return [run.text]
    s = run.text
    return [s[i : i + 2] for i in range(len(s) - 1)] + [s[-1]]


def index_tokens(text: str) -> list[str]:
    """The token stream stored in the index for a piece of text, in order (same as run_tokens
    over runs(), written for speed: it runs over every stored body)."""
    out: list[str] = []
    for cjk, word in RUN_RE.findall(_normalise(text or "")):
        if cjk:
            if len(cjk) > 1:
                out.extend(map(add, cjk, cjk[1:]))
            out.append(cjk[-1])
        elif len(word) <= MAX_TOKEN_CHARS:
            out.append(word)
    return out


def query_tokens(text: str) -> tuple[list[str], bool]:
    """Tokens a query word must match as a phrase, and whether the last one is a prefix.

    Runs before the last give exactly their index tokens (so the next run starts right after them,
    as in the index). The last run gives only its bigrams if it is CJK of two or more characters (the
    text may continue in the document), or a prefix token if it is one CJK character, which then
    matches any token it starts: a bigram or a run's final character.
    """
    tokens: list[str] = []
    parts = runs(text)
    for run in parts[:-1]:
        tokens.extend(run_tokens(run))
    if not parts:
        return [], False
    last = parts[-1]
    if last.cjk and len(last.text) == 1:
        return tokens + [last.text], True
    if last.cjk:
        return tokens + [last.text[j : j + 2] for j in range(len(last.text) - 1)], False
    return tokens + [last.text], False
