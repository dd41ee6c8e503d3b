resource "google_bigquery_table" "views" {
  #checkov:skip=CKV_GCP_121:deletion_protection is set per view from var.views and defaults to true; checkov cannot resolve for_each values.
  #checkov:skip=CKV_GCP_80:A view stores no data, so there is nothing to encrypt with CMEK.
  for_each            = var.views
  project             = var.datasets[each.value.layer].project
  dataset_id          = var.datasets[each.value.layer].dataset_id
  table_id            = each.key
  description         = coalesce(each.value.description, "View ${each.key} of pipeline ${var.name}.")
  deletion_protection = each.value.deletion_protection
  labels              = merge(local.labels, each.value.labels)

  view {
    query          = each.value.query
    use_legacy_sql = false
  }

  # A view over this pipeline's tables must be created after them.
  depends_on = [google_bigquery_table.tables]
}

# Authorized views read their source datasets on behalf of users who cannot read those
# datasets themselves: the grant lives on each source dataset. The data source module grants
# the same datasets with google_bigquery_dataset_iam_member; the two do not fight: the member
# resource rewrites the access list read-modify-write, keeping every view, dataset and
# routine entry (google/services/bigquery/iam_bigquery_member_dataset.go: SetResourceIamPolicy,
# mergeAccess), under the same per-dataset mutex as google_bigquery_dataset_access
# (GetMutexKey; resource_bigquery_dataset_access.go), and google_bigquery_dataset sets no
# access block (its access is Optional+Computed).
resource "google_bigquery_dataset_access" "authorized_views" {
  # iamdoc: who = "each view with authorized_on"
  # iamdoc: on = "each source dataset it names"
  for_each   = local.authorized_views
  project    = var.datasets[each.value.layer].project
  dataset_id = var.datasets[each.value.layer].dataset_id

  view {
    project_id = google_bigquery_table.views[each.value.view].project
    dataset_id = google_bigquery_table.views[each.value.view].dataset_id
    table_id   = google_bigquery_table.views[each.value.view].table_id
  }
}
