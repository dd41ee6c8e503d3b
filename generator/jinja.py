"""The one strict Jinja environment df-gen renders with.

Undefined names fail loudly (StrictUndefined), output keeps its trailing newline, nothing
is HTML-escaped, and template errors keep the template's name and line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jinja2

from generator.errors import DfGenError


def environment(*search_path: Path) -> jinja2.Environment:
    """A strict environment loading templates from ``search_path``."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(p) for p in search_path]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["tojson"] = lambda value: json.dumps(value, sort_keys=True)
    return env


def render(env: jinja2.Environment, name: str, context: dict[str, Any]) -> str:
    """Render template ``name``; a template fault becomes a DfGenError naming its place."""
    try:
        return env.get_template(name).render(context)
    except jinja2.TemplateSyntaxError as exc:
        raise DfGenError(f"{exc.filename or name}:{exc.lineno}: template syntax error: {exc.message}") from None
    except jinja2.UndefinedError as exc:
        raise DfGenError(f"{name}: template uses an undefined value: {exc.message}") from None
