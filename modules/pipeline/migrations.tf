# In-place schema migrations: one BigQuery query job per table whose descriptor chose
# `migrate`, running the DDL df-gen rendered (ALTER COLUMN SET DATA TYPE, DROP NOT NULL,
# DROP COLUMN). The tables depend on these jobs, so a job runs before its table is touched;
# df-gen applies the jobs alone first and plans again, so that the table, whose schema on
# BigQuery then already is the new one, is not replaced.
resource "google_bigquery_job" "migrations" {
  for_each = var.migrations
  project  = var.datasets[each.value.layer].project
  job_id   = each.value.job_id
  location = each.value.location
  labels   = local.labels

  query {
    query          = each.value.query
    use_legacy_sql = false
    # The provider defaults these to CREATE_IF_NEEDED and WRITE_EMPTY; a statement that is
    # not a SELECT must clear them (website/docs/r/bigquery_job.html.markdown, query.query).
    create_disposition = ""
    write_disposition  = ""
  }

  lifecycle {
    precondition {
      condition     = contains(keys(var.tables), each.key)
      error_message = "Migration ${each.key} names no table in tables."
    }
  }
}
