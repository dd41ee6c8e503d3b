"""Results kept per loaded object for the life of a process, found by the object's identity.

One run asks the same question of the same loaded data many times: a pipeline's tasks, a
table's versions, what a validated environment's model and access check share. The data are
not hashable (dicts) and their contents cannot change while a run uses them, so the answer is
kept by the object's ``id``. The object itself is kept with its answer, so that its ``id`` is
not given to another object while the entry lives; a ``key`` holds whatever else the answer
depends on, compared with ``==``. A memo empties itself at ``limit`` entries: a long-lived
process (the tests) loads many environments.
"""

from __future__ import annotations

from typing import Generic, TypeVar

V = TypeVar("V")


class IdentityMemo(Generic[V]):
    """Answers by (the identity of) an object and a key."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._entries: dict[int, tuple[object, object, V]] = {}

    def get(self, owner: object, key: object = None) -> V | None:
        """The answer kept for ``owner`` (this very object) and ``key``, or None."""
        known = self._entries.get(id(owner))
        if known is not None and known[0] is owner and known[1] == key:
            return known[2]
        return None

    def put(self, owner: object, key: object, value: V) -> V:
        """Keep ``value`` for ``owner`` and ``key`` (replacing an earlier one); return it."""
        if len(self._entries) >= self.limit:
            self._entries.clear()
        self._entries[id(owner)] = (owner, key, value)
        return value

    def clear(self) -> None:
        self._entries.clear()
