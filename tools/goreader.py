"""A small reader for the Go source of Terraform providers: enough Go to evaluate schemas.

Terraform SDKv2 providers declare their schemas as Go composite literals
(``&schema.Resource{Schema: map[string]*schema.Schema{"name": {ForceNew: true}}}``), often
spread over helper functions, package variables, merges (``tpgresource.MergeSchemas``) and
assignments after construction (``r.Schema["project"] = &schema.Schema{...}``). This module
tokenizes Go (with Go's automatic semicolons), parses declarations and the expressions and
simple statements that build schemas, and evaluates them:

* a call to a function of the same repository binds its parameters to the evaluated
  arguments and runs its body's top-level statements (assignments, index/field stores,
  ``return``), so generic builders such as the IAM resources' ``ResourceIamMember(parent,
  ...)`` are followed rather than guessed;
* struct literals are evaluated lazily, field by field, so only what a schema walk needs
  (``Schema``, ``Elem``, ``ForceNew``, ``Type``, ...) is ever computed;
* everything else (external packages, closures, arithmetic) is an :class:`Opaque` value.

Control-flow statements (``if``, ``for``, ``switch``) are skipped; a skipped block that
mentions ``ForceNew`` or ``Schema[`` is reported in :attr:`Program.skipped` so that a caller
can refuse to trust a result it might have missed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

MODULE_PREFIX = "github.com/hashicorp/terraform-provider-google/"  # default; go.mod says

_TOKEN = re.compile(
    r"""
    (?P<ws>[ \t\r\f]+)
  | (?P<nl>\n)
  | (?P<lc>//[^\n]*)
  | (?P<bc>/\*.*?\*/)
  | (?P<raw>`[^`]*`)
  | (?P<str>"(?:\\.|[^"\\\n])*")
  | (?P<rune>'(?:\\.|[^'\\\n])+')
  | (?P<num>\.?[0-9](?:[eEpP][+-]|[0-9a-zA-Z_.])*)
  | (?P<ident>[^\W\d]\w*)
  | (?P<op>\.\.\.|<<=|>>=|&\^=|&&|\|\||<-|\+\+|--|==|!=|<=|>=|:=|\+=|-=|\*=|/=|%=|&=|\|=|\^=
           |<<|>>|&\^|[-+*/%&|^<>=!()\[\]{},;.:~])
    """,
    re.X | re.S,
)
_SEMI_AFTER = {")", "]", "}", "++", "--"}
_BINARY = {
    "||": 1, "&&": 2,
    "==": 3, "!=": 3, "<": 3, "<=": 3, ">": 3, ">=": 3,
    "+": 4, "-": 4, "|": 4, "^": 4,
    "*": 5, "/": 5, "%": 5, "<<": 5, ">>": 5, "&": 5, "&^": 5,
}  # fmt: skip
_ASSIGN = {":=", "=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<=", ">>=", "&^="}
_OPEN = {"(": ")", "[": "]", "{": "}"}
_SKIP_STATEMENTS = {"go", "defer", "break", "continue", "goto", "fallthrough", "const", "type"}
_TYPE_WORDS = {"map", "func", "chan", "struct", "interface"}
# Top-level names of a file, found without parsing it: functions, and vars/consts alone or in
# a parenthesized group.
_DECL = re.compile(r"^func\s+(\w+)|^(?:var|const)\s+(\w+)|^\t(\w+)(?=[\s,])", re.M)


class GoSyntaxError(Exception):
    """Go text this reader cannot parse (file and line in the message)."""


@dataclass(frozen=True)
class Tok:
    """One token: kind (ident, str, raw, num, rune, op, semi), text and line."""

    kind: str
    text: str
    line: int


def tokenize(text: str) -> list[Tok]:
    """Go tokens of ``text``, comments dropped, automatic semicolons inserted."""
    out: list[Tok] = []
    line = 1
    pos = 0

    def newline() -> None:
        last = out[-1] if out else None
        if last and last.kind != "semi" and (last.kind != "op" or last.text in _SEMI_AFTER):
            out.append(Tok("semi", ";", line))

    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise GoSyntaxError(f"line {line}: unexpected character {text[pos]!r}")
        kind = m.lastgroup or ""
        value = m.group()
        pos = m.end()
        if kind == "nl":
            newline()
            line += 1
        elif kind == "bc" or kind == "raw":
            if kind == "raw":
                out.append(Tok("raw", value, line))
            elif "\n" in value:
                newline()
            line += value.count("\n")
        elif kind in ("ws", "lc"):
            continue
        elif kind == "op" and value == ";":
            out.append(Tok("semi", ";", line))
        else:
            out.append(Tok(kind, value, line))
    newline()
    return out


def unquote(tok: Tok) -> str:
    """The value of a Go string literal."""
    if tok.kind == "raw":
        return tok.text[1:-1]
    body = tok.text[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


# ------------------------------------------------------------------ syntax tree

Node = tuple[Any, ...]  # ("kind", ...): ident, lit, sel, call, index, unary, binop, complit, func, type


@dataclass
class FuncDecl:
    """A top-level function: parameter names and the token range of its body."""

    name: str
    params: list[str]
    variadic: bool
    body: tuple[int, int]
    file: GoFile


@dataclass
class GoFile:
    """One parsed file: package, imports (alias -> path), top-level vars and functions."""

    path: str
    package: str
    header: str
    toks: list[Tok]
    imports: dict[str, str] = field(default_factory=dict)
    vars: dict[str, Node] = field(default_factory=dict)
    funcs: dict[str, FuncDecl] = field(default_factory=dict)


class Parser:
    """Recursive-descent parser over one file's tokens."""

    def __init__(self, toks: list[Tok], path: str, pos: int = 0, end: int | None = None) -> None:
        self.toks = toks
        self.path = path
        self.pos = pos
        self.end = len(toks) if end is None else end

    # -------------------------------------------------------------- helpers

    def peek(self, ahead: int = 0) -> Tok:
        i = self.pos + ahead
        return self.toks[i] if i < self.end else Tok("eof", "", self.toks[-1].line if self.toks else 0)

    def at(self, *texts: str) -> bool:
        t = self.peek()
        return t.kind in ("op", "ident", "semi") and t.text in texts

    def take(self) -> Tok:
        t = self.peek()
        self.pos += 1
        return t

    def expect(self, text: str) -> Tok:
        t = self.take()
        if t.text != text:
            raise GoSyntaxError(f"{self.path}:{t.line}: expected {text!r}, found {t.text!r}")
        return t

    def skip_balanced(self) -> None:
        """Skip one bracketed group starting at the current ``(``, ``[`` or ``{``."""
        depth = 0
        while True:
            t = self.take()
            if t.kind == "eof":
                raise GoSyntaxError(f"{self.path}: unbalanced brackets")
            if t.kind == "op" and t.text in _OPEN:
                depth += 1
            elif t.kind == "op" and t.text in (")", "]", "}"):
                depth -= 1
                if depth == 0:
                    return

    def skip_to(self, *stops: str) -> None:
        """Skip tokens until one of ``stops`` at bracket depth 0 (not consumed)."""
        while not (self.at(*stops) or self.peek().kind == "eof"):
            if self.peek().kind == "op" and self.peek().text in _OPEN:
                self.skip_balanced()
            else:
                self.take()

    # -------------------------------------------------------------- declarations

    def file(self, header: str) -> GoFile:
        self.expect("package")
        out = GoFile(self.path, self.take().text, header, self.toks)
        while self.peek().kind != "eof":
            t = self.peek()
            if t.kind == "semi":
                self.take()
            elif t.text == "import":
                self.take()
                self._group(lambda: self._import(out))
            elif t.text in ("var", "const"):
                self.take()
                self._group(lambda: self._var(out.vars))
            elif t.text == "type":
                self.take()
                if self.at("("):
                    self.skip_balanced()
                else:
                    self.skip_to(";")
            elif t.text == "func":
                self._func(out)
            else:
                raise GoSyntaxError(f"{self.path}:{t.line}: unexpected {t.text!r} at top level")
        return out

    def _group(self, spec: Callable[[], None]) -> None:
        if self.at("("):
            self.take()
            while not self.at(")"):
                if self.peek().kind == "semi":
                    self.take()
                    continue
                spec()
            self.take()
        else:
            spec()

    def _import(self, out: GoFile) -> None:
        alias = None
        if self.peek().kind in ("ident",) or self.at(".", "_"):
            alias = self.take().text
        path = unquote(self.take())
        out.imports[alias or path.rsplit("/", 1)[-1]] = path
        if self.peek().kind == "semi":
            self.take()

    def _var(self, into: dict[str, Node]) -> None:
        names = [self.take().text]
        while self.at(","):
            self.take()
            names.append(self.take().text)
        if not self.at("=", ";", ")"):
            self.skip_to("=", ";", ")")
        if self.at("="):
            self.take()
            values = self.expr_list()
            for name, value in zip(names, values, strict=False):
                into[name] = value
        if self.peek().kind == "semi":
            self.take()

    def _func(self, out: GoFile) -> None:
        self.expect("func")
        method = self.at("(")
        if method:
            self.skip_balanced()
        name = self.take().text
        if self.at("["):
            self.skip_balanced()
        params, variadic = self._params()
        self._skip_results()
        if not self.at("{"):  # declaration without body
            return
        start = self.pos
        self.skip_balanced()
        if not method:
            out.funcs[name] = FuncDecl(name, params, variadic, (start + 1, self.pos - 1), out)

    def _params(self) -> tuple[list[str], bool]:
        self.expect("(")
        parts: list[list[Tok]] = [[]]
        depth = 0
        while True:
            t = self.take()
            if t.kind == "op" and t.text in _OPEN:
                depth += 1
            elif t.kind == "op" and t.text in (")", "]", "}"):
                if depth == 0:
                    break
                depth -= 1
            if depth == 0 and t.text == ",":
                parts.append([])
            else:
                parts[-1].append(t)
        parts = [p for p in parts if p]
        named = any(
            len(p) > 1 and p[0].kind == "ident" and p[0].text not in _TYPE_WORDS and p[1].text != "." for p in parts
        )
        names = [p[0].text for p in parts] if named else ["_"] * len(parts)
        variadic = bool(parts) and any(t.text == "..." for t in parts[-1])
        return names, variadic

    def _skip_results(self) -> None:
        while not (self.at("{", ";") or self.peek().kind == "eof"):
            if self.at("struct", "interface"):
                self.take()
                self.skip_balanced()
            elif self.peek().kind == "op" and self.peek().text in ("(", "["):
                self.skip_balanced()
            else:
                self.take()

    # -------------------------------------------------------------- expressions

    def expr_list(self) -> list[Node]:
        out = [self.expr()]
        while self.at(","):
            self.take()
            out.append(self.expr())
        return out

    def expr(self, prec: int = 1) -> Node:
        left = self.unary()
        while True:
            t = self.peek()
            p = _BINARY.get(t.text, 0) if t.kind == "op" else 0
            if p < prec:
                return left
            self.take()
            left = ("binop", t.text, left, self.expr(p + 1))

    def unary(self) -> Node:
        t = self.peek()
        if t.kind == "op" and t.text in ("&", "*", "-", "+", "!", "^", "<-"):
            self.take()
            return ("unary", t.text, self.unary())
        return self.primary()

    def primary(self) -> Node:
        t = self.peek()
        if t.kind in ("str", "raw"):
            self.take()
            node: Node = ("lit", unquote(t))
        elif t.kind in ("num", "rune"):
            self.take()
            node = ("lit", t.text)
        elif t.text == "func" and t.kind == "ident":
            self.take()
            self._params()
            self._skip_results()
            if self.at("{"):
                self.skip_balanced()
            node = ("func", t.line)
        elif t.kind == "ident" and t.text in ("map", "struct", "interface", "chan"):
            node = ("type", self.type_expr())
        elif t.kind == "ident":
            self.take()
            node = ("ident", t.text)
        elif t.text == "[":
            node = ("type", self.type_expr())
        elif t.text == "(":
            self.take()
            node = self.expr()
            self.expect(")")
        elif t.text == "{":
            node = self.composite(None)
        else:
            raise GoSyntaxError(f"{self.path}:{t.line}: unexpected {t.text!r} in expression")
        while True:
            t = self.peek()
            if t.text == ".":
                self.take()
                if self.at("("):
                    self.skip_balanced()
                    node = ("assert", node)
                else:
                    node = ("sel", node, self.take().text)
            elif t.text == "(" and t.kind == "op":
                self.take()
                args: list[Node] = []
                while not self.at(")"):
                    args.append(self.expr())
                    if self.at("..."):
                        self.take()
                    if self.at(","):
                        self.take()
                    while self.peek().kind == "semi":
                        self.take()
                self.take()
                node = ("call", node, args)
            elif t.text == "[" and t.kind == "op":
                self.take()
                index: Node = ("lit", None)
                if not self.at(":"):
                    index = self.expr()
                if not self.at("]"):
                    self.skip_to("]")
                self.take()
                node = ("index", node, index)
            elif t.text == "{" and t.kind == "op" and node[0] in ("ident", "sel", "type", "index"):
                node = self.composite(node)
            else:
                return node

    def type_expr(self) -> str:
        """A type, as its source text (``map[string]*schema.Schema``)."""
        parts: list[str] = []
        while True:
            t = self.peek()
            if t.text in ("*",):
                parts.append(self.take().text)
            elif t.text == "[":
                start = self.pos
                self.skip_balanced()
                parts.append("".join(x.text for x in self.toks[start : self.pos]))
            elif t.text == "map":
                self.take()
                start = self.pos
                self.skip_balanced()
                parts.append("map" + "".join(x.text for x in self.toks[start : self.pos]))
            elif t.text in ("struct", "interface"):
                self.take()
                self.skip_balanced()
                parts.append(t.text + "{}")
                return "".join(parts)
            elif t.text == "func":
                self.take()
                self._params()
                parts.append("func")
                return "".join(parts)
            elif t.text == "chan":
                parts.append(self.take().text + " ")
            elif t.kind == "ident":
                parts.append(self.take().text)
                if self.at("."):
                    self.take()
                    parts.append("." + self.take().text)
                return "".join(parts)
            else:
                raise GoSyntaxError(f"{self.path}:{t.line}: unexpected {t.text!r} in type")

    def composite(self, typ: Node | None) -> Node:
        self.expect("{")
        elems: list[tuple[Node | None, Node]] = []
        while True:
            while self.peek().kind == "semi":
                self.take()
            if self.at("}"):
                self.take()
                return ("complit", typ, elems)
            first = self.composite(None) if self.at("{") else self.expr()
            if self.at(":"):
                self.take()
                value = self.composite(None) if self.at("{") else self.expr()
                elems.append((first, value))
            else:
                elems.append((None, first))
            while self.peek().kind == "semi":
                self.take()
            if self.at(","):
                self.take()

    # -------------------------------------------------------------- statements

    def statements(self) -> Iterator[tuple[str, Any]]:
        """Top-level statements of a body: ("assign", lhs, rhs, op), ("return", exprs),
        ("skipped", first_tok_index, end_index)."""
        while self.pos < self.end:
            t = self.peek()
            if t.kind == "semi":
                self.take()
                continue
            if t.kind == "ident" and t.text in ("if", "for", "switch", "select"):
                start = self.pos
                self.take()
                self.skip_to("{")
                self.skip_balanced()
                while t.text == "if" and self.at("else"):
                    self.take()
                    if self.at("if"):
                        self.take()
                        self.skip_to("{")
                    self.skip_balanced()
                yield ("skipped", start, self.pos)
            elif t.kind == "ident" and t.text in _SKIP_STATEMENTS:
                self.skip_to(";", "}")
            elif t.text == "{":
                start = self.pos
                self.skip_balanced()
                yield ("skipped", start, self.pos)
            elif t.text == "return":
                self.take()
                yield ("return", [] if self.at(";", "}") else self.expr_list())
            elif t.text == "var":
                self.take()
                local: dict[str, Node] = {}
                self._group(lambda into=local: self._var(into))
                for name, value in local.items():
                    yield ("assign", [("ident", name)], [value], ":=")
            else:
                lhs = self.expr_list()
                if self.peek().kind == "op" and self.peek().text in _ASSIGN:
                    op = self.take().text
                    yield ("assign", lhs, self.expr_list(), op)
                elif self.at("++", "--"):
                    self.take()
                elif self.at(":"):  # label
                    self.take()
            if self.peek().kind not in ("semi", "eof") and self.pos < self.end:
                raise GoSyntaxError(f"{self.path}:{self.peek().line}: unexpected {self.peek().text!r} after statement")


# ------------------------------------------------------------------ values


@dataclass
class Opaque:
    """A value this reader does not compute (external call, closure, arithmetic)."""

    what: str


@dataclass
class FuncRef:
    """A function of the repository (or an external one: ``decl`` is None)."""

    name: str
    decl: FuncDecl | None


class Struct:
    """A struct literal whose fields are evaluated on first access (Go pointer semantics)."""

    def __init__(self, typ: str, fields: dict[str, Node], env: Env, line: int = 0) -> None:
        self.typ = typ
        self._exprs = fields
        self._env = env
        self._values: dict[str, Any] = {}
        self.file = env.file.path
        self.line = line

    def get(self, name: str) -> Any:
        if name not in self._values:
            expr = self._exprs.get(name)
            self._values[name] = None if expr is None else self._env.program.eval(expr, self._env)
        return self._values[name]

    def set(self, name: str, value: Any) -> None:
        self._values[name] = value

    def has(self, name: str) -> bool:
        return name in self._exprs or name in self._values


class GoMap(dict):  # type: ignore[type-arg]
    """A Go map value (``map[string]*schema.Schema{...}``), keyed by evaluated keys."""


@dataclass
class Env:
    """Where an expression is evaluated: its file (package, imports) and local variables."""

    program: Program
    file: GoFile
    locals: dict[str, Any] = field(default_factory=dict)


Builtin = Callable[[list[Any]], Any]


class Program:
    """The Go packages of one repository, loaded on demand from ``read(path)``.

    ``list_dir(dir)`` names the ``.go`` files of a directory; ``read(path)`` returns a file's
    text. Packages are directories relative to the repository root.
    """

    def __init__(
        self,
        list_dir: Callable[[str], list[str]],
        read: Callable[[str], str],
        builtins: dict[str, Builtin] | None = None,
        module: str = MODULE_PREFIX,
    ) -> None:
        self.module = module.rstrip("/") + "/"
        self._list_dir = list_dir
        self._read = read
        self._files: dict[str, GoFile] = {}
        self._index: dict[str, dict[str, list[str]]] = {}
        self._var_cache: dict[tuple[str, str], Any] = {}
        self.builtins = builtins or {}
        self.skipped: list[str] = []
        self.called: list[str] = []
        self._depth = 0

    def parse_file(self, path: str) -> GoFile:
        text = self._read(path)
        header = "\n".join(text.splitlines()[:12])
        try:
            return Parser(tokenize(text), path).file(header)
        except GoSyntaxError as exc:
            raise GoSyntaxError(f"{path}: {exc}") from None

    def file(self, path: str) -> GoFile:
        """The parsed file at ``path`` (parsed once)."""
        if path not in self._files:
            self._files[path] = self.parse_file(path)
        return self._files[path]

    def _candidates(self, directory: str, name: str) -> list[str]:
        """Files of a package that may declare ``name`` at top level (a cheap text index, so
        that only the files a schema needs are parsed)."""
        if directory not in self._index:
            index: dict[str, list[str]] = {}
            for n in sorted(self._list_dir(directory)):
                if not n.endswith(".go") or n.endswith("_test.go"):
                    continue
                path = f"{directory}/{n}"
                for m in _DECL.finditer(self._read(path)):
                    index.setdefault(m.group(1) or m.group(2) or m.group(3), []).append(path)
            self._index[directory] = index
        return self._index[directory].get(name, [])

    def lookup(self, directory: str, name: str) -> tuple[str, Any] | None:
        """``("var", (file, expr))`` or ``("func", decl)`` for a package-level name."""
        for path in dict.fromkeys(self._candidates(directory, name)):
            f = self.file(path)
            if name in f.funcs:
                return "func", f.funcs[name]
            if name in f.vars:
                return "var", (f, f.vars[name])
        return None

    # -------------------------------------------------------------- evaluation

    def eval(self, node: Node, env: Env) -> Any:
        kind = node[0]
        if kind == "lit":
            return node[1]
        if kind == "ident":
            return self._ident(node[1], env)
        if kind == "sel":
            base = node[1]
            if base[0] == "ident" and base[1] not in env.locals and base[1] in env.file.imports:
                return self._qualified(env.file.imports[base[1]], base[1], node[2])
            value = self.eval(base, env)
            return value.get(node[2]) if isinstance(value, Struct) else Opaque(_show(node))
        if kind == "unary":
            value = self.eval(node[2], env)
            if node[1] == "!" and isinstance(value, bool):
                return not value
            return value if node[1] in ("&", "*") else Opaque(_show(node))
        if kind == "call":
            return self._call(node, env)
        if kind == "index":
            value = self.eval(node[1], env)
            if isinstance(value, dict):
                return value.get(self.eval(node[2], env))
            return Opaque(_show(node))
        if kind == "complit":
            return self._composite(node, env, None)
        return Opaque(_show(node))

    def _ident(self, name: str, env: Env) -> Any:
        if name in env.locals:
            return env.locals[name]
        if name in ("true", "false"):
            return name == "true"
        if name == "nil":
            return None
        return self._package_name(str(PurePosixPath(env.file.path).parent), name, name)

    def _qualified(self, import_path: str, alias: str, name: str) -> Any:
        qualified = f"{import_path.rsplit('/', 1)[-1]}.{name}"
        if qualified in self.builtins:
            return FuncRef(qualified, None)
        if not import_path.startswith(self.module):
            return Opaque(f"{alias}.{name}")
        return self._package_name(import_path[len(self.module) :], name, qualified)

    def _package_name(self, directory: str, name: str, shown: str) -> Any:
        found = self.lookup(directory, name)
        if found is None:
            return Opaque(shown)
        if found[0] == "func":
            return FuncRef(f"{directory.rsplit('/', 1)[-1]}.{name}", found[1])
        key = (directory, name)
        if key not in self._var_cache:
            self._var_cache[key] = Opaque(f"{shown} (recursive)")
            gofile, expr = found[1]
            self._var_cache[key] = self.eval(expr, Env(self, gofile))
        return self._var_cache[key]

    def _call(self, node: Node, env: Env) -> Any:
        fn = self.eval(node[1], env)
        if not isinstance(fn, FuncRef):
            return Opaque(_show(node))
        args = [self.eval(a, env) for a in node[2]]
        if fn.name in self.builtins:
            return self.builtins[fn.name](args)
        if fn.decl is None or self._depth > 40:
            return Opaque(_show(node))
        self.called.append(fn.name)
        decl = fn.decl
        local: dict[str, Any] = {}
        for i, pname in enumerate(decl.params):
            if decl.variadic and i == len(decl.params) - 1:
                local[pname] = args[i:]
            else:
                local[pname] = args[i] if i < len(args) else None
        self._depth += 1
        try:
            return self.run(decl, Env(self, decl.file, local))
        finally:
            self._depth -= 1

    def run(self, decl: FuncDecl, env: Env) -> Any:
        """Run a function body's top-level statements; the first ``return`` value."""
        toks = decl.file.toks
        parser = Parser(toks, decl.file.path, decl.body[0], decl.body[1])
        for stmt in parser.statements():
            if stmt[0] == "return":
                return self.eval(stmt[1][0], env) if stmt[1] else None
            if stmt[0] == "skipped":
                text = " ".join(t.text for t in toks[stmt[1] : stmt[2]])
                if "ForceNew" in text or "Schema [" in text:
                    self.skipped.append(f"{decl.file.path}:{toks[stmt[1]].line} (in {decl.name})")
                continue
            _, lhs, rhs, op = stmt
            values = [self.eval(r, env) for r in rhs]
            if len(values) != len(lhs):
                values = [values[0] if values else None] + [Opaque("multi")] * (len(lhs) - 1)
            for target, value in zip(lhs, values, strict=True):
                if op in (":=", "="):
                    self._store(target, value, env)
        return None

    def _store(self, target: Node, value: Any, env: Env) -> None:
        if target[0] == "ident":
            if target[1] != "_":
                env.locals[target[1]] = value
        elif target[0] == "index":
            container = self.eval(target[1], env)
            if isinstance(container, dict):
                container[self.eval(target[2], env)] = value
        elif target[0] == "sel":
            obj = self.eval(target[1], env)
            if isinstance(obj, Struct):
                obj.set(target[2], value)

    def _composite(self, node: Node, env: Env, context_type: str | None) -> Any:
        typ_node = node[1]
        if typ_node is None:
            typ = context_type or ""
        elif typ_node[0] == "type":
            typ = typ_node[1]
        else:
            typ = self._type_name(typ_node, env)
        typ = typ.lstrip("*")
        line = 0
        if typ.startswith("map["):
            value_type = _map_value_type(typ)
            out = GoMap()
            for key, value in node[2]:
                k = self.eval(key, env) if key is not None else None
                out[k] = self._element(value, env, value_type)
            return out
        if typ.startswith("["):
            elem_type = re.sub(r"^\[[^\]]*\]", "", typ)
            return [self._element(v, env, elem_type) for _, v in node[2]]
        fields = {k[1]: v for k, v in node[2] if k is not None and k[0] == "ident"}
        return Struct(typ, fields, env, line)

    def _element(self, value: Node, env: Env, typ: str) -> Any:
        if value[0] == "complit" and value[1] is None:
            return self._composite(value, env, typ)
        return self.eval(value, env)

    def _type_name(self, node: Node, env: Env) -> str:
        if node[0] == "sel" and node[1][0] == "ident":
            path = env.file.imports.get(node[1][1], node[1][1])
            return f"{path.rsplit('/', 1)[-1]}.{node[2]}"
        if node[0] == "ident":
            return node[1]
        return _show(node)


def _map_value_type(typ: str) -> str:
    depth = 0
    for i, ch in enumerate(typ):
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth == 0:
                return typ[i + 1 :]
    return ""


def _show(node: Node) -> str:
    """Short source-like text of a node, for messages."""
    kind = node[0]
    if kind == "ident":
        return str(node[1])
    if kind == "sel":
        return f"{_show(node[1])}.{node[2]}"
    if kind == "call":
        return f"{_show(node[1])}(...)"
    if kind == "lit":
        return repr(node[1])
    if kind == "unary":
        return f"{node[1]}{_show(node[2])}"
    if kind == "index":
        return f"{_show(node[1])}[{_show(node[2])}]"
    if kind == "complit":
        return f"{_show(node[1]) if node[1] else ''}{{...}}"
    if kind == "type":
        return str(node[1])
    return kind
