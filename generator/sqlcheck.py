"""Is a view's SQL one BigQuery query? Parsed with sqlglot's BigQuery dialect.

BigQuery refuses to create a view whose query is empty, is not SQL, or is not a single
query (``CREATE VIEW`` takes one ``SELECT``-like statement). sqlglot is imported on first
use, so commands that never see a view do not pay for it, and results are cached by text,
so one SQL file shared by many pipelines is parsed once.
"""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=4096)
def view_problem(text: str) -> tuple[int, int, str] | None:
    """``(line, column, why)`` when ``text`` is not one BigQuery query, else None."""
    import sqlglot  # lazy: a second or so of import time saved when no view is checked
    from sqlglot import exp
    from sqlglot.errors import ParseError, TokenError

    try:
        statements = [s for s in sqlglot.parse(text, read="bigquery") if s is not None]
    except ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        reason = str(first.get("description") or exc).splitlines()[0]
        return int(first.get("line") or 1), int(first.get("col") or 1), f"not BigQuery SQL: {reason}"
    except TokenError as exc:
        return 1, 1, f"not BigQuery SQL: {str(exc).splitlines()[0]}"
    if not statements:
        return 1, 1, "the file holds no query; a view needs one SELECT"
    if len(statements) > 1:
        return 1, 1, f"a view is one query, this file holds {len(statements)} statements"
    if not isinstance(statements[0], exp.Query):
        kind = statements[0].key.upper()
        return 1, 1, f"a view is one query (SELECT ...), not a {kind} statement"
    return None
