"""The model's records: a :class:`Model` of :class:`Stack` roots, each with its backend."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from generator import naming
from generator.adoption import Adoption
from generator.hcl import Raw
from generator.lifecycle_blocks import Block, required_version
from generator.resources import data_dir

REMOTE = "data.terraform_remote_state.environment.outputs"
"""How a stack reads the environment stack's outputs (values Google assigns)."""


@dataclass(frozen=True)
class Backend:
    """Where a stack keeps its state (GCS) and whom Terraform impersonates."""

    bucket: str
    prefix: str
    impersonate: str


@dataclass(frozen=True)
class Stack:
    """One Terraform root under ``stacks/``: a single module call and its files."""

    name: str
    kind: str
    key: str
    needs: tuple[str, ...]
    source: str
    arguments: Mapping[str, Any]
    outputs: tuple[str, ...]
    backend: Backend
    region: str
    remote_environment: Backend | None = None
    # Whether the stack's module also needs google-beta (the environment module provisions
    # primary service agents with google_project_service_identity, which GA lacks).
    beta: bool = False
    files: Mapping[str, str] = field(default_factory=dict)
    inputs: tuple[Path, ...] = ()
    lifecycle: tuple[Block, ...] = ()
    """``moved``/``import``/``removed`` blocks, written to ``lifecycle.tf`` (generator.lifecycle_blocks)."""
    released_from: str = ""
    """Set on a stack that only releases resources (no module call): why, in words."""
    adopted: tuple[Adoption, ...] = ()
    """Existing resources the descriptors adopt (``existing: true``): their import blocks are in
    ``lifecycle``; the runner reports a missing one at its descriptor key and destroy keeps them."""

    @property
    def terraform_version(self) -> str:
        """The lowest Terraform version the stack's files need."""
        return required_version(self.lifecycle)


@dataclass(frozen=True)
class Model:
    """Every stack of one environment, in dependency order (environment first)."""

    env_dir: Path
    prefix: str
    stacks: tuple[Stack, ...]

    def stack(self, name: str) -> Stack:
        """The stack called ``name``."""
        return next(s for s in self.stacks if s.name == name)


def frozen(mapping: dict[str, Any]) -> Mapping[str, Any]:
    """A read-only view of ``mapping`` (a stack's arguments and files)."""
    return MappingProxyType(mapping)


def drop_none(mapping: dict[str, Any]) -> dict[str, Any]:
    """``mapping`` without its ``None`` values (optional module attributes left unset)."""
    return {k: v for k, v in mapping.items() if v is not None}


def module_outputs(kind: str) -> tuple[str, ...]:
    """Names of the bundled module's outputs, read from its outputs.tf (once per version of
    the file: every stack of a kind asks)."""
    path = data_dir("modules") / kind / "outputs.tf"
    stat = path.stat()
    return _outputs(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=16)
def _outputs(path: Path, _mtime_ns: int, _size: int) -> tuple[str, ...]:
    return tuple(re.findall(r'^output "([A-Za-z0-9_-]+)"', path.read_text(), flags=re.M))


def agent_email(layer: str, agent: str) -> str:
    """HCL expression of the e-mail of ``agent`` (``pubsub``, ``dataplex``, ``dlp``) in
    ``layer``'s project: the identity the environment stack provisioned (its ``service_agents``
    output, Google's answer to generateServiceIdentity), so that a grant follows the provisioning.

    An environment applied by an earlier df-gen has no such output until its stack is
    applied again; until then (the first plan of an upgrade) the e-mail is derived from the
    project number, in Google's documented format. It is the same address, so the plan made
    after the environment's apply does not change (the runner makes it: the environment's
    outputs are in the dependants' fingerprints)."""
    derived = naming.service_agent_email(agent, "${" + f'{REMOTE}.projects["{layer}"].number' + "}")
    return f'try({REMOTE}.service_agents["{layer}"].{agent}, "{derived}")'


def agent_member(agent: str) -> Raw:
    """IAM member of a pipeline service agent (``layer/agent``), from the environment's output."""
    layer, name = agent.split("/", 1)
    return Raw('"serviceAccount:${' + agent_email(layer, name) + '}"')
