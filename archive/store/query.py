"""The search query language: a small parser into an AST, compiled to FTS5 MATCH or a tsquery.

Syntax: words are ANDed (`财政 预算`); `OR` / `|` between terms; `NOT x` or `-x` excludes; `"…"`
is a phrase (spaces between its Chinese characters are ignored, as in writing); parentheses group. Anything that cannot be an operator is literal text: a lone `OR`,
an unbalanced quote (the phrase runs to the end), a stray parenthesis, SQL fragments — they are
split into words like any other text. The compiled strings contain only our own tokens (letters,
digits, CJK) and operators, and are passed as bound parameters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from archive.store.tokens import CJK, query_tokens

MAX_QUERY_CHARS = 1000
MAX_TERMS = 64
MAX_DEPTH = 16


class QueryError(ValueError):
    """The query cannot be run; the message says why in words a user understands."""


@dataclass(frozen=True)
class Term:
    """A word or quoted phrase: its tokens must appear adjacent, the last one maybe as a prefix."""

    text: str
    tokens: tuple[str, ...]
    prefix: bool


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


Node = Term | And | Or | Not

# Chinese is written without spaces: inside a quoted phrase, a space between two Chinese characters
# only separates words for the reader ("安全生产 责任制" is the phrase 安全生产责任制).
PHRASE_CJK_SPACE = re.compile(rf"(?<=[{CJK}])\s+(?=[{CJK}])")
LEX_RE = re.compile(r'"([^"]*)"?|(\()|(\))|(\|)|(-)(?=[^\s\-)|])|([^\s()|"]+)')


def _lex(query: str) -> list[tuple[str, str]]:
    """Lexical tokens: ("phrase", text), ("word", text), ("(", ""), (")", ""), ("or"|"and"|"not"|"-", "")."""
    out = []
    for m in LEX_RE.finditer(query):
        phrase, lp, rp, bar, minus, word = m.groups()
        if phrase is not None:
            out.append(("phrase", PHRASE_CJK_SPACE.sub("", phrase)))
        elif lp:
            out.append(("(", ""))
        elif rp:
            out.append((")", ""))
        elif bar:
            out.append(("or", ""))
        elif minus:
            out.append(("-", ""))
        elif word in ("AND", "OR", "NOT"):
            out.append((word.lower(), word))
        else:
            out.append(("word", word))
    return out


def _balance(lexed: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Drop parentheses that have no partner, so the parser only sees well-formed groups."""
    depth, keep = 0, [True] * len(lexed)
    opens = []
    for i, (kind, _) in enumerate(lexed):
        if kind == "(":
            opens.append(i)
            depth += 1
        elif kind == ")":
            if opens:
                opens.pop()
            else:
                keep[i] = False
    for i in opens:
        keep[i] = False
    return [t for t, k in zip(lexed, keep, strict=True) if k]


class _Parser:
    def __init__(self, lexed: list[tuple[str, str]]):
        self.toks = lexed
        self.i = 0
        self.terms = 0

    def peek(self) -> str | None:
        return self.toks[self.i][0] if self.i < len(self.toks) else None

    def starts_operand(self, kind: str | None) -> bool:
        return kind in ("phrase", "word", "(", "not", "-")

    def parse_or(self, depth: int) -> Node | None:
        items = [self.parse_and(depth)]
        while self.peek() == "or":
            self.i += 1
            items.append(self.parse_and(depth))
        items = [x for x in items if x is not None]
        if not items:
            return None
        return items[0] if len(items) == 1 else Or(tuple(items))

    def parse_and(self, depth: int) -> Node | None:
        items: list[Node] = []
        while True:
            kind = self.peek()
            if kind is None or kind == ")" or kind == "or":
                break
            if kind == "and":
                self.i += 1
                continue
            node = self.parse_unary(depth)
            if node is not None:
                items.append(node)
        if not items:
            return None
        return items[0] if len(items) == 1 else And(tuple(items))

    def parse_unary(self, depth: int) -> Node | None:
        kind, value = self.toks[self.i]
        if kind in ("not", "-"):
            self.i += 1
            if not self.starts_operand(self.peek()):
                return self.literal(value)  # a lone NOT is just the word "not"
            inner = self.parse_unary(depth)
            return Not(inner) if inner is not None else None
        if kind == "(":
            if depth >= MAX_DEPTH:
                raise QueryError(f"the query nests parentheses deeper than {MAX_DEPTH} levels")
            self.i += 1
            node = self.parse_or(depth + 1)
            if self.peek() == ")":
                self.i += 1
            return node
        self.i += 1
        return self.literal(value)

    def literal(self, text: str) -> Term | None:
        tokens, prefix = query_tokens(text)
        if not tokens:
            return None  # punctuation only: nothing to look for
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise QueryError(f"the query has more than {MAX_TERMS} terms")
        return Term(text, tuple(tokens), prefix)


def parse(query: str) -> Node:
    """Parse a user query; raises QueryError when nothing searchable remains or it is too large."""
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError(f"the query is {len(query)} characters long; the limit is {MAX_QUERY_CHARS}")
    lexed = _balance(_lex(query))
    # an operator with no operand on one side is literal text ("OR" alone, "财政 OR", "AND 预算")
    fixed = []
    for i, (kind, value) in enumerate(lexed):
        if kind in ("or", "and"):
            before = fixed[-1][0] if fixed else None
            after = lexed[i + 1][0] if i + 1 < len(lexed) else None
            if before not in ("phrase", "word", ")") or after not in ("phrase", "word", "(", "not", "-"):
                kind = "word"
                value = value or "|"
        fixed.append((kind, value))
    node = _Parser(fixed).parse_or(0)
    if node is None:
        raise QueryError("the query has no searchable words (letters, digits or Chinese characters)")
    return _check(_simplify(node))


def _simplify(node: Node) -> Node:
    if isinstance(node, And | Or):
        flat: list[Node] = []
        for item in map(_simplify, node.items):
            flat.extend(item.items if type(item) is type(node) else [item])
        return flat[0] if len(flat) == 1 else type(node)(tuple(flat))
    if isinstance(node, Not):
        inner = _simplify(node.item)
        return inner.item if isinstance(inner, Not) else Not(inner)
    return node


def _check(node: Node) -> Node:
    """Negation only narrows: `a -b` is fine, `-b` alone or `a OR -b` would match nearly everything."""
    if isinstance(node, Not):
        raise QueryError(
            "a query cannot consist only of excluded terms: add a word to look for, e.g. 财政 -预算"
        )
    if isinstance(node, Or):
        for item in node.items:
            if isinstance(item, Not):
                raise QueryError(
                    "an excluded term cannot be an alternative of OR: write e.g. (财政 OR 预算) -草案"
                )
            _check(item)
    if isinstance(node, And):
        if all(isinstance(i, Not) for i in node.items):
            raise QueryError("a query cannot consist only of excluded terms: add a word to look for")
        for item in node.items:
            _check(item.item if isinstance(item, Not) else item)
    return node


def has_not(node: Node) -> bool:
    if isinstance(node, Not):
        return True
    if isinstance(node, Term):
        return False
    return any(has_not(i) for i in node.items)


def positive_terms(node: Node) -> list[Term]:
    """The terms a hit contains (for highlighting); excluded terms are left out."""
    if isinstance(node, Term):
        return [node]
    if isinstance(node, Not):
        return []
    return [t for item in node.items for t in positive_terms(item)]


def to_fts5(node: Node) -> str:
    """An FTS5 MATCH expression. Every token is double-quoted, so no FTS5 syntax can leak in."""
    if isinstance(node, Term):
        return '"' + " ".join(node.tokens) + '"' + ("*" if node.prefix else "")
    if isinstance(node, Or):
        return "(" + " OR ".join(to_fts5(i) for i in node.items) + ")"
    if isinstance(node, And):
        pos = [to_fts5(i) for i in node.items if not isinstance(i, Not)]
        neg = [to_fts5(i.item) for i in node.items if isinstance(i, Not)]
        expr = "(" + " AND ".join(pos) + ")"
        for n in neg:
            expr = f"({expr} NOT {n})"
        return expr
    raise QueryError("NOT needs something to exclude from")  # unreachable after _check


def to_tsquery(node: Node) -> str:
    """A PostgreSQL tsquery literal: phrases with <->, prefixes with :*, tokens single-quoted."""
    if isinstance(node, Term):
        parts = [f"'{t}'" for t in node.tokens]
        if node.prefix:
            parts[-1] += ":*"
        return parts[0] if len(parts) == 1 else "(" + " <-> ".join(parts) + ")"
    if isinstance(node, Or):
        return "(" + " | ".join(to_tsquery(i) for i in node.items) + ")"
    if isinstance(node, And):
        return (
            "("
            + " & ".join(
                ("!" + to_tsquery(i.item)) if isinstance(i, Not) else to_tsquery(i) for i in node.items
            )
            + ")"
        )
    raise QueryError("NOT needs something to exclude from")
