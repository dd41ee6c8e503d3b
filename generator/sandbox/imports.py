"""Import ids as the google provider parses them (``terraform import`` and ``import`` blocks).

The provider's importer of each type turns the id a user writes into the attributes that
name the resource and the id the resource keeps in state, and sets the provider-only
("virtual") arguments to their defaults, since the API knows nothing of them. Terraform then
reads the resource by that id; when the read finds nothing, Terraform itself fails the plan
with "Cannot import non-existent remote object" (``internal/terraform/
node_resource_plan_instance.go`` of hashicorp/terraform), so the sandbox reports the missing
object through its read, as the provider does, not through the import.

Each entry cites its importer in hashicorp/terraform-provider-google and its documented
formats (the "Import" section of ``website/docs/r/<type>.html.markdown``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Importer:
    """One type's import id formats, canonical id and virtual-argument defaults."""

    formats: tuple[str, ...]
    """Regular expressions tried in order (the provider's ``ParseImportId`` list)."""
    canonical: str
    """The id kept in state, from the parsed attributes (``str.format`` fields)."""
    defaults: tuple[tuple[str, Any], ...] = ()
    """Provider-only arguments the importer sets (``d.Set`` in the importer)."""


_SEGMENT = "[^/]+"


def _fmt(*parts: str) -> str:
    return "^" + "/".join(f"(?P<{p[1:-1]}>{_SEGMENT})" if p.startswith("{") else p for p in parts) + "$"


IMPORTERS: dict[str, Importer] = {
    # resourceBigQueryDatasetImport (google/services/bigquery/resource_bigquery_dataset.go);
    # docs: projects/{{project}}/datasets/{{dataset_id}}, {{project}}/{{dataset_id}}, {{dataset_id}}.
    "google_bigquery_dataset": Importer(
        (_fmt("projects", "{project}", "datasets", "{dataset_id}"), _fmt("{project}", "{dataset_id}"),
         _fmt("{dataset_id}")),
        "projects/{project}/datasets/{dataset_id}",
        (("delete_contents_on_destroy", False),),
    ),
    # resourceBigQueryTableImport (google/services/bigquery/resource_bigquery_table.go): also
    # sets deletion_protection = true and ignore_auto_generated_schema = false; docs:
    # projects/{{project}}/datasets/{{dataset_id}}/tables/{{table_id}},
    # {{project}}/{{dataset_id}}/{{table_id}}, {{dataset_id}}/{{table_id}}.
    "google_bigquery_table": Importer(
        (_fmt("projects", "{project}", "datasets", "{dataset_id}", "tables", "{table_id}"),
         _fmt("{project}", "{dataset_id}", "{table_id}"), _fmt("{dataset_id}", "{table_id}")),
        "projects/{project}/datasets/{dataset_id}/tables/{table_id}",
        (("deletion_protection", True), ("ignore_auto_generated_schema", False)),
    ),
    # resourceStorageBucketStateImporter (google/services/storage/resource_storage_bucket.go):
    # "{{project_id}}/{{bucket}}" or "{{bucket}}", force_destroy = false; the read then sets
    # the id to the bucket's name.
    "google_storage_bucket": Importer(
        (_fmt("{project}", "{name}"), _fmt("{name}")),
        "{name}",
        (("force_destroy", False),),
    ),
    # resourcePubsubTopicImport (google/services/pubsub/resource_pubsub_topic.go); docs:
    # projects/{{project}}/topics/{{name}}, {{project}}/{{name}}, {{name}}.
    "google_pubsub_topic": Importer(
        (_fmt("projects", "{project}", "topics", "{name}"), _fmt("{project}", "{name}"), _fmt("{name}")),
        "projects/{project}/topics/{name}",
    ),
}


class ImportIdError(ValueError):
    """An import id that matches none of the type's formats (the provider's own message)."""


def parse(type_name: str, rid: str, default_project: str | None) -> dict[str, Any]:
    """The state the provider's importer hands to Terraform for id ``rid``.

    Types without an entry in :data:`IMPORTERS` keep the id as given. A format without
    ``{project}`` takes the provider's project, as ``ParseImportId`` does.
    """
    importer = IMPORTERS.get(type_name)
    if importer is None:
        return {"id": rid}
    for pattern in importer.formats:
        match = re.match(pattern, rid)
        if match:
            fields = {k: v for k, v in match.groupdict().items() if v is not None}
            # A bucket's project is read from Cloud Storage when the id does not name it.
            if "project" not in fields and type_name != "google_storage_bucket":
                if not default_project:
                    raise ImportIdError(f"{type_name}: import id {rid!r} names no project and the "
                                        "provider has none configured")
                fields["project"] = default_project
            state = {**fields, "id": importer.canonical.format(**fields)}
            state.update(importer.defaults)
            return state
    # tpgresource.ParseImportId's error text.
    raise ImportIdError(f"Import id {rid!r} doesn't match any of the accepted formats: "
                        f"{list(importer.formats)}")


def virtual_defaults(type_name: str) -> dict[str, Any]:
    """The provider-only arguments the importer of ``type_name`` sets (none if unknown)."""
    importer = IMPORTERS.get(type_name)
    return dict(importer.defaults) if importer else {}
