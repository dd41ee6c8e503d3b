resource "google_storage_bucket" "default" {
  #checkov:skip=CKV_GCP_62:Usage logs need a separate log bucket, which the caller passes as var.access_log_bucket; Cloud Audit Logs (set up by the environment) record data access regardless.
  #checkov:skip=CKV_GCP_78:Versioning is on by default; it is off only on a bucket with a retention policy, which GCS forbids together with versioning (the retention policy protects objects instead).
  for_each                    = local.buckets
  project                     = each.value.project_id
  name                        = each.value.name
  location                    = var.location
  storage_class               = each.value.storage_class
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = each.value.force_destroy
  labels                      = merge(local.labels, each.value.labels, { df_bucket_role = each.key })

  versioning {
    enabled = each.value.versioning
  }

  dynamic "retention_policy" {
    for_each = each.value.retention_days == null ? [] : [each.value.retention_days]
    content {
      retention_period = retention_policy.value * 86400
    }
  }

  dynamic "encryption" {
    for_each = var.kms_keys.storage == null ? [] : [var.kms_keys.storage]
    content {
      default_kms_key_name = encryption.value
    }
  }

  dynamic "logging" {
    for_each = var.access_log_bucket == null ? [] : [var.access_log_bucket]
    content {
      log_bucket        = logging.value
      log_object_prefix = each.value.name
    }
  }

  dynamic "lifecycle_rule" {
    for_each = each.value.lifecycle.archive_after_days == null ? [] : [each.value.lifecycle.archive_after_days]
    content {
      action {
        type          = "SetStorageClass"
        storage_class = "ARCHIVE"
      }
      condition {
        age                   = lifecycle_rule.value
        matches_storage_class = ["STANDARD", "NEARLINE", "COLDLINE"]
      }
    }
  }

  dynamic "lifecycle_rule" {
    for_each = each.value.lifecycle.delete_after_days == null ? [] : [each.value.lifecycle.delete_after_days]
    content {
      action {
        type = "Delete"
      }
      condition {
        age = lifecycle_rule.value
      }
    }
  }

  # Noncurrent versions only exist on versioned buckets; without this they would pile up.
  dynamic "lifecycle_rule" {
    for_each = (
      each.value.versioning && each.value.lifecycle.noncurrent_delete_after_days != null
      ? [each.value.lifecycle.noncurrent_delete_after_days] : []
    )
    content {
      action {
        type = "Delete"
      }
      condition {
        days_since_noncurrent_time = lifecycle_rule.value
        with_state                 = "ARCHIVED"
      }
    }
  }
}
