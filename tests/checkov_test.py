"""Security yardstick: checkov finds no failed check in any bundled module (issue 4).

Checks that do not apply are skipped inline in the .tf files with
``#checkov:skip=ID:reason``; this test only reads checkov's JSON report.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tfsupport import ROOT


def _checkov() -> list[str]:
    # Prefer the script next to this interpreter: PATH may hold another checkov.
    script = Path(sys.executable).with_name("checkov")
    if script.exists():
        return [str(script)]
    found = shutil.which("checkov")
    assert found, "checkov is not installed: it is part of the dev extra (pip install -e '.[dev]')"
    return [found]


def run_checkov(directory: Path, quiet: bool = True) -> list[dict]:
    """Run checkov over ``directory`` offline; return its report(s) as a list.

    ``quiet`` leaves passed checks out of the report.
    """
    proc = subprocess.run(
        [
            *_checkov(),
            *("-d", str(directory), "--framework", "terraform", "--skip-download"),
            *(("--quiet",) if quiet else ()),
            *("--compact", "-o", "json"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    # Exit 1 means "failed checks"; anything else non-zero is checkov itself failing.
    assert proc.returncode in (0, 1), f"checkov failed to run:\n{proc.stderr[-3000:]}"
    report = json.loads(proc.stdout)
    return report if isinstance(report, list) else [report]


def failed_checks(reports: list[dict]) -> list[str]:
    """One line per failed check: ID, resource, file and the check's name."""
    return sorted(
        f"{f['check_id']} {f['resource']} ({f['file_path']}): {f['check_name']}"
        for r in reports
        for f in r.get("results", {}).get("failed_checks", [])
    )


@pytest.mark.slow  # checkov takes about 15 s a run: the slow lane
def test_checkov_is_clean_on_all_modules():
    reports = run_checkov(ROOT / "modules", quiet=False)
    summaries = [r.get("summary", {}) for r in reports]
    assert sum(s.get("resource_count", 0) for s in summaries) > 0, "checkov saw no resources"
    assert all(s.get("parsing_errors", 0) == 0 for s in summaries), summaries
    # Every bundled module was really scanned (paths are relative: /<module>/<file>.tf).
    checked = {
        c["file_path"].strip("/").split("/")[0]
        for r in reports
        for kind in ("passed_checks", "failed_checks", "skipped_checks")
        for c in r.get("results", {}).get(kind, [])
    }
    assert checked == {p.parent.name for p in (ROOT / "modules").glob("*/versions.tf")}
    failures = failed_checks(reports)
    assert not failures, "checkov failed checks:\n" + "\n".join(failures)


def test_every_inline_skip_gives_a_reason():
    bare = []
    for tf in sorted((ROOT / "modules").rglob("*.tf")):
        for number, line in enumerate(tf.read_text(encoding="utf-8").splitlines(), 1):
            if "checkov:skip=" in line:
                # checkov:skip=CKV_X_1:reason -> the reason must be a real sentence.
                parts = line.split("checkov:skip=", 1)[1].split(":", 1)
                if len(parts) < 2 or len(parts[1].strip()) < 15:
                    bare.append(f"{tf.relative_to(ROOT)}:{number}")
    assert not bare, "checkov skips without a reason: " + ", ".join(bare)


@pytest.mark.slow  # checkov takes about 15 s a run: the slow lane
def test_checkov_is_clean_on_rendered_demo_stacks():
    """The stacks df-gen renders (with the modules they call) pass checkov too (issue 5)."""
    reports = run_checkov(ROOT / "environments" / "demo" / "stacks")
    assert sum(r.get("summary", {}).get("passed", 0) for r in reports) > 0
    failures = failed_checks(reports)
    assert not failures, "checkov failed checks:\n" + "\n".join(failures)
