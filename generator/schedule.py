"""What Airflow accepts as a DAG's schedule and start date, checked before anything renders.

A schedule is a preset (the JSON Schema lists them) or a standard five-field cron
expression: minute, hour, day of month, month, day of week, each field a ``*``, a number, a
range ``a-b`` or a list of those, optionally with a ``/step``; months and weekdays may be
written as three-letter names. Airflow parses cron with croniter; the fields and ranges
here are the common subset (croniter's extensions such as ``L`` and ``#`` are refused, so
a schedule that passes also means the same thing in any cron).
"""

from __future__ import annotations

import datetime
import re

_FIELDS = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    ("month", 1, 12, ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")),
    # 0 and 7 are both Sunday.
    ("day of week", 0, 7, ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")),
)
_ITEM = re.compile(r"^(?P<range>\*|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:/(?P<step>[0-9]+))?$")


def schedule_problem(schedule: str) -> str | None:
    """Why ``schedule`` is no valid preset or cron expression, or None."""
    if schedule.startswith("@") or schedule == "none":
        return None  # the schema's pattern lists the presets
    fields = schedule.split()
    if len(fields) != len(_FIELDS):
        return f"a cron expression has {len(_FIELDS)} fields (minute hour day month weekday), not {len(fields)}"
    for text, (what, low, high, names) in zip(fields, _FIELDS, strict=True):
        for item in text.split(","):
            problem = _item_problem(item, what, low, high, names)
            if problem:
                return problem
    return None


def _item_problem(item: str, what: str, low: int, high: int, names: tuple[str, ...]) -> str | None:
    match = _ITEM.match(item)
    if not match:
        return f"'{item}' is not a valid {what} field (use *, a number, a range a-b or a list, with /step)"
    if match["step"] is not None and int(match["step"]) == 0:
        return f"'{item}': the step of the {what} field must be at least 1"
    if match["range"] == "*":
        return None
    bounds = []
    for part in match["range"].split("-"):
        value = _value(part, low, names)
        if value is None or not low <= value <= high:
            return f"'{part}' is not a valid {what} ({low}-{high}{_named(names)})"
        bounds.append(value)
    if len(bounds) == 2 and bounds[0] > bounds[1]:
        return f"'{item}': the {what} range runs backwards"
    return None


def _value(part: str, low: int, names: tuple[str, ...]) -> int | None:
    if part.isdigit():
        return int(part)
    upper = part.upper()
    return names.index(upper) + (1 if low == 1 else 0) if upper in names else None


def _named(names: tuple[str, ...]) -> str:
    return f" or {names[0]}-{names[-1]}" if names else ""


def date_problem(text: str) -> str | None:
    """Why ``text`` (already shaped YYYY-MM-DD by the schema) is no calendar date, or None."""
    try:
        datetime.date.fromisoformat(text)
    except ValueError as exc:
        return f"'{text}' is not a date ({exc})"
    return None
