output "tables" {
  description = "Table IDs (projects/P/datasets/D/tables/T) keyed by table name."
  value       = { for name, t in google_bigquery_table.tables : name => t.id }
}

output "views" {
  description = "View IDs keyed by view name, available once their dataset authorizations exist."
  value       = { for name, v in google_bigquery_table.views : name => v.id }
  depends_on  = [google_bigquery_dataset_access.authorized_views]
}

output "dag_objects" {
  description = "Names of the objects uploaded to the Composer DAG bucket, keyed like files."
  value       = { for key, o in google_storage_bucket_object.files : key => o.name }
}

output "dlp_inspect_template" {
  description = "ID of the DLP inspect template, or null when dlp is not set."
  value       = try(google_data_loss_prevention_inspect_template.default[0].id, null)
}

output "data_quality_scans" {
  description = "Dataplex datascan IDs keyed by scan ID."
  value       = { for id, s in google_dataplex_datascan.default : id => s.id }
}

output "dlp_job_triggers" {
  description = "DLP job trigger IDs keyed by inspected table key."
  value       = { for k, j in google_data_loss_prevention_job_trigger.tables : k => j.id }
}
