"""Stacks whose descriptor was removed: read back from their rendered files.

``render`` retires such a stack (:mod:`generator.retire`): its files become ``removed``
blocks that release its resources. Every command runs retired stacks, in the dependency
order their rendered header gives; a stack without ``main.tf`` cannot be retired and only
``destroy`` reaches it. With ``--destroy-removed`` the order among retired stacks turns
round (:func:`dependants_first`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from pathlib import Path

from generator import adoption, lifecycle_blocks, retire
from generator.loader import display_path
from generator.model import Backend, Model, Stack


def with_orphans(model: Model, orphans: Sequence[str], destroying: bool = False) -> Model:
    """``model`` plus the stacks without a descriptor, each needing only stacks that exist;
    ``destroying`` (``--destroy-removed``) orders them dependants first."""
    if not orphans:
        return model
    extra = tuple(orphan_stack(model.env_dir / "stacks" / name) for name in orphans)
    known = {stack.name for stack in model.stacks} | set(orphans)
    extra = tuple(dataclasses.replace(stack, needs=tuple(n for n in stack.needs if n in known))
                  for stack in extra)
    if destroying:
        extra = dependants_first(extra)
    return Model(model.env_dir, model.prefix, model.stacks + extra)


def orphan_stack(directory: Path) -> Stack:
    """A stack rendered earlier whose descriptor is gone, read back from its files. Its needs
    are those its descriptors gave it (:func:`generator.retire.descriptor_needs`): a pipeline
    made from datasources/store.yaml used that data source's datasets and buckets."""
    name = directory.name
    kind = name.split("-", 1)[0] if "-" in name else name
    main = (directory / "main.tf").read_text() if (directory / "main.tf").is_file() else ""
    lifecycle_file = directory / lifecycle_blocks.FILE
    lifecycle = lifecycle_file.read_text() if lifecycle_file.is_file() else ""
    found = re.search(r'^\s*source\s*=\s*"([^"]+)"', main, flags=re.M)
    providers = (directory / "providers.tf").read_text() if (directory / "providers.tf").is_file() else ""
    reads_environment = 'data "terraform_remote_state" "environment"' in providers
    backend = Backend("", "", "")
    orphan = retire.read_orphan(directory)
    needs = retire.descriptor_needs(orphan, kind) if orphan else (() if kind == "environment" else ("environment",))
    return Stack(
        name=name,
        kind=kind,
        key=name.split("-", 1)[1] if "-" in name else name,
        needs=needs,
        source=found.group(1) if found else "",
        arguments={},
        outputs=(),
        backend=backend,
        region="",
        remote_environment=backend if reads_environment else None,
        adopted=adoption.read_back(lifecycle, display_path(lifecycle_file)),
    )


def dependants_first(retired: Sequence[Stack]) -> tuple[Stack, ...]:
    """Retired stacks ordered for ``--destroy-removed``: among themselves, the edges turn round
    (an orphaned pipeline is destroyed before the orphaned data source whose datasets it
    used); a retired stack still waits for the live stacks it needs."""
    names = {stack.name for stack in retired}
    turned = []
    for stack in retired:
        live = tuple(n for n in stack.needs if n not in names)
        dependants = tuple(other.name for other in retired if stack.name in other.needs)
        turned.append(dataclasses.replace(stack, needs=live + dependants))
    return tuple(turned)
