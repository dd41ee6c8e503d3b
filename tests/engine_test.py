"""Tests of generator.engine (resolution order, running, python-terraform workarounds); the
embedded engine's CLI (generator.tfshim) has tfshim_test.py."""

from __future__ import annotations

import inspect
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from fakeengine import FakeEngine

from generator import engine
from generator.engine import Engine, TerraformEngine, process, resolve, resolve_engine
from generator.errors import DfGenError

FAKE = """#!/bin/sh
if [ "$1" = version ]; then
  echo '{{"terraform_version": "{version}", "platform": "linux_amd64"}}'
  exit 0
fi
echo "out:$*"
echo "err:$*" >&2
exit {code}
"""


def _fake(directory: Path, name: str, version: str = "1.9.0", code: int = 0) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(FAKE.format(version=version, code=code))
    path.chmod(0o755)
    return path


@pytest.fixture
def clean_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty PATH (plus /bin for sh) and no DF_GEN_TERRAFORM; cache in tmp."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}/bin{os.pathsep}/usr/bin")
    monkeypatch.delenv(engine.ENV_TERRAFORM, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return bindir


def test_terraform_on_path_wins_over_tofu(clean_path: Path) -> None:
    _fake(clean_path, "tofu")
    tf = _fake(clean_path, "terraform")
    found = resolve_engine()
    assert (found.name, found.path, found.source) == ("terraform", str(tf), "PATH")


def test_tofu_used_when_no_terraform(clean_path: Path) -> None:
    tofu = _fake(clean_path, "tofu", version="1.8.2")
    found = resolve_engine()
    assert (found.name, found.path) == ("tofu", str(tofu))
    assert found.version_string() == "1.8.2"
    assert found.describe().startswith("tofu (OpenTofu 1.8.2)")


def test_embedded_used_when_nothing_on_path(clean_path: Path) -> None:
    found = resolve_engine()
    assert found.name == "embedded"
    assert os.access(found.path, os.X_OK)


def test_env_beats_path_and_flag_beats_env(clean_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake(clean_path, "terraform")
    from_env = _fake(tmp_path / "env", "terraform-env")
    from_flag = _fake(tmp_path / "flag", "tofu-flag")
    monkeypatch.setenv(engine.ENV_TERRAFORM, str(from_env))
    assert resolve_engine().path == str(from_env.resolve())
    flagged = resolve_engine(str(from_flag))
    assert (flagged.path, flagged.name, flagged.source) == (
        str(from_flag.resolve()),
        "tofu",
        "--terraform-bin",
    )


def test_env_embedded_keyword(clean_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake(clean_path, "terraform")
    monkeypatch.setenv(engine.ENV_TERRAFORM, "embedded")
    assert resolve_engine().name == "embedded"


def test_bad_flag_path_is_a_user_error(clean_path: Path, tmp_path: Path) -> None:
    with pytest.raises(DfGenError, match="no executable Terraform at"):
        resolve_engine(str(tmp_path / "missing" / "terraform"))
    with pytest.raises(DfGenError, match="not on PATH"):
        resolve_engine("terraform-that-does-not-exist")


def test_no_engine_at_all(clean_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(resolve, "embedded_available", lambda: False)
    with pytest.raises(DfGenError, match="no Terraform engine found"):
        resolve_engine()
    assert engine.describe_engine().startswith("none (no Terraform engine found")


def test_run_streams_lines_and_returns_code(clean_path: Path, tmp_path: Path) -> None:
    fake = Engine("terraform", str(_fake(tmp_path / "x", "terraform", code=3)))
    seen: list[tuple[str, str]] = []
    code, out, err = fake.run(["plan", "-input=false"], cwd=tmp_path, stream=lambda k, t: seen.append((k, t)))
    assert code == 3
    assert out == "out:plan -input=false\n"
    assert err == "err:plan -input=false\n"
    assert sorted(seen) == [("stderr", "err:plan -input=false"), ("stdout", "out:plan -input=false")]


def test_destroy_never_passes_force(tmp_path: Path) -> None:
    fake = Engine("terraform", str(_fake(tmp_path, "terraform")))
    code, out, _ = fake.run(fake.destroy_args())
    assert code == 0
    assert "-force" not in out and "-auto-approve" in out
    # python-terraform's own destroy, as patched, does not add -force either.
    proc = process.py_terraform()(terraform_bin_path=fake.path).destroy()
    stdout, _ = proc.communicate()
    assert b"-force" not in stdout and b"-auto-approve" in stdout


def test_python_terraform_faults_that_the_engine_works_around(tmp_path: Path) -> None:
    """The unpatched library really adds -force and leaks -synchronous (why we patch it)."""
    from python_terraform import Terraform

    fake = _fake(tmp_path, "terraform")
    original = Terraform(working_dir=str(tmp_path), terraform_bin_path=str(fake))
    code, out, _ = original.destroy()
    assert code == 0 and "-force" in out
    assert "-synchronous=false" in original.generate_cmd_string("plan", synchronous=False)
    patched = process.py_terraform()(working_dir=str(tmp_path), terraform_bin_path=str(fake))
    proc = patched.cmd("plan", synchronous=False)
    stdout, _ = proc.communicate()
    assert stdout.decode().strip() == "out:plan"


def test_plugin_cache_is_shared_and_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "c"))
    monkeypatch.delenv("TF_PLUGIN_CACHE_DIR", raising=False)
    script = tmp_path / "terraform"
    script.write_text('#!/bin/sh\necho "$TF_PLUGIN_CACHE_DIR"\n')
    script.chmod(0o755)
    _, out, _ = Engine("terraform", str(script)).run(["init"])
    assert out.strip() == str(tmp_path / "c" / "df-gen" / "plugins")
    assert (tmp_path / "c" / "df-gen" / "plugins" / ".df-gen.lock").exists()


def test_shim_wrapper_is_generated_when_no_console_script(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(sys, "executable", str(tmp_path / "nobin" / "python"))
    path = Path(engine.shim_path())
    assert path.parent == tmp_path / "df-gen" / "bin"
    assert "-m generator.tfshim" in path.read_text()
    assert os.access(path, os.X_OK)


def test_sandbox_passes_over_old_terraform_on_path(clean_path: Path) -> None:
    _fake(clean_path, "terraform", version="1.11.4")
    assert resolve_engine().name == "terraform"
    chosen = resolve_engine(for_sandbox=True)
    assert chosen.name == "embedded"
    assert "terraform 1.11.4 on PATH cannot run the sandbox" in chosen.source
    # An explicit choice is honoured even for the sandbox.
    assert resolve_engine(str(clean_path / "terraform"), for_sandbox=True).name == "terraform"


def test_sandbox_keeps_new_terraform_on_path(clean_path: Path) -> None:
    _fake(clean_path, "terraform", version="1.15.0")
    assert resolve_engine(for_sandbox=True).name == "terraform"
    _fake(clean_path, "terraform", version="1.16.2")
    assert engine.sandbox_capable(resolve_engine())


# ------------------------------------------------------------------ the engine the runner needs (TerraformEngine)


def _protocol_members(protocol: type) -> dict[str, inspect.Signature | None]:
    """The members a Protocol declares: methods with their signatures, attributes with None."""
    members: dict[str, inspect.Signature | None] = dict.fromkeys(protocol.__annotations__)
    for name, value in vars(protocol).items():
        if inspect.isfunction(value) and not name.startswith("_"):
            members[name] = inspect.signature(value)
    return members


def _conformance_problems(candidate: type, protocol: type) -> list[str]:
    """Why ``candidate`` is not a ``protocol`` (members and call signatures), empty when it is."""
    problems = []
    for name, signature in _protocol_members(protocol).items():
        if not hasattr(candidate, name) and name not in getattr(candidate, "__annotations__", {}) \
                and name not in getattr(candidate, "__dataclass_fields__", {}):
            problems.append(f"no {name}")
        elif signature is not None:
            theirs = inspect.signature(getattr(candidate, name))
            positional = [p.name for p in signature.parameters.values() if p.kind is p.POSITIONAL_OR_KEYWORD]
            try:  # every call the runner may make must bind: positional, then by keyword
                theirs.bind(*positional)
                theirs.bind(positional[0], **{p: None for p in positional[1:]})
            except TypeError as exc:
                problems.append(f"{name}{theirs}: {exc}")
    return problems


@pytest.mark.parametrize("candidate", [FakeEngine, Engine], ids=["fake", "real"])
def test_fake_and_real_engines_are_terraform_engines(candidate: type) -> None:
    assert _conformance_problems(candidate, TerraformEngine) == []


def test_an_engine_without_a_member_the_runner_uses_is_refused() -> None:
    class Partial:
        name = path = "partial"

        def verify(self) -> None: ...

        def popen(self, args: list[str]) -> Any: ...  # no cwd or env

        def run(self, args: list[str], cwd: Any = None, env: Any = None, stream: Any = None) -> Any: ...

    assert not isinstance(Partial(), TerraformEngine)  # destroy_args is missing
    problems = _conformance_problems(Partial, TerraformEngine)
    assert problems[0].startswith("popen(") and problems[0].endswith("too many positional arguments")
    assert problems[1:] == ["no destroy_args"]
