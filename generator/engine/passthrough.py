"""``df-gen terraform [--sandbox] -- ARGS`` and the sandbox's environment for Terraform."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

from generator.engine.resolve import resolve_engine
from generator.errors import DfGenError


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
