# Data-access audit logs on every layer project and one log sink per layer project to a shared
# bucket or dataset (normally in the orchestration/common project), with its writer's grant.

locals {
  # google_project_iam_audit_config is authoritative per service: on an adopted project it
  # would replace the owner's settings (exempted members included), so adopted projects
  # get none unless the caller opts in.
  audit_configs = var.logging == null ? {} : merge([
    for l in local.layers : {
      for s in var.logging.audit_services : "${l}/${s}" => { layer = l, service = s }
    } if var.projects[l].create || var.logging.audit_adopted_projects
  ]...)
  sink        = try(var.logging.sink, null)
  sink_bucket = try(local.sink.shared_bucket, null)
  sink_ds     = try(local.sink.shared_dataset, null)
  sink_destination = (
    local.sink_bucket != null ? "storage.googleapis.com/${lookup(local.shared_bucket_names, local.sink_bucket, "")}" :
    local.sink_ds != null ? "bigquery.googleapis.com/${lookup(local.shared_dataset_ids, local.sink_ds, "")}" : null
  )
  sinks = local.sink == null ? {} : { for l in local.layers : l => local.project_ids[l] }
}

resource "google_project_iam_audit_config" "this" {
  for_each = local.audit_configs
  project  = local.project_ids[each.value.layer]
  service  = each.value.service

  audit_log_config {
    log_type = "ADMIN_READ"
  }

  audit_log_config {
    log_type = "DATA_READ"
  }

  audit_log_config {
    log_type = "DATA_WRITE"
  }

  depends_on = [google_project_service.this]
}

resource "google_logging_project_sink" "this" {
  #checkov:skip=CKV2_GCP_4:the destination is a shared bucket or dataset of this module; Bucket Lock is the caller's choice there (shared_buckets[*].retention_days / retention_locked), being irreversible.
  for_each               = local.sinks
  project                = each.value
  name                   = local.sink.name
  destination            = local.sink_destination
  filter                 = local.sink.filter
  unique_writer_identity = true

  dynamic "bigquery_options" {
    for_each = local.sink_ds == null ? [] : [true]
    content {
      use_partitioned_tables = true
    }
  }

  lifecycle {
    precondition {
      condition = (
        (local.sink_bucket == null || contains(keys(var.shared_buckets), coalesce(local.sink_bucket, "-"))) &&
        (local.sink_ds == null || contains(keys(var.shared_datasets), coalesce(local.sink_ds, "-")))
      )
      error_message = "logging.sink.shared_bucket / shared_dataset must be a key of shared_buckets / shared_datasets."
    }
  }

  depends_on = [google_project_service.this]
}

resource "google_storage_bucket_iam_member" "sink_writers" {
  # iamdoc: who = "each log sink's writer identity"
  # iamdoc: on = "the sink's shared bucket"
  for_each = contains(keys(var.shared_buckets), coalesce(local.sink_bucket, "-")) ? local.sinks : {}
  bucket   = google_storage_bucket.shared[local.sink_bucket].name
  role     = "roles/storage.objectCreator"
  member   = google_logging_project_sink.this[each.key].writer_identity
}

resource "google_bigquery_dataset_iam_member" "sink_writers" {
  # iamdoc: who = "each log sink's writer identity"
  # iamdoc: on = "the sink's shared dataset"
  for_each   = contains(keys(var.shared_datasets), coalesce(local.sink_ds, "-")) ? local.sinks : {}
  project    = google_bigquery_dataset.shared[local.sink_ds].project
  dataset_id = google_bigquery_dataset.shared[local.sink_ds].dataset_id
  role       = "roles/bigquery.dataEditor"
  member     = google_logging_project_sink.this[each.key].writer_identity
}
