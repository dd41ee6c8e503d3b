"""``df-gen plan|apply|destroy|output``: Terraform over every stack, in dependency order.

One entry function per command (:func:`plan`, :func:`apply`, :func:`destroy`,
:func:`output`), each returning a :class:`RunReport`. Every run:

1. checks that ``stacks/`` is up to date with the descriptors;
2. takes the environment's lock (:mod:`generator.lock`) and removes what a crashed run
   left behind, naming each (sandbox override files, moved lock files, Terraform's state
   lock info, orphaned sandbox providers);
3. in sandbox mode writes the override files (:mod:`generator.overrides`) for the run;
4. runs the stacks over the graph (:mod:`generator.scheduler`): environment, then data
   sources, then pipelines (destroy: backwards), independent stacks in parallel, a failed
   stack blocking its dependants only.

Read top-down, one job per module:

- :mod:`~generator.runner.commands`: the four commands;
- :mod:`~generator.runner.session`: what each does before the first Terraform call (1-3);
- :mod:`~generator.runner.selection` and :mod:`~generator.runner.orphans`: which stacks run;
- :mod:`~generator.runner.workspace`: the paths under ``.df-gen/<mode>/`` and a killed run's leftovers;
- :mod:`~generator.runner.run`: one command over the graph (4), what its stacks share;
- :mod:`~generator.runner.per_stack`: what each command does to one stack;
- :mod:`~generator.runner.plans`: saved plans and the fingerprint each was made at;
- :mod:`~generator.runner.terraform`: one Terraform call (log, pump, Ctrl-C, retries);
- :mod:`~generator.runner.evidence`: Terraform's own word that it applied the plan;
- :mod:`~generator.runner.results`: how each stack ended, the report and its formatting;
- :mod:`~generator.runner.options`: what the user asked for.
"""

from __future__ import annotations

from generator.runner.commands import apply, destroy, output, plan
from generator.runner.options import RunOptions
from generator.runner.results import RunReport, StackResult, format_outputs, outputs_document
from generator.runner.selection import select_stacks
from generator.runner.workspace import Workspace

__all__ = [
    "RunOptions",
    "RunReport",
    "StackResult",
    "Workspace",
    "apply",
    "destroy",
    "format_outputs",
    "output",
    "outputs_document",
    "plan",
    "select_stacks",
]
