"""Airflow's import errors of one uploaded DAG file, as ``df-gen dags run`` reports them.

Airflow records at most one import error per DAG file (``ParseImportError``): a failed
parse adds it or rewrites its ``timestamp`` and ``stack_trace``, a good parse deletes it
(Airflow 2.10 ``dag_processing/processor.py``: ``update_import_errors``; Airflow 3.1
``dag_processing/collection.py``: ``_update_import_errors``). So an error whose
``(import_error_id, timestamp)`` was not there when ``dags run`` started comes from a parse
made since, of the file as uploaded: the uploaded version does not import.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any


@dataclass(frozen=True)
class ImportErrorReport:
    """One import error Airflow reports for the pipeline's DAG file."""

    error_id: int
    filename: str
    timestamp: str
    stack_trace: str

    @classmethod
    def from_api(cls, entry: dict[str, Any]) -> ImportErrorReport:
        """From one entry of ``GET importErrors``."""
        return cls(int(entry["import_error_id"]), str(entry["filename"]), str(entry.get("timestamp") or ""),
                   str(entry.get("stack_trace") or ""))

    @property
    def seen(self) -> tuple[int, str]:
        """What changes when Airflow records the error again (a new error, or a new failed parse)."""
        return self.error_id, self.timestamp

    def last_line(self) -> str:
        """The last non-empty line of the stack trace: the exception and its message."""
        lines = [line.strip() for line in self.stack_trace.splitlines() if line.strip()]
        return lines[-1] if lines else "(no stack trace)"

    def line(self, object_name: str) -> int:
        """The line of the DAG file in the innermost traceback frame that names it, or 0.

        Frames name the file as Airflow read it (``File "/home/airflow/gcs/dags/x.py", line 7``
        on Composer); a syntax error names it the same way without ``in <module>``.
        """
        pattern = r'File "(?:[^"]*/)?' + re.escape(object_name) + r'", line (\d+)'
        lines = re.findall(pattern, self.stack_trace)
        return int(lines[-1]) if lines else 0

    def as_dict(self) -> dict[str, Any]:
        """The ``import_error`` member of ``dags run --json``."""
        return {"import_error_id": self.error_id, "filename": self.filename, "timestamp": self.timestamp,
                "stack_trace": self.stack_trace}


def names_file(filename: str, object_name: str) -> bool:
    """Whether an import error's ``filename`` is the DAG file uploaded as ``object_name``.

    Airflow 3 gives the path relative to the DAG bundle (Composer's ``dags/`` folder): it must
    be the object name itself. Airflow 2 gives the absolute path
    (``/home/airflow/gcs/dags/store-daily.py`` on Composer), whose DAG folder the API does not
    tell: its last component must be the object name (df-gen uploads a pipeline's other files
    under ``PIPELINE/sql/``, never a second file of that name).
    """
    path = PurePosixPath(filename)
    if path.is_absolute():
        return path.name == object_name
    return str(path) == object_name


def for_file(entries: list[dict[str, Any]], object_name: str) -> list[ImportErrorReport]:
    """The import errors of the DAG file uploaded as ``object_name`` (others' are not ours)."""
    return [ImportErrorReport.from_api(e) for e in entries if names_file(str(e.get("filename", "")), object_name)]
