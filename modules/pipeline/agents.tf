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
# The grants on the tables this module creates are here. Write on the results and findings
# datasets is not: those are the data source's, shared by its pipelines, and the datasource
# module grants it (its service_agent_grants), so it is in place before a pipeline stack is
# applied. Scans and job triggers are created after these grants (depends_on in quality.tf,
# dlp.tf).

# Earlier versions granted the dataset entries here, as google_bigquery_dataset_access
# resources. The data source now holds the same entries (an IAM member of the same role and
# member is the same entry of the access list), so they leave this state without a delete:
# deleting one would remove the entry the data source's grant stands for
# (resourceBigQueryDatasetAccessPatchDeleteEncoder,
# google/services/bigquery/resource_bigquery_dataset_access.go). A removed block needs
# Terraform 1.7 (versions.tf), as df-gen does (generator/engine/core.py, MINIMUM_VERSION).
removed {
  from = google_bigquery_dataset_access.agents
  lifecycle {
    destroy = false
  }
}

resource "google_bigquery_table_iam_member" "agents" {
  # iamdoc: roles = var.service_agent_grants[*].role
  # iamdoc: who = "service agents (service_agent_grants)"
  # iamdoc: on = "the table each grant names"
  for_each   = var.service_agent_grants
  project    = google_bigquery_table.tables[each.value.table].project
  dataset_id = google_bigquery_table.tables[each.value.table].dataset_id
  table_id   = google_bigquery_table.tables[each.value.table].table_id
  role       = each.value.role
  member     = each.value.member
}
