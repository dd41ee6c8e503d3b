"""The one error type of df-gen and the diagnostics it carries.

Anything a user can cause (a bad descriptor, a missing file, a failed Terraform command)
raises :class:`DfGenError`; the CLI prints each diagnostic as one line and exits 1.
Anything else is a bug and keeps its traceback (shown with ``--debug``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem at one place: ``path:line:col: error: message``."""

    path: str
    line: int
    col: int
    message: str
    hint: str = ""

    def format(self) -> str:
        """The one-line text form; the hint follows after ``(hint: ...)``."""
        where = f"{self.path}:{self.line}:{self.col}" if self.line else self.path
        text = f"{where}: error: {self.message}"
        return f"{text} (hint: {self.hint})" if self.hint else text

    def as_dict(self) -> dict[str, object]:
        """The JSON form used by ``--format json``."""
        return {
            "path": self.path,
            "line": self.line,
            "column": self.col,
            "message": self.message,
            "hint": self.hint or None,
        }


class DfGenError(Exception):
    """A user-facing error: one or more diagnostics, or a plain message."""

    def __init__(self, message: str = "", diagnostics: Iterable[Diagnostic] = ()) -> None:
        self.diagnostics = tuple(diagnostics)
        if not message:
            message = "\n".join(d.format() for d in self.diagnostics)
        super().__init__(message)
        self.message = message

    def lines(self) -> list[str]:
        """Every line to print, one per problem."""
        if self.diagnostics:
            return [d.format() for d in self.diagnostics]
        return [f"error: {self.message}"]


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C (one graceful stop), then exit 143."""
