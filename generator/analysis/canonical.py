"""SQL text with df-gen's table names replaced by placeholders, so that one analysis serves
every pipeline that shares the statement.

The pipelines of one code directory render the same SQL template with their own projects,
datasets and tables: ``MERGE `acme-cur.acme_sales_curated.orders` ...`` in one pipeline is
``MERGE `acme-cur.acme_shop_curated.orders` ...`` in the next. sqlglot's analysis (parse,
qualify, walk the scopes) treats an identifier as an opaque name, so the analysis of the one
text is the analysis of the other with the names swapped, as long as:

- every occurrence of a replaced name goes away: a name that is left anywhere else in the
  text (a column qualified by the table's name, ``FROM p.d.t`` without back-ticks, a string)
  could tie the statement to it, so such a text is not made canonical (line comments do not
  count, where they are surely comments);
- equal parts stay equal and different parts stay different (two tables called ``orders``
  in two datasets share the default alias ``orders``), so each distinct project, dataset and
  table part gets its own placeholder, in order of first appearance;
- only tables a schema describes are replaced (never ``INFORMATION_SCHEMA`` or another
  name sqlglot could treat specially), written in back-ticks in lower case, so that no
  normalisation of the dialect applies to the name or the placeholder;
- the tables' schemas are part of the cache key (``cache.py`` keys on the placeholder
  text and the schema of the table behind each placeholder).

Positions in the canonical text differ from the original's: an error found there is reported
by analysing the original text (``cache.Analyser``). ``tests/analysis_test.py`` checks that
the canonical analysis, renamed back, equals the direct one on the demo, the synthetic
benchmark's SQL and hand-written statements that try the rules above.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

# `project.dataset.table` in back-ticks, lower case (project IDs have dashes).
_REFERENCE = re.compile(r"`([a-z][a-z0-9-]*)\.([a-z_][a-z0-9_]*)\.([a-z_][a-z0-9_]*)`")
PLACEHOLDER = "dfgen_ph_"
"""Prefix of the placeholders; a text that already contains it is left as it is."""
_PLACEHOLDERS = re.compile(rf"{PLACEHOLDER}[pdt][0-9]+")
_WORD = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")


@dataclass(frozen=True)
class Canonical:
    """The canonical text and the table behind each of its placeholder names."""

    text: str
    tables: tuple[tuple[str, str], ...]
    """(placeholder ``project.dataset.table``, real ``project.dataset.table``), in order."""

    def real(self, name: str) -> str:
        """The real name of a placeholder table name (other names are returned as they are)."""
        for placeholder, real in self.tables:
            if placeholder == name:
                return real
        return name


def canonical(text: str, known: Callable[[str], bool]) -> Canonical | None:
    """``text`` with every back-ticked reference to a ``known`` table replaced, or None when
    the rules above do not hold (then the text is analysed as it is)."""
    if PLACEHOLDER in text.lower():
        return None
    parts: list[dict[str, str]] = [{}, {}, {}]
    tables: dict[str, str] = {}

    def replace(match: re.Match[str]) -> str:
        real = match.group(0)[1:-1]
        if not known(real):
            return match.group(0)
        names = []
        for index, (kind, part) in enumerate(zip("pdt", match.groups(), strict=True)):
            names.append(parts[index].setdefault(part, f"{PLACEHOLDER}{kind}{len(parts[index])}"))
        placeholder = ".".join(names)
        tables.setdefault(placeholder, real)
        return f"`{placeholder}`"

    replaced = _REFERENCE.sub(replace, text)
    if not tables:
        return None
    rest = _PLACEHOLDERS.sub(" ", _without_comments(replaced).lower())
    if any(_mentions(rest, part) for names in parts for part in names):
        return None  # a replaced name is still mentioned: the analysis could depend on it
    return Canonical(replaced, tuple(tables.items()))


def _without_comments(text: str) -> str:
    """``text`` without its ``--`` and ``#`` line comments, where that is sure: a comment
    that starts after a quote on its line (it may be inside a string) is kept, and so is
    every comment of a text with block comments or triple-quoted strings (which span lines).
    A comment kept is searched for mentions too: only a safe text is shared."""
    if "/*" in text or "'''" in text or '"""' in text:
        return text
    lines = []
    for line in text.split("\n"):
        cut = min((i for i in (line.find("--"), line.find("#")) if i >= 0), default=-1)
        if cut >= 0 and not any(quote in line[:cut] for quote in "'\"`"):
            line = line[:cut]
        lines.append(line)
    return "\n".join(lines)


def _mentions(text: str, name: str) -> bool:
    """Whether ``name`` occurs in ``text`` as a token of its own: not inside a longer
    identifier (a letter, digit or underscore on either side). A dash or dot next to it
    counts as a mention, so ``x-name`` or ``name.col`` is one: wrongly rejecting a text
    costs an analysis, wrongly accepting one would cost a wrong result."""
    start = text.find(name)
    while start != -1:
        end = start + len(name)
        if (start == 0 or text[start - 1] not in _WORD) and (end == len(text) or text[end] not in _WORD):
            return True
        start = text.find(name, start + 1)
    return False
