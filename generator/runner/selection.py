"""Which stacks a run covers, in graph order, and whose outputs each one reads."""

from __future__ import annotations

from collections.abc import Sequence

from generator.errors import DfGenError
from generator.loader import display_path
from generator.model import Model, Stack
from generator.scheduler import order


def select_stacks(model: Model, names: Sequence[str], only: bool, reverse: bool = False) -> list[str]:
    """The stacks to run, in graph order (:func:`generator.scheduler.order`).

    No names: every stack. Otherwise the named stacks and, unless ``only``, what they
    need (or, with ``reverse`` for destroy, the stacks that need them).
    """
    known = [s.name for s in model.stacks]
    needs = {s.name: s.needs for s in model.stacks}
    if not names:
        return order(known, needs)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise DfGenError(
            f"no stack named {', '.join(unknown)} in {display_path(model.env_dir)}; "
            f"stacks: {', '.join(known)}"
        )
    chosen = set(names)
    if not only:
        edges: dict[str, set[str]] = {s.name: set(s.needs) for s in model.stacks}
        if reverse:
            edges = {n: {s.name for s in model.stacks if n in s.needs} for n in known}
        todo = list(chosen)
        while todo:
            for other in edges[todo.pop()]:
                if other not in chosen:
                    chosen.add(other)
                    todo.append(other)
    return order([n for n in known if n in chosen], needs)


def reads_outputs_of(model: Model, stack: Stack) -> list[str]:
    """The upstream stacks whose outputs ``stack`` reads (through ``terraform_remote_state``).

    Only these outputs count in its fingerprint: a data source needs the environment to
    exist but, when it reads none of its outputs, a new environment output changes nothing.
    """
    if stack.remote_environment is None:
        return []
    return [name for name in stack.needs if model.stack(name).kind == "environment"]
