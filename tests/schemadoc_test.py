"""The README's descriptor reference is generated from the schemas and must be current."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_readme_reference_is_current():
    result = subprocess.run([sys.executable, "tools/schemadoc.py", "--check"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_reference_names_every_top_level_key():
    sys.path.insert(0, str(ROOT / "tools"))
    import schemadoc

    text = schemadoc.render()
    for key in ("`prefix`", "`terraform.state_bucket`", "`buckets.landing.retention_days`",
                "`tables.curated.<name>.policy_tags`", "`data_quality`"):
        assert key in text
