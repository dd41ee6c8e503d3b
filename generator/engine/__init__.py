"""The one package through which df-gen runs Terraform.

- :mod:`~generator.engine.resolve`: which engine (flag, ``DF_GEN_TERRAFORM``, terraform,
  tofu, the embedded one), and whether it can run the sandbox;
- :mod:`~generator.engine.core`: the :class:`Engine` (run, verify, version), the
  :class:`TerraformEngine` protocol the runner needs, the shared plugin cache and its lock;
- :mod:`~generator.engine.process`: starting a process through python-terraform (its faults
  worked around) and :func:`pump`, the one reader of its pipes;
- :mod:`~generator.engine.passthrough`: ``df-gen terraform [--sandbox] -- ARGS`` and the
  sandbox's environment for Terraform.
"""

from __future__ import annotations

from generator.engine.core import (
    CACHE_WRITERS,
    MINIMUM_VERSION,
    Engine,
    TerraformEngine,
    cache_dir,
    plugin_cache_dir,
)
from generator.engine.passthrough import check_sandbox_store, run_terraform, sandbox_environment
from generator.engine.process import Process, StreamFn, pump
from generator.engine.resolve import (
    EMBEDDED,
    ENV_TERRAFORM,
    SANDBOX_MIN_TERRAFORM,
    describe_engine,
    embedded_available,
    resolve_engine,
    sandbox_capable,
    shim_path,
)

__all__ = [
    "CACHE_WRITERS",
    "EMBEDDED",
    "ENV_TERRAFORM",
    "MINIMUM_VERSION",
    "SANDBOX_MIN_TERRAFORM",
    "Engine",
    "Process",
    "StreamFn",
    "TerraformEngine",
    "cache_dir",
    "check_sandbox_store",
    "describe_engine",
    "embedded_available",
    "plugin_cache_dir",
    "pump",
    "resolve_engine",
    "run_terraform",
    "sandbox_capable",
    "sandbox_environment",
    "shim_path",
]
