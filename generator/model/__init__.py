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

from generator import workers
from generator.analysis.inventory import WorkerTasks, adopt_tasks, task_tag_reads, tasks_for_parent
from generator.model import pipeline as pipeline_module
from generator.model.context import Context
from generator.model.datasource import datasource_stack, renamed
from generator.model.environment import environment_stack
from generator.model.stack import REMOTE, Backend, Model, Stack, module_outputs
from generator.validate import Descriptors

__all__ = ["REMOTE", "Backend", "Model", "Stack", "build", "module_outputs"]


def build(descriptors: Descriptors) -> Model:
    """Build the model of every stack of a validated environment."""
    env = descriptors.environment.data
    ctx = Context(descriptors)
    # Pipelines first: the environment grants each task account the policy tags its
    # pipelines' rendered SQL reads.
    # One stack per pipeline, none reading another's descriptor, and its tasks analysed: in
    # worker processes when there are many; their tasks and analyses are kept here.
    pipelines = []
    for stack, tasks in workers.ordered_map(lambda key: pipeline_with_tasks(ctx, key), sorted(descriptors.pipelines)):
        adopt_tasks(descriptors, stack.key, stack.files, tasks)
        pipelines.append(stack)
    task_reads = task_tag_reads(descriptors, {stack.key: stack.files for stack in pipelines}, ctx.analyser)
    stacks = [environment_stack(ctx, task_reads)]
    for key in sorted(descriptors.datasources):
        stacks.extend(renamed(ctx, datasource_stack(ctx, key, descriptors.datasources[key].data)))
    return Model(descriptors.env_dir, env["prefix"], (*stacks, *pipelines))


def pipeline_with_tasks(ctx: Context, key: str) -> tuple[Stack, WorkerTasks]:
    """A pipeline's stack and its tasks analysed, as a worker process sends them back."""
    stack = pipeline_module.pipeline_stack(ctx, key, ctx.descriptors.pipelines[key].data)  # tests wrap it
    return stack, tasks_for_parent(ctx.descriptors, key, stack.files)
