resource "google_bigquery_table" "tables" {
  #checkov:skip=CKV_GCP_121:deletion_protection is set per table from var.tables and defaults to true; checkov cannot resolve for_each values.
  for_each            = var.tables
  project             = var.datasets[each.value.layer].project
  dataset_id          = var.datasets[each.value.layer].dataset_id
  table_id            = coalesce(each.value.table_id, each.key)
  description         = coalesce(each.value.description, "Table ${coalesce(each.value.table_id, each.key)} of pipeline ${var.name}.")
  schema              = each.value.schema
  clustering          = each.value.clustering
  deletion_protection = each.value.deletion_protection
  labels              = merge(local.labels, each.value.labels)

  dynamic "time_partitioning" {
    for_each = each.value.partitioning == null ? [] : [each.value.partitioning]
    content {
      type          = time_partitioning.value.type
      field         = time_partitioning.value.field
      expiration_ms = time_partitioning.value.expiration_ms
    }
  }

  dynamic "encryption_configuration" {
    for_each = var.kms_key == null ? [] : [var.kms_key]
    content {
      kms_key_name = encryption_configuration.value
    }
  }

  # A table's migration job (migrations.tf) runs before the table is changed.
  depends_on = [google_bigquery_job.migrations]

  lifecycle {
    precondition {
      condition     = contains(keys(var.datasets), each.value.layer)
      error_message = "Table ${each.key} is in layer ${each.value.layer}, which has no entry in datasets."
    }
  }
}
