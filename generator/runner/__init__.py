"""``df-gen plan|apply|destroy|output``: Terraform over every stack, in dependency order.

One entry function per command (:func:`plan`, :func:`apply`, :func:`destroy`,
:func:`output`), each returning a :class:`RunReport`; the CLI (:mod:`generator.cli_run`)
prints it and, with ``--report``, writes it (:mod:`generator.report`).

A command's data flow, in order, and the module of each step:

1. **command** (:mod:`~generator.runner.commands`): the entry function opens a session,
   walks the graph with one stack function, returns the report; apply and destroy ask for
   one confirmation for the whole run (apply shows a plan first).
2. **validate once, model, render** (:mod:`~generator.runner.session`): ``render(env_dir,
   check=True)`` validates the descriptors, builds the model and renders every stack in
   memory. A ``stacks/`` that differs from that rendering (out of date, edited by hand, or,
   except for destroy, a stack whose descriptor and ``main.tf`` are gone) stops the run
   before any Terraform. The run keeps that model and the validated descriptors (saved
   plans read them for schema changes): nothing is validated or modelled twice.
3. **which stacks** (:mod:`~generator.runner.selection`, :mod:`~generator.runner.orphans`):
   ``--stack``/``--only`` with what they need, ``--changed-since``, and stacks whose
   descriptor was removed (retired or orphaned), which may still hold resources.
4. **workspace** (:mod:`~generator.runner.workspace`, the rest of the session): the paths
   under ``.df-gen/<mode>/``; under the environment's lock (:mod:`generator.lock`), what a
   killed run left behind is cleaned and named (override files, moved lock files, sandbox
   state lock info and providers); the engine is resolved and verified; in sandbox mode,
   the sandbox environment and the override files (:mod:`generator.overrides`).
5. **over the graph** (:mod:`~generator.runner.run`): :class:`~generator.runner.run.Run`
   walks the stacks (:mod:`generator.scheduler`): environment, then data sources, then
   pipelines (destroy: backwards), independent stacks in parallel, a failed stack blocking
   only its dependants. :mod:`~generator.runner.per_stack` is what each command does to one
   stack; plan and apply skip a stack unchanged since its last apply
   (:mod:`generator.fingerprint`) unless ``--all`` or ``--changed-since``.
6. **Terraform call** (:mod:`~generator.runner.terraform`): every call to the engine, with
   the stack's log, one pump of its pipes, Ctrl-C, and retries of transient errors.
7. **saved plan** (:mod:`~generator.runner.plans`): ``plan -out`` beside the fingerprint it
   was made at; apply applies it while that still holds, and
   :mod:`~generator.runner.evidence` checks Terraform's own word that it applied it.
8. **report** (:mod:`~generator.runner.results`): each stack's :class:`StackResult`, the
   :class:`RunReport`, and their text and JSON.

:mod:`~generator.runner.options` holds what the user asked for (:class:`RunOptions`).
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
