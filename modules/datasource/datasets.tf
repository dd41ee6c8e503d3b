resource "google_bigquery_dataset" "default" {
  for_each                    = local.datasets
  project                     = each.value.project_id
  dataset_id                  = each.value.dataset_id
  location                    = var.location
  friendly_name               = each.value.friendly_name
  description                 = coalesce(each.value.description, "Data source ${var.name}, ${each.key} layer.")
  default_table_expiration_ms = each.value.default_table_expiration_ms
  max_time_travel_hours       = each.value.max_time_travel_hours
  # Destroying the stack must never drop tables that hold data.
  delete_contents_on_destroy = false
  labels                     = merge(local.labels, { df_layer = each.key })

  dynamic "default_encryption_configuration" {
    for_each = var.kms_keys.bigquery == null ? [] : [var.kms_keys.bigquery]
    content {
      kms_key_name = default_encryption_configuration.value
    }
  }
}
