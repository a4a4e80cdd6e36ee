"""What a page's own scripts do: the pages they open and the endpoints they call.

List pages often keep their links in JavaScript: rows that open by `window.open('show.asp?id=1')`, titles
`href="javascript:openArticle('1234')"` whose function builds the URL, pagers `javascript:goPage(3)` whose
body sets `location.href = 'list.asp?page=' + p`, and lists that arrive by `$.post('/module/xxgk/search.jsp',
{…})`, `$.ajax`, `fetch`, `axios` or `XMLHttpRequest`. The inline scripts are parsed with tree-sitter's
JavaScript grammar (it recovers from the syntax errors real pages carry) and walked, evaluating only what
is certain: literals, variables holding literals, a call's arguments, string concatenation and template
strings. Anything else (DOM reads, user input) is unknown: a URL built from it is dropped, a request
field holding it is sent empty, as an untouched form would. There is no JS engine and no loop is run twice.

Lists whose JSON records carry only an id (`{id: "8800", title, pubDate}`) get their links from the code that
renders them: `'<a href="detail.html?id=' + item.id + '">'`, `"/content/" + row.docId + ".html"`, template
strings `` `/art/${r.id}.html` ``, `javascript:openDoc('…')` whose function sets `location.href`, a function
`show(id)` that does, or the page's own templates (`<a :href="'detail.html?id=' + item.id">`, `href="{{ … }}"`
in the DOM or in a `<script type="text/html">`). `record_templates` evaluates those expressions with every
field read of an unknown value left as a named hole, and gives the URL templates they build
(`detail.html?id={id}`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import tree_sitter_javascript
from parsel import Selector
from tree_sitter import Language, Node, Parser

from archive.headers import header_value

_PARSER = Parser(Language(tree_sitter_javascript.language()))

# Calls into page functions nest this deep at most (onclick → openArticle → buildUrl).
MAX_CALL_DEPTH = 4
# Syntax nodes one evaluation (and record_templates, all its evaluations together) visits at most: inline
# copies of whole libraries are not walked to the end.
MAX_STEPS = 50_000
# Inline scripts longer than this are libraries (an inlined jQuery), not the page's own code.
MAX_SCRIPT_CHARS = 300_000
# Script types that hold code (others hold templates, JSON data or Hanweb <datastore> XML).
_STATEMENT_ENDINGS = ("statement", "declaration", "clause", "block", "body", "case", "default")
_CODE_TYPES = frozenset({"", "text/javascript", "application/javascript", "module", "text/ecmascript"})

FORM = "application/x-www-form-urlencoded; charset=UTF-8"
JSON = "application/json"
XHR_HEADER = ("X-Requested-With", "XMLHttpRequest")


class _Unknown:
    """A value the page decides at run time (a DOM read, user input)."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()


@dataclass(frozen=True)
class Open:
    """The script sends the browser to `url` (window.open, location.href = …, location.replace)."""

    url: str


@dataclass(frozen=True)
class Fetch:
    """The script requests `url` and uses the answer in the page (XHR, fetch, axios, jQuery)."""

    url: str
    method: str = "GET"
    body: bytes | None = None
    headers: tuple[tuple[str, str], ...] = ()
    api: str = ""


Effect = Open | Fetch


@dataclass
class _Function:
    params: list[str]
    body: Node


@dataclass
class _Run:
    """One evaluation: its variables, what it did, the steps it may still take."""

    env: dict[str, Any]
    effects: list[Effect] = field(default_factory=list)
    steps: int = MAX_STEPS
    # variable -> (method, url, headers) of an XMLHttpRequest opened and not sent yet
    xhr: dict[str, tuple[str, str, dict[str, str]]] = field(default_factory=dict)
    # a field read of an unknown value (`item.id`) is a named hole, not UNKNOWN (record_templates)
    holes: bool = False

    def inner(self, env: dict[str, Any]) -> _Run:
        """A run of a branch, callback or function body: its own variables, the same effects and budget."""
        return _Run(env, self.effects, self.steps, self.xhr, self.holes)


_LOCATION_OWNERS = frozenset({"window", "document", "self", "top", "parent"})
_LIBRARY_GET = frozenset({"$.get", "jQuery.get", "$.getJSON", "jQuery.getJSON"})
_LIBRARY_POST = frozenset({"$.post", "jQuery.post"})
_LIBRARY_AJAX = frozenset({"$.ajax", "jQuery.ajax"})
_READY_CALLEES = frozenset({"$", "jQuery", "setTimeout", "setInterval", "$(document).ready", "$(window).load",
                            "jQuery(document).ready", "window.addEventListener", "document.addEventListener"})
_ENCODERS = frozenset({"encodeURIComponent", "encodeURI", "escape"})
_CONVERTERS = frozenset({"String", "parseInt", "Number", "parseFloat", "decodeURIComponent", "unescape"})
_STRING_ESCAPE = re.compile(r"\\(u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|\r\n|[\s\S])")
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}


class Scripts:
    """A page's inline scripts: its functions, the variables set at load, and what loading does."""

    def __init__(self, sources: list[str], bound: list[tuple[str, str]] = ()) -> None:
        # (attribute, value) of links a page's templates bind to a record: `:href="'detail.html?id=' + item.id"`,
        # `href="show.html?id={{item.id}}"` in the DOM or in a `<script type="text/html">` template
        self.bound = list(bound)
        self.functions: dict[str, _Function] = {}
        self.globals: dict[str, Any] = {}
        self._trees = [_PARSER.parse(s.encode("utf-8")) for s in sources if s.strip()]
        for tree in self._trees:
            self._collect_functions(tree.root_node)
        run = _Run({})
        for tree in self._trees:
            self._exec(tree.root_node, run, 0)
        self.globals = run.env
        self.on_load: list[Effect] = _unique(run.effects)
        self._templates: list[str] | None = None
        self._budget = MAX_STEPS

    @classmethod
    def of(cls, sel: Selector) -> Scripts:
        """The scripts of a parsed page (code blocks only, libraries left out)."""
        sources = []
        roots = [sel.root]
        for script in sel.root.iter("script"):
            kind = (script.get("type") or "").strip().lower()
            code = script.text or ""
            if kind in _CODE_TYPES and not script.get("src") and len(code) <= MAX_SCRIPT_CHARS:
                sources.append(code)
            elif kind in _TEMPLATE_TYPES and code.strip() and len(code) <= MAX_SCRIPT_CHARS:
                try:
                    roots.append(Selector(text=code).root)
                except ValueError:
                    pass
        bound = [(name, value) for root in roots for el in root.iter() if isinstance(el.tag, str)
                 for name, value in el.attrib.items()
                 if name in _BOUND_ATTRS or (name in _LINK_ATTRS and _INTERPOLATION.search(value))]
        return cls(sources, bound)

    def run(self, code: str) -> list[Effect]:
        """What a handler (`onclick` value, `javascript:` URL) does when it runs."""
        code = re.sub(r"^\s*javascript\s*:", "", code, flags=re.IGNORECASE)
        if not code.strip():
            return []
        tree = _PARSER.parse(code.encode("utf-8"))
        run = _Run(dict(self.globals))
        self._exec(tree.root_node, run, 0)
        return _unique(run.effects)

    def call(self, name: str, args: list[Any]) -> list[Effect]:
        """What the page function `name` does when called with `args`."""
        run = _Run(dict(self.globals))
        self._call_function(name, args, run, 0)
        return _unique(run.effects)

    def record_templates(self) -> list[str]:
        """URL templates the scripts build for a list's records from their fields (`detail.html?id={id}`,
        `/content/{docId}.html`), most certain first: links in the HTML they render (`href`, `onclick`,
        `javascript:` calls resolved through the page's functions), URLs sent to `location`/`window.open`,
        the page a function taking the id opens (`show(id)` → `show.asp?id={id}`), URL-like strings."""
        if self._templates is None:
            ranked: list[tuple[int, str]] = []
            self._budget = MAX_STEPS  # for all of it: a page of many scripts is not walked many times over
            for tree in self._trees:
                stack = [tree.root_node]
                while stack and self._budget > 0:
                    node = stack.pop()
                    stack.extend(reversed(node.named_children))
                    if _builds_string(node) and _reads_a_field(node):
                        ranked += self._templates_of(node)
            for name, value in self.bound:
                if self._budget > 0:
                    ranked += self._bound_link(name, value)
            for name, func in self.functions.items():
                if func.params and all(p.isidentifier() for p in func.params) and self._budget > 0:
                    run = self._hole_run()
                    self._call_function(name, [_hole(p) for p in func.params], run, 0)
                    self._budget = run.steps
                    ranked += [(2, e.url) for e in run.effects if isinstance(e, Open) and _HOLE.search(e.url)]
            ranked.sort(key=lambda pair: pair[0])
            self._templates = list(dict.fromkeys(_HOLE.sub(r"{\1}", url) for _, url in ranked))
        return self._templates

    def _hole_run(self) -> _Run:
        """A run with holes, on what is left of the budget (its steps left are the budget after it)."""
        return _Run(dict(self.globals), steps=self._budget, holes=True)

    def _templates_of(self, node: Node) -> list[tuple[int, str]]:
        """(rank, URL with holes) of one string-building expression."""
        run = self._hole_run()
        value = self._eval(node, run, 0)
        self._budget = run.steps
        if not isinstance(value, str) or not _HOLE.search(value):
            return []
        if "<" in value:
            return self._rendered_links(value)
        if not _URL_WITH_HOLE.match(value):
            return []
        parent = node.parent
        sent = parent is not None and (
            parent.type == "assignment_expression" and _is_location(_text(parent.child_by_field_name("left")
                                                                          or parent).replace(" ", ""))
            or parent.type == "arguments" and parent.parent is not None and _text(
                parent.parent.child_by_field_name("function") or parent).replace(" ", "") in ("window.open", "open"))
        return [(1 if sent else 3, value)]

    def _bound_link(self, name: str, value: str) -> list[tuple[int, str]]:
        """The link a template attribute binds: a JS expression (`:href`), or text with `{{ expr }}` /
        `<%= expr %>` interpolations, read as a template string."""
        if name in _BOUND_ATTRS:
            code = value
        else:
            parts = _INTERPOLATION.split(value)  # text, expr, expr, text…: the two groups alternate with text
            pieces = []
            for i, part in enumerate(parts):
                if i % 3 == 0:
                    pieces.append(part.replace("\\", "\\\\").replace("`", "\\`").replace("${", "\\${"))
                elif part is not None:
                    pieces.append("${" + part + "}")
            code = "`" + "".join(pieces) + "`"
        tree = _PARSER.parse(code.encode("utf-8"))
        statement = tree.root_node.named_children[0] if tree.root_node.named_children else None
        if statement is None or statement.type != "expression_statement" or not statement.named_children:
            return []
        run = self._hole_run()
        value = self._eval(statement.named_children[0], run, 0)
        self._budget = run.steps
        if not isinstance(value, str) or not _HOLE.search(value):
            return []
        attr = "href" if name.lstrip(":").removeprefix("v-bind:").removeprefix("ng-") in ("href", "src") else name
        return self._rendered_links(f"<a {attr}={_quoted_attr(value)}></a>")

    def _rendered_links(self, html: str) -> list[tuple[int, str]]:
        """The links with holes in an HTML string a script renders: hrefs, and what `javascript:` hrefs and
        onclick handlers open."""
        found: list[tuple[int, str]] = []
        try:
            root = Selector(text=html).root
        except ValueError:
            return found
        for el in root.iter():
            if not isinstance(el.tag, str):
                continue
            for attr in ("href", "onclick", "data-href", "data-url"):
                value = (el.get(attr) or "").strip()
                if not _HOLE.search(value):
                    continue
                if attr == "onclick" or value.lower().startswith("javascript:"):
                    code = _QUOTABLE_HOLE.sub(lambda m: "'" + m.group(0) + "'", value)
                    found += [(0, e.url) for e in self.run(code) if isinstance(e, Open) and _HOLE.search(e.url)]
                elif _URL_WITH_HOLE.match(value) or _HOLE.fullmatch(value):
                    found.append((0, value))
        return found

    # --- declarations --------------------------------------------------------------------------------

    def _collect_functions(self, node: Node) -> None:
        """Named functions anywhere (declarations and `name = function(…){…}`), hoisted as JS does."""
        stack = [node]
        while stack:
            n = stack.pop()
            if n.type in ("function_declaration", "generator_function_declaration"):
                name = n.child_by_field_name("name")
                if name is not None:
                    self._add_function(_text(name), n)
            elif n.type in ("variable_declarator", "assignment_expression"):
                target = n.child_by_field_name("name") or n.child_by_field_name("left")
                value = n.child_by_field_name("value") or n.child_by_field_name("right")
                if target is not None and value is not None and value.type in ("function_expression", "arrow_function",
                                                                              "function"):
                    self._add_function(_text(target).removeprefix("window."), value)
            stack.extend(reversed(n.named_children))

    def _add_function(self, name: str, node: Node) -> None:
        params_node = node.child_by_field_name("parameters") or node.child_by_field_name("parameter")
        params: list[str] = []
        if params_node is not None:
            if params_node.type == "identifier":
                params = [_text(params_node)]
            else:
                for p in params_node.named_children:
                    target = p.child_by_field_name("left") if p.type == "assignment_pattern" else p
                    params.append(_text(target) if target is not None else "")
        body = node.child_by_field_name("body")
        if body is not None and name.isidentifier():
            self.functions.setdefault(name, _Function(params, body))

    # --- statements ------------------------------------------------------------------------------------

    def _exec(self, node: Node, run: _Run, depth: int) -> None:
        if run.steps <= 0:
            return
        run.steps -= 1
        kind = node.type
        if kind in ("function_declaration", "generator_function_declaration", "class_declaration", "comment",
                    "html_comment"):
            return  # declarations run when called
        if kind in ("variable_declaration", "lexical_declaration"):
            for declarator in node.named_children:
                name, value = declarator.child_by_field_name("name"), declarator.child_by_field_name("value")
                if name is not None and name.type == "identifier":
                    run.env[_text(name)] = self._eval(value, run, depth) if value is not None else None
            return
        if kind in ("expression_statement", "return_statement", "throw_statement"):
            for child in node.named_children:
                self._eval(child, run, depth)
            return
        if kind == "if_statement":
            self._if(node, run, depth)
            return
        # compound statements (try, loops, switch, blocks): every branch once, conditions for effects
        for child in node.named_children:
            if child.type == "program" or child.type.endswith(_STATEMENT_ENDINGS):
                self._exec(child, run, depth)
            else:
                self._eval(child, run, depth)

    def _if(self, node: Node, run: _Run, depth: int) -> None:
        """The branch the condition picks when it is known; else both, each on its own copy of the variables
        (a variable the branches leave different is unknown afterwards)."""
        condition = _truth(self._eval(node.child_by_field_name("condition"), run, depth))
        branches = [node.child_by_field_name("consequence"), node.child_by_field_name("alternative")]
        if condition is not None:
            chosen = branches[0] if condition else branches[1]
            if chosen is not None:
                self._exec(chosen, run, depth)
            return
        outcomes = []
        for branch in branches:
            inner = run.inner(dict(run.env))
            if branch is not None:
                self._exec(branch, inner, depth)
            run.steps = inner.steps
            outcomes.append(inner.env)
        for name in set(outcomes[0]) | set(outcomes[1]):
            a, b = outcomes[0].get(name, UNKNOWN), outcomes[1].get(name, UNKNOWN)
            run.env[name] = a if a is b or (type(a) is type(b) and a == b) else UNKNOWN

    # --- expressions -------------------------------------------------------------------------------------

    def _eval(self, node: Node | None, run: _Run, depth: int) -> Any:
        """The value of an expression (UNKNOWN when the page decides it), recording the effects it has."""
        if node is None or run.steps <= 0:
            return UNKNOWN
        run.steps -= 1
        kind = node.type
        if kind == "string":
            return _js_string(_text(node))
        if kind == "number":
            return _js_number(_text(node))
        if kind == "template_string":
            parts = []
            for child in node.named_children:
                value = self._eval(child.named_children[0], run, depth) if child.type == "template_substitution" \
                    and child.named_children else _js_string("`" + _text(child) + "`")
                if value is UNKNOWN:
                    return UNKNOWN
                parts.append(_to_string(value))
            return "".join(parts)
        if kind == "string_fragment":
            return _text(node)
        if kind in ("true", "false"):
            return kind == "true"
        if kind in ("null", "undefined"):
            return None
        if kind == "identifier":
            return run.env.get(_text(node), UNKNOWN)
        if kind == "parenthesized_expression":
            value = UNKNOWN
            for child in node.named_children:
                value = self._eval(child, run, depth)
            return value
        if kind == "sequence_expression":
            value = UNKNOWN
            for child in node.named_children:
                value = self._eval(child, run, depth)
            return value
        if kind == "binary_expression":
            return self._binary(node, run, depth)
        if kind == "ternary_expression":
            self._eval(node.child_by_field_name("condition"), run, depth)
            yes = self._eval(node.child_by_field_name("consequence"), run, depth)
            no = self._eval(node.child_by_field_name("alternative"), run, depth)
            return yes if yes == no else UNKNOWN
        if kind == "object":
            return self._object(node, run, depth)
        if kind == "array":
            return [self._eval(c, run, depth) for c in node.named_children]
        if kind == "assignment_expression":
            return self._assign(node, run, depth)
        if kind == "augmented_assignment_expression":
            left = node.child_by_field_name("left")
            value = self._eval(node.child_by_field_name("right"), run, depth)
            if left is not None and left.type == "identifier":
                run.env[_text(left)] = UNKNOWN
            return value
        if kind == "call_expression":
            return self._call(node, run, depth)
        if kind == "new_expression":
            constructor = node.child_by_field_name("constructor")
            args = node.child_by_field_name("arguments")
            values = [self._eval(a, run, depth) for a in (args.named_children if args is not None else [])]
            if constructor is not None and _text(constructor) == "URLSearchParams" and values \
                    and isinstance(values[0], dict):
                return _Form(values[0])
            return UNKNOWN
        if kind in ("member_expression", "subscript_expression"):
            return self._member(node, run, depth)
        if kind in ("function_expression", "arrow_function", "function"):
            return _Callback(node)
        if kind == "unary_expression" and _text(node).startswith("!"):
            truth = _truth(self._eval(node.child_by_field_name("argument"), run, depth))
            return UNKNOWN if truth is None else not truth
        if kind in ("unary_expression", "update_expression", "await_expression"):
            for child in node.named_children:
                self._eval(child, run, depth)
            return UNKNOWN
        return UNKNOWN

    def _binary(self, node: Node, run: _Run, depth: int) -> Any:
        operator = node.child_by_field_name("operator")
        op = _text(operator) if operator is not None else ""
        left = self._eval(node.child_by_field_name("left"), run, depth)
        right = self._eval(node.child_by_field_name("right"), run, depth)
        if left is UNKNOWN or right is UNKNOWN:
            return UNKNOWN
        if op == "+":
            if isinstance(left, str) or isinstance(right, str):
                return _to_string(left) + _to_string(right)
            if _is_number(left) and _is_number(right):
                return left + right
            return UNKNOWN
        if op in ("-", "*") and _is_number(left) and _is_number(right):
            return left - right if op == "-" else left * right
        if op in ("||", "??"):
            return left or right if op == "||" else (right if left is None else left)
        if op == "&&":
            return right if left else left
        if op in _COMPARISONS and type(left) is type(right) or (_is_number(left) and _is_number(right)):
            return _COMPARISONS[op](left, right) if op in _COMPARISONS else UNKNOWN
        return UNKNOWN

    def _object(self, node: Node, run: _Run, depth: int) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for pair in node.named_children:
            if pair.type == "pair":
                key_node = pair.child_by_field_name("key")
                key = _text(key_node) if key_node is not None else ""
                if key_node is not None and key_node.type == "string":
                    key = _js_string(key)
                found[key] = self._eval(pair.child_by_field_name("value"), run, depth)
            elif pair.type == "shorthand_property_identifier":
                found[_text(pair)] = run.env.get(_text(pair), UNKNOWN)
        return found

    def _member(self, node: Node, run: _Run, depth: int) -> Any:
        name = _text(node)
        if name.startswith("window.") and name[7:].isidentifier():
            return run.env.get(name[7:], UNKNOWN)
        obj = self._eval(node.child_by_field_name("object"), run, depth)
        if node.type == "member_expression":
            prop = node.child_by_field_name("property")
            key: Any = _text(prop) if prop is not None else None
        else:
            key = self._eval(node.child_by_field_name("index"), run, depth)
        if run.holes and (obj is UNKNOWN or _is_hole(obj)):
            return _hole(key) if isinstance(key, str) and key.isidentifier() else obj  # item.id, list[i]
        if isinstance(obj, dict) and isinstance(key, str):
            return obj.get(key, UNKNOWN)
        if isinstance(obj, list) and isinstance(key, int) and 0 <= key < len(obj):
            return obj[key]
        if isinstance(obj, str) and key == "length":
            return len(obj)
        return UNKNOWN

    def _assign(self, node: Node, run: _Run, depth: int) -> Any:
        left = node.child_by_field_name("left")
        value = self._eval(node.child_by_field_name("right"), run, depth)
        if left is None:
            return value
        target = _text(left).replace(" ", "")
        if isinstance(value, _Callback):
            if target.rsplit(".", 1)[-1].startswith("on"):  # window.onload = function(){…}, el.onclick = …
                self._run_callback(value, run, depth)
        elif left.type == "identifier":
            run.env[target] = value
        elif _is_location(target) and isinstance(value, str):
            run.effects.append(Open(value))
        elif target.startswith("window.") and target[7:].isidentifier():
            run.env[target[7:]] = value
        return value

    # --- calls -----------------------------------------------------------------------------------------

    def _call(self, node: Node, run: _Run, depth: int) -> Any:
        callee_node = node.child_by_field_name("function")
        args_node = node.child_by_field_name("arguments")
        arg_nodes = list(args_node.named_children) if args_node is not None and args_node.type == "arguments" else []
        callee = _text(callee_node).replace(" ", "").replace("\n", "") if callee_node is not None else ""
        if callee_node is not None and callee_node.type == "member_expression":
            # $('#x').load(…), xhr.open(…): evaluate the object for its own effects first
            self._eval(callee_node.child_by_field_name("object"), run, depth)
        args = [self._eval(a, run, depth) for a in arg_nodes]
        method = callee.rsplit(".", 1)[-1]
        if (own := callee.removeprefix("window.")) in self.functions and own not in _READY_CALLEES:
            return self._call_function(own, args, run, depth)
        for arg in args:  # a callback (ready handler, click handler, success function): what the page can do
            if isinstance(arg, _Callback):
                self._run_callback(arg, run, depth)
        if callee in ("window.open", "open") or (method in ("assign", "replace") and _is_location(callee[:-len(method) - 1])):
            if args and isinstance(args[0], str):
                run.effects.append(Open(args[0]))
            return UNKNOWN
        if callee in _LIBRARY_POST or callee in _LIBRARY_GET:
            self._jquery(callee, "POST" if callee in _LIBRARY_POST else "GET", args, run)
            return UNKNOWN
        if callee in _LIBRARY_AJAX:
            settings = args[-1] if args and isinstance(args[-1], dict) else {}
            url = args[0] if args and isinstance(args[0], str) else settings.get("url")
            self._ajax(url, settings, run)
            return UNKNOWN
        if method == "load" and callee.startswith(("$(", "jQuery(")) and args and isinstance(args[0], str):
            url = args[0].split(" ", 1)[0]  # load("page.jsp #part")
            data = args[1] if len(args) > 1 and not isinstance(args[1], _Callback) else None
            self._jquery(callee, "POST" if isinstance(data, dict) else "GET", [url, data], run)
            return UNKNOWN
        if callee == "fetch" and args and isinstance(args[0], str):
            self._fetch(args[0], args[1] if len(args) > 1 and isinstance(args[1], dict) else {}, run)
            return UNKNOWN
        if callee.startswith("axios"):
            self._axios(method if callee != "axios" else "", args, run)
            return UNKNOWN
        if method == "open" and callee_node is not None and callee_node.type == "member_expression" \
                and len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
            run.xhr[callee[:-5]] = (args[0].upper(), args[1], {})  # xhr.open("POST", url)
            return UNKNOWN
        owner = callee.rsplit(".", 1)[0]
        if method == "setRequestHeader" and owner in run.xhr and len(args) == 2 and all(isinstance(a, str) for a in args):
            run.xhr[owner][2][args[0]] = args[1]
            return UNKNOWN
        if method == "send" and owner in run.xhr:
            verb, url, headers = run.xhr.pop(owner)
            body = args[0] if args and args[0] is not None else None
            ctype, extra = _content_type_and_rest(headers)
            if ctype is None and body is not None:
                ctype = FORM if isinstance(body, _Form) else "text/plain;charset=UTF-8"
            self._emit(run, url, verb, body, ctype, "XMLHttpRequest", extra=extra)
            return UNKNOWN
        if (method in _ENCODERS or callee in _ENCODERS) and args and _is_hole(args[0]):
            return args[0]
        if method in _ENCODERS or callee in _ENCODERS:
            return quote(args[0], safe="~()*!.'" if callee != "encodeURI" else "~()*!.';/?:@&=+$,#") \
                if args and isinstance(args[0], str) else (str(args[0]) if args and _is_number(args[0]) else UNKNOWN)
        if callee in _CONVERTERS and args and args[0] is not UNKNOWN:
            return _convert(callee, args[0])
        if callee == "JSON.stringify" and args and args[0] is not UNKNOWN:
            return _Json(args[0])
        return UNKNOWN

    def _run_callback(self, callback: _Callback, run: _Run, depth: int) -> None:
        body = callback.node.child_by_field_name("body")
        if body is None or depth >= MAX_CALL_DEPTH:
            return
        inner = run.inner(dict(run.env))
        if body.type == "statement_block":
            self._exec(body, inner, depth + 1)
        else:
            self._eval(body, inner, depth + 1)
        run.steps = inner.steps

    def _call_function(self, name: str, args: list[Any], run: _Run, depth: int) -> Any:
        func = self.functions.get(name)
        if func is None or depth >= MAX_CALL_DEPTH:
            return UNKNOWN
        env = {**self.globals, **run.env, "arguments": list(args)}
        for i, param in enumerate(func.params):
            env[param] = args[i] if i < len(args) else None
        inner = run.inner(env)
        if func.body.type == "statement_block":
            self._exec(func.body, inner, depth + 1)
            result = UNKNOWN
        else:  # an arrow function's expression body
            result = self._eval(func.body, inner, depth + 1)
        run.steps = inner.steps
        return result

    def _jquery(self, api: str, method: str, args: list[Any], run: _Run) -> None:
        if not args or not isinstance(args[0], str):
            return
        data = args[1] if len(args) > 1 and not isinstance(args[1], _Unknown | _Callback) else None
        self._emit(run, args[0], method, data, FORM if method == "POST" else None, api, xhr=True)

    def _ajax(self, url: Any, settings: dict[str, Any], run: _Run) -> None:
        if not isinstance(url, str):
            return
        verb = settings.get("type") or settings.get("method") or "GET"
        verb = verb.upper() if isinstance(verb, str) else "GET"
        ctype = settings.get("contentType")
        ctype = ctype if isinstance(ctype, str) else (FORM if verb != "GET" else None)
        self._emit(run, url, verb, settings.get("data"), ctype, "$.ajax", xhr=True)

    def _fetch(self, url: str, init: dict[str, Any], run: _Run) -> None:
        verb = init.get("method")
        verb = verb.upper() if isinstance(verb, str) else "GET"
        body = init.get("body")
        headers = init.get("headers") if isinstance(init.get("headers"), dict) else {}
        ctype, extra = _content_type_and_rest(headers)
        if ctype is None and body is not None:
            # a string body (JSON.stringify included) goes as text/plain unless the script says otherwise
            ctype = FORM if isinstance(body, _Form) else "text/plain;charset=UTF-8"
        self._emit(run, url, verb, body, ctype, "fetch", extra=extra)

    def _axios(self, method: str, args: list[Any], run: _Run) -> None:
        if method in ("", "request"):
            config = args[0] if args and isinstance(args[0], dict) else {}
            url = config.get("url")
            verb = config.get("method")
            verb = verb.upper() if isinstance(verb, str) else "GET"
            data, params = config.get("data"), config.get("params")
        elif args and isinstance(args[0], str):
            url, verb = args[0], method.upper()
            with_body = verb in ("POST", "PUT", "PATCH")
            data = args[1] if with_body and len(args) > 1 else None
            config = args[2 if with_body else 1] if len(args) > (2 if with_body else 1) else {}
            params = config.get("params") if isinstance(config, dict) else None
        else:
            return
        if not isinstance(url, str):
            return
        if isinstance(params, dict):
            url = _with_query(url, params)
        if isinstance(data, dict):  # axios serialises plain objects as JSON
            data = _Json(data)
        ctype = JSON if isinstance(data, _Json) else FORM if data is not None else None
        self._emit(run, url, verb, data, ctype, "axios", extra=(("Accept", "application/json, text/plain, */*"),))

    def _emit(self, run: _Run, url: str, method: str, data: Any, ctype: str | None, api: str, *,
              xhr: bool = False, extra: tuple[tuple[str, str], ...] = ()) -> None:
        body: bytes | None = None
        if method == "GET":
            if isinstance(data, dict | _Form):
                url = _with_query(url, data.fields if isinstance(data, _Form) else data)
            elif isinstance(data, str) and data:
                url += ("&" if "?" in url else "?") + data
        elif data is not None:
            body = _body(data)
        headers = (("Content-Type", ctype),) if body is not None and ctype else ()
        headers += extra + ((XHR_HEADER,) if xhr else ())
        run.effects.append(Fetch(url, method, body, headers, api))


def _content_type_and_rest(headers: dict[str, Any]) -> tuple[str | None, tuple[tuple[str, str], ...]]:
    """A script's request headers (setRequestHeader calls, fetch's `headers`): the Content-Type it sets,
    and the other string-valued headers in order."""
    strings = [(k, v) for k, v in headers.items() if isinstance(v, str)]
    return header_value(strings, "Content-Type"), tuple((k, v) for k, v in strings if k.lower() != "content-type")


# --- values ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Callback:
    """A function expression: run when handed to a call or an `on…` property, never when defined."""

    node: Node


@dataclass(frozen=True)
class _Json:
    """`JSON.stringify(value)`: sent as JSON text."""

    value: Any


@dataclass(frozen=True)
class _Form:
    """`new URLSearchParams({…})`: sent form-encoded."""

    fields: dict[str, Any]


def _body(data: Any) -> bytes:
    if isinstance(data, _Json):
        return json.dumps(_known(data.value), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if isinstance(data, _Form):
        data = data.fields
    if isinstance(data, dict):
        return _form(data).encode("ascii")
    return _to_string(data).encode("utf-8")


def _form(fields: dict[str, Any]) -> str:
    """Fields form-encoded as jQuery.param does; an unknown value (a search box) is sent empty."""
    pairs = []
    for key, value in fields.items():
        if isinstance(value, list):
            pairs += [(key, _field(v)) for v in value]
        else:
            pairs.append((key, _field(value)))
    return urlencode(pairs)


def _field(value: Any) -> str:
    if value is UNKNOWN or value is None:
        return ""
    return _to_string(value)


def _known(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _known(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_known(v) for v in value]
    return "" if value is UNKNOWN else value


def _with_query(url: str, fields: dict[str, Any]) -> str:
    query = _form(fields)
    return url + (("&" if "?" in url else "?") + query if query else "")


def _to_string(value: Any) -> str:
    if value is True or value is False:
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


_COMPARISONS: dict[str, Any] = {
    "<": lambda a, b: a < b, ">": lambda a, b: a > b, "<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b,
    "==": lambda a, b: a == b, "===": lambda a, b: a == b, "!=": lambda a, b: a != b, "!==": lambda a, b: a != b,
}


def _truth(value: Any) -> bool | None:
    """JavaScript truthiness of a known value; None for an unknown one."""
    if value is UNKNOWN or isinstance(value, _Callback):
        return None if value is UNKNOWN else True
    if isinstance(value, dict | list | _Json | _Form):
        return True
    return bool(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _convert(callee: str, value: Any) -> Any:
    if callee == "String":
        return _to_string(value)
    if callee in ("decodeURIComponent", "unescape"):
        return value
    try:
        number = float(str(value).strip())
    except ValueError:
        return UNKNOWN
    return int(number) if callee == "parseInt" or number.is_integer() else number


def _js_string(literal: str) -> str:
    body = literal[1:-1] if len(literal) >= 2 and literal[0] in "'\"`" else literal

    def unescape(m: re.Match[str]) -> str:
        esc = m.group(1)
        if esc.startswith("u{"):
            return chr(int(esc[2:-1], 16))
        if esc[0] in "ux" and len(esc) > 1:
            return chr(int(esc[1:], 16))
        if esc in ("\n", "\r\n", "\r"):
            return ""  # a line continuation
        return _SIMPLE_ESCAPES.get(esc, esc)

    return _STRING_ESCAPE.sub(unescape, body)


def _js_number(literal: str) -> int | float:
    try:
        return int(literal, 0) if not re.search(r"[.eE]", literal) or literal.lower().startswith("0x") \
            else float(literal)
    except ValueError:
        return float("nan")


def _is_location(target: str) -> bool:
    """`location`, `location.href`, `window.location.href`, `top.location` and the like."""
    parts = target.split(".")
    if parts and parts[0] in _LOCATION_OWNERS:
        parts = parts[1:]
    return parts in (["location"], ["location", "href"])


_HOLE = re.compile("\ue000(\\w+)\ue001")
# A hole not written inside quotes, as in `openDoc(' + item.id + ')`: quoted before the handler is run.
_QUOTABLE_HOLE = re.compile("(?<![\"'\\w])\ue000\\w+\ue001(?![\"'\\w])")
# A URL a record's field completes: no spaces or markup, and a path, query or page name around the hole.
_URL_WITH_HOLE = re.compile("^(?![#{])[^\\s<>\"'{}]*(?:[/?=]|\\.(?:s?html?|aspx?|jsp|php|do))[^\\s<>\"'{}]*$")
_BUILDERS = frozenset({"binary_expression", "template_string"})
# Script types holding HTML templates (art-template, Handlebars, Underscore/EJS, jQuery tmpl).
_TEMPLATE_TYPES = frozenset({"text/html", "text/template", "text/x-template", "text/x-handlebars-template",
                             "text/x-jquery-tmpl", "text/x-tmpl", "text/x-underscore-template"})
# Attributes whose value is a JS expression (Vue bindings); and link attributes that may interpolate.
_BOUND_ATTRS = frozenset({":href", "v-bind:href"})
_LINK_ATTRS = frozenset({"href", "ng-href", "data-href", "data-url", "onclick"})
_INTERPOLATION = re.compile(r"\{\{\s*(.+?)\s*\}\}|<%[=-]?\s*(.+?)\s*%>")


def _quoted_attr(value: str) -> str:
    return '"' + value.replace("&", "&amp;").replace('"', "&quot;") + '"'


def _hole(name: str) -> str:
    return f"\ue000{name}\ue001"


def _is_hole(value: Any) -> bool:
    return isinstance(value, str) and _HOLE.fullmatch(value) is not None


def _builds_string(node: Node) -> bool:
    """The whole of a string concatenation or a template string (not a part of a larger one)."""
    if node.type not in _BUILDERS:
        return False
    if node.type == "binary_expression" and _text(node.child_by_field_name("operator") or node) != "+":
        return False
    parent = node.parent
    return not (parent is not None and parent.type == "binary_expression"
                and _text(parent.child_by_field_name("operator") or parent) == "+")


def _reads_a_field(node: Node) -> bool:
    stack = list(node.named_children)
    while stack:
        n = stack.pop()
        if n.type in ("member_expression", "subscript_expression"):
            return True
        stack.extend(n.named_children)
    return False


def _text(node: Node) -> str:
    return node.text.decode("utf-8", "replace") if node.text is not None else ""


def _unique(effects: list[Effect]) -> list[Effect]:
    return list(dict.fromkeys(effects))
