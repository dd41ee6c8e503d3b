# Environment-wide BigQuery datasets, CMEK from kms.bigquery when set. Contents are never
# dropped on destroy: a dataset that still holds tables fails to delete instead.

locals {
  bigquery_kms_key   = try(local.kms_key_ids["bigquery"], null)
  shared_dataset_ids = { for k, d in google_bigquery_dataset.shared : k => d.id }
}

resource "google_bigquery_dataset" "shared" {
  for_each                   = var.shared_datasets
  project                    = local.project_ids[each.value.project]
  dataset_id                 = each.value.dataset_id
  location                   = coalesce(each.value.location, var.location)
  description                = each.value.description
  delete_contents_on_destroy = false
  labels                     = merge(local.labels, each.value.labels)

  dynamic "default_encryption_configuration" {
    for_each = local.bigquery_kms_key == null ? [] : [local.bigquery_kms_key]
    content {
      kms_key_name = default_encryption_configuration.value
    }
  }

  depends_on = [google_project_service.this, google_kms_crypto_key_iam_member.agents]
}
