"""generator.sandbox.run: the sandbox directory, provider wrappers and terraform.rc."""

from __future__ import annotations

import os
from pathlib import Path

from generator.sandbox.run import sandbox_env

FIXTURE_SCHEMA = Path(__file__).parent / "data" / "sandbox" / "google_schema_fixture.json"



def test_sandbox_env_writes_only_into_sandbox_dir(tmp_path: Path) -> None:
    env = sandbox_env(tmp_path / "sb", schema=FIXTURE_SCHEMA)
    rc = Path(env["TF_CLI_CONFIG_FILE"]).read_text()
    wrapper = tmp_path / "sb" / "bin" / "terraform-provider-google"
    assert f'"hashicorp/google" = "{wrapper.parent}"' in rc and "filesystem_mirror" in rc and "direct {" in rc
    assert os.access(wrapper, os.X_OK) and "-m generator.sandbox" in wrapper.read_text()
    assert env["DF_GEN_SANDBOX_DIR"] == str(tmp_path / "sb")
    assert env["TF_PLUGIN_CACHE_DIR"] == str(tmp_path / "sb" / "plugin-cache")  # never the shared cache
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sb"]
