# Environment-wide BigQuery datasets, CMEK from kms.bigquery when set. Contents are kept on
# destroy (a dataset that still holds tables fails to delete) unless the dataset says
# otherwise: the logs dataset holds sink tables that Terraform does not manage, and would
# otherwise block every destroy.

locals {
  bigquery_kms_key   = try(local.kms_key_ids["bigquery"], null)
  shared_dataset_ids = { for k, d in google_bigquery_dataset.shared : k => d.id }
  shared_dataset_grants = merge(flatten([
    for k, d in var.shared_datasets : [
      for role, members in d.iam : {
        for m in members : "${k}/${role}/${m}" => { dataset = k, role = role, member = m }
      }
    ]
  ])...)
}

resource "google_bigquery_dataset" "shared" {
  for_each                        = var.shared_datasets
  project                         = local.project_ids[each.value.project]
  dataset_id                      = each.value.dataset_id
  location                        = coalesce(each.value.location, var.location)
  description                     = each.value.description
  delete_contents_on_destroy      = each.value.delete_contents_on_destroy
  default_table_expiration_ms     = each.value.expiration_days == null ? null : each.value.expiration_days * 86400000
  default_partition_expiration_ms = each.value.expiration_days == null ? null : each.value.expiration_days * 86400000
  labels                          = merge(local.labels, each.value.labels)

  dynamic "default_encryption_configuration" {
    for_each = local.bigquery_kms_key == null ? [] : [local.bigquery_kms_key]
    content {
      kms_key_name = default_encryption_configuration.value
    }
  }

  depends_on = [google_project_service.this, google_kms_crypto_key_iam_member.agents]
}

resource "google_bigquery_dataset_iam_member" "shared" {
  # iamdoc: roles = var.shared_datasets[*].iam
  # iamdoc: who = "the members listed per role"
  # iamdoc: on = "each shared dataset"
  for_each   = local.shared_dataset_grants
  project    = google_bigquery_dataset.shared[each.value.dataset].project
  dataset_id = google_bigquery_dataset.shared[each.value.dataset].dataset_id
  role       = each.value.role
  member     = each.value.member
}
