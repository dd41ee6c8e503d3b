"""Terraform's state-changing blocks (``moved``, ``import``, ``removed``), printed once.

A stack's blocks are written to ``stacks/<stack>/lifecycle.tf`` (see :func:`render`), apart
from the module call, so that a reviewer sees every address move, import and release of a
change in one file. Renames (:mod:`generator.renames`) use all three; adoption and
retirement can add theirs to the same :attr:`generator.model.Stack.lifecycle` tuple.

Terraform versions: ``moved`` needs 1.1, ``import`` 1.5, ``removed`` 1.7
(https://developer.hashicorp.com/terraform/language/resources/syntax#removing-resources).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from generator import hcl

FILE = "lifecycle.tf"


@dataclass(frozen=True)
class Moved:
    """The object at ``source`` is now at ``target`` in the same state (no API call)."""

    source: str
    target: str
    why: str = ""


@dataclass(frozen=True)
class Import:
    """Adopt the existing object ``id`` (the provider's import ID) at address ``target``."""

    target: str
    id: str
    why: str = ""


@dataclass(frozen=True)
class Removed:
    """Drop ``source`` (a resource or a whole module call) from the state; with
    ``destroy=False`` the object itself is kept (Terraform forgets it)."""

    source: str
    destroy: bool = False
    why: str = ""


Block = Moved | Import | Removed


def required_version(blocks: Iterable[Block]) -> str:
    """The lowest Terraform version that reads ``blocks`` (stacks without any need 1.5.0)."""
    return "1.7.0" if any(isinstance(b, Removed) for b in blocks) else "1.5.0"


def render(blocks: Iterable[Block], header: str) -> str:
    """``lifecycle.tf``: ``header`` as a comment, then each block (``terraform fmt`` layout)."""
    parts = [f"# {line}".rstrip() for line in header.splitlines()]
    for block in blocks:
        parts.append("")
        if block.why:
            parts.extend(f"# {line}".rstrip() for line in block.why.splitlines())
        parts.extend(_lines(block))
    return "\n".join(parts) + "\n"


def _lines(block: Block) -> list[str]:
    if isinstance(block, Moved):
        return ["moved {", f"  from = {block.source}", f"  to   = {block.target}", "}"]
    if isinstance(block, Import):
        return ["import {", f"  to = {block.target}", f"  id = {hcl.string(block.id)}", "}"]
    return hcl.removed_block(block.source, block.destroy).splitlines()  # one printer (retirement's)
