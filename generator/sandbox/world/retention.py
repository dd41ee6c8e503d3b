"""Retention: an object under an unexpired bucket retention policy stays as it is."""

from __future__ import annotations

import time
from typing import Any

from generator.sandbox.world.projects import CREATED, nested


def retention_problem(obj: dict[str, Any], data: dict[str, Any], verb: str, created: Any = None) -> str | None:
    """Why an object cannot be ``verb`` ("deleted", "overwritten"): its bucket's retention policy.

    https://cloud.google.com/storage/docs/bucket-lock: "objects in the bucket can only be
    deleted or replaced once their age is greater than the retention period".
    """
    bucket = data["resources"].get(f"google_storage_bucket/{obj.get('bucket')}")
    if bucket is None:
        return None
    period = _retention_period(bucket["state"])
    if not period:
        return None
    if created is None:
        stored = data["resources"].get(f"google_storage_bucket_object/{obj.get('id')}", {})
        created = stored.get(CREATED)
    if not isinstance(created, (int, float)):
        return None
    age = time.time() - created
    if age >= period:
        return None
    return (
        f"Error 403: Object '{obj.get('name')}' is subject to bucket's retention policy or object "
        f"retention and cannot be deleted or overwritten until it is {period} seconds old "
        f"(it is {int(age)}; it was to be {verb}). (sandbox rule: deletion: bucket retention policy)"
    )


def overwrites(prior: dict[str, Any], state: dict[str, Any]) -> bool:
    """Whether an object update uploads it again: the provider's Update re-creates the object
    when content, source_md5hash or detect_md5hash change (resource_storage_bucket_object.go)."""
    return any(prior.get(a) != state.get(a) for a in ("content", "source_md5hash", "detect_md5hash"))


def _retention_period(bucket: dict[str, Any]) -> int:
    period = nested(bucket, ("retention_policy", "retention_period"))  # a string in 8.x
    try:
        return int(period)
    except (TypeError, ValueError):
        return 0
