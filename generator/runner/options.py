"""What the user asked a run for: the CLI options of plan/apply/destroy/output, parsed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RunOptions:
    """What the user asked for (the CLI options, parsed)."""

    env_dir: Path
    sandbox: bool = False
    stacks: tuple[str, ...] = ()
    only: bool = False
    parallelism: int = 4
    auto_approve: bool = False
    all_stacks: bool = False
    allow_destroy: bool = False
    destroy_adopted: bool = False  # destroy: delete adopted (existing: true) resources too
    destroy_removed: bool = False  # retired stacks (descriptor removed): destroy their resources, not release
    changed_since: str | None = None  # a git ref: only stacks whose files changed since (gitchanges)
    terraform_bin: str | None = None
    plain: bool = False  # plain progress lines even on a terminal (--json)
    quiet: bool = False  # no progress at all (tests, benchmarks)

    @property
    def every_stack(self) -> bool:
        """Run each selected stack, whatever the local records say (--all, --changed-since)."""
        return self.all_stacks or self.changed_since is not None
