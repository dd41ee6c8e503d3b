"""How a stack ended a run: one :class:`Status` shared by the runner, progress and reports.

A ``StrEnum``, so a status prints, compares and serialises as its text: ``plan --json``
and the plan report keep the five plan statuses the README lists (``skipped``,
``no-changes``, ``changes``, ``blocked``, ``failed``); ``applied``, ``destroyed`` and ``ok``
end the other commands. A stack waiting for an upstream stack's first apply is reported
as ``blocked``; the runner keeps that it is only waiting in ``StackResult.waiting``, so it
never shows in any output.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """The status a stack ends a command with."""

    SKIPPED = "skipped"  # nothing to do: unchanged since the last apply, or nothing in state
    NO_CHANGES = "no-changes"
    CHANGES = "changes"
    BLOCKED = "blocked"  # not run: a stack it needs did not succeed (or is not applied yet)
    FAILED = "failed"
    APPLIED = "applied"
    DESTROYED = "destroyed"
    OK = "ok"  # output read


PLAN_STATUSES = (Status.SKIPPED, Status.NO_CHANGES, Status.CHANGES, Status.BLOCKED, Status.FAILED)
"""What ``plan`` can end a stack with (the README's list)."""
