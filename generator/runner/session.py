"""What every command does before the first Terraform call, and after the last one.

:func:`session` checks that ``stacks/`` is what the descriptors render, builds the model
(with the stacks whose descriptor was removed), selects the stacks, takes the environment's lock
(:mod:`generator.lock`), cleans what a killed run left (:func:`clean_leftovers`), resolves
and verifies the engine, and in sandbox mode writes the override files
(:mod:`generator.overrides`) for the run's duration.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Iterator
from pathlib import Path

from generator import collector, retire
from generator.engine import check_sandbox_store, resolve_engine, sandbox_environment
from generator.errors import DfGenError
from generator.loader import display_path
from generator.lock import env_lock
from generator.overrides import sandbox_overrides
from generator.progress import Progress, make_progress
from generator.runner.options import RunOptions
from generator.runner.orphans import with_orphans
from generator.runner.run import Run
from generator.runner.selection import select_stacks
from generator.runner.terraform import Terraform
from generator.runner.workspace import Workspace, clean_leftovers


@contextlib.contextmanager
def session(options: RunOptions, command: str, reverse: bool = False) -> Iterator[tuple[Run, list[str]]]:
    """Check, lock, prepare the sandbox; yield the run and the selected stack names."""
    from generator.render import render

    env_dir = Path(options.env_dir)
    if not (env_dir / "stacks").is_dir():
        raise DfGenError(f"{display_path(env_dir)}: no stacks/ yet; run df-gen render {env_dir}")
    if options.parallelism < 1:
        raise DfGenError("--parallelism must be at least 1")
    with collector.paused():  # validate, model and render: objects kept until the run ends
        check = render(env_dir, check=True)
    if check.created or check.updated or check.deleted:
        raise DfGenError(f"stacks/ is out of date with the descriptors; run df-gen render {env_dir}")
    if check.conflicts:  # Terraform would run the hand edit, not what the descriptors say
        raise DfGenError(diagnostics=[
            dataclasses.replace(d, message="edited by hand since df-gen wrote it; plan and apply run only "
                                           "what df-gen rendered",
                                hint=f"move the change into the descriptors, or restore the file with "
                                     f"df-gen render {env_dir} --force")
            for d in check.conflicts])
    orphans = sorted(check.orphaned)  # without main.tf: they cannot be retired (generator.retire)
    if orphans and command != "destroy":
        raise DfGenError(
            f"stacks/ holds stacks whose descriptor was removed and that have no main.tf to release their "
            f"resources from: {', '.join(orphans)}; destroy them (df-gen destroy {env_dir} --stack NAME), "
            "then remove them with df-gen render --prune"
        )
    # The check validated the descriptors and built the model: the run uses that one.
    # Stacks without a descriptor are run too: they may hold resources.
    assert check.model is not None
    retired = sorted(check.retired)
    model = with_orphans(check.model, [*retired, *orphans],
                         destroying=options.destroy_removed and command != "destroy")
    names = select_stacks(model, options.stacks, options.only, reverse=reverse)
    if options.changed_since is not None:
        from generator.gitchanges import changed_stacks

        changed = changed_stacks(model, options.changed_since)
        names = [n for n in names if n in changed]
    ws = Workspace(env_dir, options.sandbox)
    with env_lock(env_dir):
        clean_leftovers(ws, options.sandbox)
        engine = resolve_engine(options.terraform_bin, for_sandbox=options.sandbox)
        engine.verify()
        base_env = dict(os.environ)
        if options.sandbox:
            base_env.update(sandbox_environment(ws.env_dir, ws.root))
            ws.state.mkdir(parents=True, exist_ok=True)
            check_sandbox_store(ws.root)
        base_env.pop("TF_WORKSPACE", None)  # one state per stack: the default workspace
        progress: Progress
        if options.quiet:
            progress = Progress(open(os.devnull, "w"))  # closed below
        else:
            progress = make_progress(names, plain=options.plain)
        stacks = [model.stack(n) for n in names] if options.sandbox else []
        run = Run(options, model, Terraform(engine, base_env, ws, progress, options.sandbox), check.descriptors)
        for name in retired:
            orphan = retire.read_orphan(env_dir / "stacks" / name)
            run.retired[name] = orphan.rendered_from if orphan else ()
        try:
            with sandbox_overrides(stacks, ws.stacks_dir, ws.state):
                yield run, names
        finally:
            run.progress.close()  # the command may have replaced the first view
            if options.quiet:
                progress.stream.close()
