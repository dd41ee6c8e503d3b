"""The records of schema changes (:class:`TableSource`, :class:`ChangeItem`) and the pipeline
tables they are read from."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator import naming, versions
from generator.defaults import default
from generator.errors import DfGenError
from generator.loader import Document, load

NEW_VERSION, MIGRATE, ACCEPT_LOSS = "new_version", "migrate", "accept_loss"
TABLE_TYPE = "google_bigquery_table"
ADDRESS = 'module.pipeline.google_bigquery_table.tables["{key}"]'

# Conversions ALTER COLUMN SET DATA TYPE accepts: a type to one it coerces to
# (https://cloud.google.com/bigquery/docs/reference/standard-sql/data-definition-language#alter_column_set_data_type,
# coercions in https://cloud.google.com/bigquery/docs/reference/standard-sql/conversion_rules).
WIDENING = frozenset({
    ("INTEGER", "NUMERIC"), ("INTEGER", "BIGNUMERIC"), ("INTEGER", "FLOAT"),
    ("NUMERIC", "BIGNUMERIC"), ("NUMERIC", "FLOAT"), ("BIGNUMERIC", "FLOAT"),
})


@dataclass(frozen=True)
class TableSource:
    """One pipeline table as the descriptors define it."""

    stack: str
    key: str  # the module's table key, ``curated-orders``
    layer: str
    name: str
    table_id: str
    descriptor: Document
    path: tuple[Any, ...]  # the table's path in the descriptor
    schema_file: Path
    code_dir: Path
    version: int = 1
    accept_loss: bool = False
    set_data_type: tuple[str, ...] = ()
    drop_columns: tuple[str, ...] = ()
    current: bool = True
    """False for an older version the table keeps (``keep_versions``)."""

    @property
    def address(self) -> str:
        """The table's resource address in its stack."""
        return ADDRESS.format(key=self.key)


@dataclass(frozen=True)
class ChangeItem:
    """One lossy or incompatible change, as reported (``schema_changes`` entries)."""

    file: str
    line: int
    col: int
    stack: str
    address: str
    table_id: str
    column: str
    kind: str
    reason: str
    on_google_cloud: str
    ways_forward: tuple[str, ...]
    chosen: str | None
    note: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The documented JSON shape."""
        return {
            "file": self.file, "line": self.line, "col": self.col,
            "table": {"stack": self.stack, "address": self.address, "table_id": self.table_id},
            "column": self.column, "kind": self.kind, "reason": self.reason,
            "on_google_cloud": self.on_google_cloud, "ways_forward": list(self.ways_forward),
            "chosen": self.chosen, "note": self.note,
        }


def text_line(item: Mapping[str, Any]) -> str:
    """One human line for a ``schema_changes`` entry."""
    chosen = f"chosen: {item['chosen']}" if item["chosen"] else \
        f"ways forward: {', '.join(item['ways_forward'])} (choose one in the descriptor)"
    column = f" column {item['column']}" if item["column"] else ""
    note = f"; {item['note']}" if item.get("note") else ""
    return (f"{item['file']}:{item['line']}:{item['col']}: {item['kind']}: table "
            f"{item['table']['table_id']}{column}: {item['reason']}; {item['on_google_cloud']}; {chosen}{note}")


def migration_targets(items: Iterable[Mapping[str, Any]]) -> list[str]:
    """The migration jobs (``google_bigquery_job.migrations``) of the tables whose changes chose
    ``migrate``. ``apply`` runs them alone first (``-target``) and plans again: Terraform plans
    every resource before it applies any, so in one apply the table would still be replaced
    for the schema it had before its migration ran."""
    return sorted({str(item["table"]["address"]).replace("google_bigquery_table.tables[",
                                                          "google_bigquery_job.migrations[")
                   for item in items if item.get("chosen") == MIGRATE})


def unresolved(items: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The entries with no way forward chosen: ``apply`` refuses them, ``validate --against``
    exits 1 for them."""
    return [item for item in items if not item.get("chosen")]




def table_sources(env_dir: Path, descriptors: Any = None) -> dict[str, TableSource]:
    """Every managed pipeline table of ``env_dir`` (each kept version too) keyed by ``stack/address``."""
    from generator.validate import validate

    descriptors = descriptors or validate(env_dir)
    found: dict[str, TableSource] = {}
    for key, doc in descriptors.pipelines.items():
        stack = naming.stack_name("pipeline", key)
        code_dir = descriptors.pipelines_dir / doc.data["code"]
        for version in versions.of_pipeline(doc.data.get("tables") or {}):
            source = _source(stack, doc, version, code_dir)
            found[f"{stack}/{source.address}"] = source
    return found


def version_table_id(name: str, version: int) -> str:
    """Version 1 is the table's name; later versions are ``<name>_v<N>``."""
    return versions.table_id(name, version)


def _source(stack: str, doc: Document, version: versions.TableVersion, code_dir: Path) -> TableSource:
    spec = version.spec
    migrate = (spec.get("migrate") or {}) if version.current else {}
    return TableSource(
        stack=stack, key=version.key, layer=version.layer, name=version.name,
        table_id=version.table_id, descriptor=doc, path=version.path,
        schema_file=code_dir / version.schema, code_dir=code_dir, version=version.version,
        accept_loss=bool(spec.get("accept_loss", default("pipeline", f"tables.{version.layer}.<name>.accept_loss")))
        and version.current,
        set_data_type=tuple(migrate.get("set_data_type", ())),
        drop_columns=tuple(migrate.get("drop_columns", ())),
        current=version.current,
    )


def schema_document(source: TableSource) -> Document | None:
    try:
        return load(source.schema_file)
    except DfGenError:
        return None
