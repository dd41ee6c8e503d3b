"""Frozen stack models built from validated descriptors, every default applied once.

``build(descriptors)`` returns a :class:`Model`: one :class:`Stack` per Terraform root,
each holding the literal module arguments the templates print. Values df-gen can compute
(project IDs, bucket names, service-account emails, KMS key IDs) are literals; values
Google assigns (project numbers, Composer's DAG bucket, policy-tag IDs) are references to
the environment stack's outputs through ``terraform_remote_state``.

One module per stack kind (``environment``, ``datasource``, ``pipeline``), the shared
names in ``context`` and the records in ``stack``. A pipeline's code (DAG, SQL, views) is
rendered by :mod:`generator.pipeline_code` with the values the pipeline module computes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from generator import workers
from generator.analysis import sql
from generator.analysis.inventory import WorkerTasks, adopt_tasks, task_tag_reads, tasks_for_parent
from generator.model import pipeline as pipeline_module
from generator.model.context import Context
from generator.model.datasource import datasource_stack, renamed
from generator.model.environment import environment_stack
from generator.model.stack import REMOTE, Backend, Model, Stack, module_outputs
from generator.validate import Descriptors

R = TypeVar("R")

__all__ = ["REMOTE", "Backend", "Model", "Stack", "build", "module_outputs", "pipeline_stacks"]


def build(descriptors: Descriptors) -> Model:
    """Build the model of every stack of a validated environment."""
    env = descriptors.environment.data
    ctx = Context(descriptors)
    # Pipelines first: the environment grants each task account the policy tags its
    # pipelines' rendered SQL reads.
    pipelines = [stack for stack, _ in pipeline_stacks(ctx, sorted(descriptors.pipelines))]
    task_reads = task_tag_reads(descriptors, {stack.key: stack.files for stack in pipelines}, ctx.analyser)
    stacks = [environment_stack(ctx, task_reads)]
    for key in sorted(descriptors.datasources):
        stacks.extend(renamed(ctx, datasource_stack(ctx, key, descriptors.datasources[key].data)))
    return Model(descriptors.env_dir, env["prefix"], (*stacks, *pipelines))


def pipeline_stacks(ctx: Context, keys: list[str], then: Callable[[Stack], R] | None = None
                    ) -> list[tuple[Stack, R | None]]:
    """Each pipeline's stack, with ``then(stack)`` (render uses it to print the stack's files)
    done where the stack was built. One stack per pipeline, none reading another's
    descriptor, and its tasks analysed: in worker processes when there are many
    (:mod:`generator.workers`); the tasks and analyses they found are kept here."""

    def one(key: str) -> tuple[Stack, WorkerTasks, R | None]:
        stack = pipeline_module.pipeline_stack(ctx, key, ctx.descriptors.pipelines[key].data)  # tests wrap it
        return stack, tasks_for_parent(ctx.descriptors, key, stack.files), then(stack) if then else None

    if ctx.analyser.cold() and workers.forks(len(keys)):
        sql.preload()  # every process would import sqlglot to analyse the pipelines' SQL
    built = []
    for stack, tasks, extra in workers.ordered_map(one, keys):
        adopt_tasks(ctx.descriptors, stack.key, stack.files, tasks)
        built.append((stack, extra))
    return built
