# What Google's service agents need to act for this pipeline, each grant an input computed by
# the caller (df-gen's model); the environment stack provisions the agents beforehand.
# - Dataplex data-quality scans export their results to a BigQuery table that Dataplex
#   creates: "grant the Dataplex service account the BigQuery Data Editor
#   (roles/bigquery.dataEditor) IAM role on the results dataset and table"; a scan in another
#   project than its table also needs read on the table
#   (https://cloud.google.com/dataplex/docs/use-auto-data-quality, "Required roles").
# - DLP job triggers inspect tables and save findings to a table DLP creates, as the DLP
#   service agent of the trigger's project, which Google grants only "common permissions on
#   the project" (https://cloud.google.com/sensitive-data-protection/docs/access-control/service-accounts):
#   read on the inspected tables, write on the findings dataset.
# Scans and job triggers are created after these grants (depends_on in quality.tf, dlp.tf).

locals {
  # Dataset grants go through the dataset's access list, as the authorized views do. The data
  # source module grants the same datasets with google_bigquery_dataset_iam_member; in google
  # 8.x the two do not fight (the provider doc's warning predates it): the member resource
  # rewrites the access list read-modify-write, keeping every entry with a role and, through
  # mergeAccess, every view, dataset and routine entry
  # (google/services/bigquery/iam_bigquery_member_dataset.go: SetResourceIamPolicy,
  # accessToPolicyForIamMember, mergeAccess), under the same per-dataset mutex as
  # google_bigquery_dataset_access (GetMutexKey; resource_bigquery_dataset_access.go), and
  # google_bigquery_dataset sets no access block here (its access is Optional+Computed).
  # The access list takes the basic role of a predefined BigQuery role, which the API
  # returns in any case (provider doc website/docs/r/bigquery_dataset_access.html.markdown:
  # "You must specify the role field using the legacy format").
  # Keyed without "roles/": the role comes from the input (the permission table says so).
  legacy_dataset_roles = {
    "bigquery.dataOwner"  = "OWNER"
    "bigquery.dataEditor" = "WRITER"
    "bigquery.dataViewer" = "READER"
  }
  agent_dataset_grants = { for k, g in var.service_agent_grants : k => g if g.dataset != null }
  agent_table_grants   = { for k, g in var.service_agent_grants : k => g if g.table != null }
}

resource "google_bigquery_dataset_access" "agents" {
  # iamdoc: roles = var.service_agent_grants[*].role
  # iamdoc: who = "service agents (service_agent_grants)"
  # iamdoc: on = "the dataset of the layer each grant names"
  for_each      = local.agent_dataset_grants
  project       = var.datasets[each.value.dataset].project
  dataset_id    = var.datasets[each.value.dataset].dataset_id
  role          = lookup(local.legacy_dataset_roles, trimprefix(each.value.role, "roles/"), each.value.role)
  user_by_email = trimprefix(each.value.member, "serviceAccount:")
}

resource "google_bigquery_table_iam_member" "agents" {
  # iamdoc: roles = var.service_agent_grants[*].role
  # iamdoc: who = "service agents (service_agent_grants)"
  # iamdoc: on = "the table each grant names"
  for_each   = local.agent_table_grants
  project    = google_bigquery_table.tables[each.value.table].project
  dataset_id = google_bigquery_table.tables[each.value.table].dataset_id
  table_id   = google_bigquery_table.tables[each.value.table].table_id
  role       = each.value.role
  member     = each.value.member
}
