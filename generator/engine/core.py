"""The engine: one resolved Terraform (or OpenTofu, or the embedded one), how to run it, what it is.

Provider plugins are cached in one shared directory (``TF_PLUGIN_CACHE_DIR`` under
``$XDG_CACHE_HOME/df-gen`` or ``~/.cache/df-gen``). Terraform documents that cache as not
safe for concurrent ``init`` runs, so every ``init`` started here holds an exclusive file
lock on the cache for its duration; other commands only read the cache and run freely in
parallel.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from generator.engine.process import Process, StreamFn, pump, py_terraform
from generator.errors import DfGenError
from generator.fsutil import locked

MINIMUM_VERSION = (1, 7, 0)
"""Oldest Terraform (and OpenTofu) df-gen runs: ``moved`` blocks need Terraform 1.1,
``import`` blocks 1.5, ``removed`` blocks 1.7 (OpenTofu 1.7 has all three)."""

# Commands that write the shared plugin cache and therefore run under its lock.
CACHE_WRITERS = frozenset({"init", "get"})


def cache_dir() -> Path:
    """df-gen's cache directory (``$XDG_CACHE_HOME/df-gen`` or ``~/.cache/df-gen``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "df-gen"


def plugin_cache_dir() -> Path:
    """The shared provider plugin cache, created on first use."""
    path = cache_dir() / "plugins"
    path.mkdir(parents=True, exist_ok=True)
    return path


@runtime_checkable
class TerraformEngine(Protocol):
    """What the runner needs from an engine; :class:`Engine` is one, the tests' fake another.

    Runtime-checkable, so a test can refuse a fake engine that lacks a member; mypy checks
    :class:`Engine` against it wherever one is passed to the runner.
    """

    name: str
    path: str

    def verify(self) -> None:
        """Refuse an engine df-gen does not support (before any stack runs)."""
        ...

    def popen(self, args: Sequence[str], cwd: str | os.PathLike[str] | None = None,
              env: Mapping[str, str] | None = None, inherit_stdio: bool = False) -> Process:
        """Start ``engine ARGS`` with piped output (commands Ctrl-C must reach)."""
        ...

    def run(self, args: Sequence[str], cwd: str | os.PathLike[str] | None = None,
            env: Mapping[str, str] | None = None, stream: StreamFn | None = None) -> tuple[int, str, str]:
        """Run ``engine ARGS`` to the end (under the plugin-cache lock for init)."""
        ...

    def destroy_args(self, *extra: str) -> list[str]:
        """Arguments of a non-interactive destroy."""
        ...


@dataclass
class Engine:
    """A resolved Terraform engine: how to run it and what it is."""

    name: str  # "terraform" | "tofu" | "embedded"
    path: str  # the executable df-gen runs
    source: str = ""  # why this engine was chosen (flag, env, PATH, embedded)
    _version: dict[str, Any] | None = field(default=None, repr=False)

    # ---------------------------------------------------------------- running

    def popen(
        self,
        args: Sequence[str],
        cwd: str | os.PathLike[str] | None = None,
        env: Mapping[str, str] | None = None,
        inherit_stdio: bool = False,
    ) -> subprocess.Popen[bytes]:
        """Start ``engine ARGS`` and return the process (pipes unless ``inherit_stdio``)."""
        if not args:
            raise ValueError("no Terraform command given")
        tf = py_terraform()(working_dir=str(cwd) if cwd else None, terraform_bin_path=self.path)
        # The command goes through python-terraform's builder with no options, so ARGS stay
        # exactly as given (no flag rewriting); the first one is the subcommand.
        return tf.cmd(args[0], *args[1:], env=self._env(env), inherit_stdio=inherit_stdio)

    def run(
        self,
        args: Sequence[str],
        cwd: str | os.PathLike[str] | None = None,
        env: Mapping[str, str] | None = None,
        stream: StreamFn | None = None,
    ) -> tuple[int, str, str]:
        """Run ``engine ARGS``; return ``(exit_code, stdout, stderr)``.

        Output is read while the command runs; each line goes to ``stream`` as it arrives.
        """
        with self._cache_lock(args):
            proc = self.popen(args, cwd, env)
            out, err = pump(proc, stream)
        return proc.returncode, out, err

    def run_inherit(
        self,
        args: Sequence[str],
        cwd: str | os.PathLike[str] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> int:
        """Run ``engine ARGS`` on this process's terminal (prompts, colours); return the code.

        Ctrl-C reaches Terraform through the terminal (same process group); we only wait for
        it to finish gracefully and then report 130.
        """
        with self._cache_lock(args):
            proc = self.popen(args, cwd, env, inherit_stdio=True)
            interrupted = False
            while True:
                try:
                    code = proc.wait()
                    break
                except KeyboardInterrupt:
                    interrupted = True  # Terraform got the same SIGINT; let it clean up
        return 130 if interrupted else code

    # ---------------------------------------------------------------- facts

    def version(self) -> dict[str, Any]:
        """``version -json`` of the engine (``terraform_version``, ``platform``...)."""
        if self._version is None:
            code, out, err = self.run(["version", "-json"])
            if code != 0:
                raise DfGenError(f"{self.path} version failed: {err.strip() or out.strip()}")
            try:
                self._version = json.loads(out)
            except ValueError:
                raise DfGenError(f"{self.path} is not Terraform or OpenTofu: 'version -json' printed no "
                                 "JSON document") from None
        return self._version

    def verify(self) -> None:
        """Refuse an engine that is not Terraform or OpenTofu of a version df-gen supports.

        Evidence is the engine's own ``version -json``: a program that prints nothing (or
        anything but that document) is not run against any stack, so that it cannot report
        "no changes" and have df-gen record stacks as applied.
        """
        version = self.version()
        text = str(version.get("terraform_version", "")) if isinstance(version, dict) else ""
        parts = text.split("-", 1)[0].split(".")
        if len(parts) < 2 or not all(p.isdigit() for p in parts[:3]):
            raise DfGenError(f"{self.path} is not Terraform or OpenTofu: its version -json has no "
                             "terraform_version")
        found = tuple(int(p) for p in parts[:3])
        if found < MINIMUM_VERSION:
            product = "OpenTofu" if self.name == "tofu" else "Terraform"
            raise DfGenError(f"{self.path} is {product} {text}; df-gen needs Terraform or OpenTofu "
                             f"{'.'.join(map(str, MINIMUM_VERSION))} or later (moved, import and removed blocks)")

    def version_string(self) -> str:
        """The bare version number, e.g. ``1.15.5``."""
        return str(self.version().get("terraform_version", "unknown"))

    def describe(self) -> str:
        """One line for ``df-gen version``: ``engine: embedded (Terraform 1.15.5) at ...``."""
        product = "OpenTofu" if self.name == "tofu" else "Terraform"
        return f"{self.name} ({product} {self.version_string()}) at {self.path} [{self.source}]"

    # ---------------------------------------------------------------- JSON helpers

    def json_command(
        self,
        args: Sequence[str],
        cwd: str | os.PathLike[str] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Any:
        """Run a command that prints one JSON document; return it parsed."""
        code, out, err = self.run(args, cwd, env)
        if code != 0:
            raise DfGenError(f"terraform {' '.join(args)} failed: {_last_error(err, out)}")
        try:
            return json.loads(out)
        except ValueError as exc:
            raise DfGenError(f"terraform {' '.join(args)} printed no JSON: {exc}") from exc

    def output_json(
        self, cwd: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """``output -json``: ``{name: {"value": ..., "type": ..., "sensitive": bool}}``."""
        return dict(self.json_command(["output", "-json", "-no-color"], cwd, env))

    def destroy_args(self, *extra: str) -> list[str]:
        """Arguments of a non-interactive destroy (never python-terraform's ``-force``)."""
        return ["destroy", "-auto-approve", "-input=false", *extra]

    # ---------------------------------------------------------------- internals

    def _env(self, env: Mapping[str, str] | None) -> dict[str, str]:
        merged = dict(os.environ if env is None else env)
        if "TF_PLUGIN_CACHE_DIR" not in merged:
            merged["TF_PLUGIN_CACHE_DIR"] = str(plugin_cache_dir())
        merged.setdefault("TF_IN_AUTOMATION", "1")
        return merged

    @contextlib.contextmanager
    def _cache_lock(self, args: Sequence[str]) -> Iterator[None]:
        if not args or args[0] not in CACHE_WRITERS:
            yield
            return
        with locked(plugin_cache_dir() / ".df-gen.lock"):
            yield


def _last_error(err: str, out: str) -> str:
    text = (err.strip() or out.strip()).splitlines()
    for line in text:
        cleaned = line.strip("│╷╵ ").strip()
        if cleaned.startswith("Error:"):
            return cleaned
    return text[-1].strip() if text else "no output"
