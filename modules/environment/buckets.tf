# Environment-wide buckets: uniform access, public access prevention enforced, versioned (or under a retention policy),
# CMEK from kms.storage when set. Access is audited through DATA_READ/DATA_WRITE audit logs
# (logging.tf) rather than legacy usage logs.

locals {
  storage_kms_key     = try(local.kms_key_ids["storage"], null)
  shared_bucket_names = { for k, b in google_storage_bucket.shared : k => b.name }
  shared_bucket_grants = merge(flatten([
    for k, b in var.shared_buckets : [
      for role, members in b.iam : {
        for m in members : "${k}/${role}/${m}" => { bucket = k, role = role, member = m }
      }
    ]
  ])...)
}

resource "google_storage_bucket" "shared" {
  #checkov:skip=CKV_GCP_78:versioning is on for every bucket except those with a retention policy, which GCS does not allow together with versioning.
  #checkov:skip=CKV_GCP_62:access is recorded by Cloud Audit Logs (DATA_READ/DATA_WRITE on storage.googleapis.com, logging.tf), not legacy usage-log buckets.
  for_each                    = var.shared_buckets
  project                     = local.project_ids[each.value.project]
  name                        = each.value.name
  location                    = coalesce(each.value.location, var.location)
  storage_class               = each.value.storage_class
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false
  labels                      = merge(local.labels, each.value.labels)

  # A retention policy protects objects instead: GCS refuses it together with versioning.
  versioning {
    enabled = each.value.retention_days == null
  }

  dynamic "retention_policy" {
    for_each = each.value.retention_days == null ? [] : [each.value]
    content {
      retention_period = retention_policy.value.retention_days * 86400
      is_locked        = retention_policy.value.retention_locked
    }
  }

  dynamic "encryption" {
    for_each = local.storage_kms_key == null ? [] : [local.storage_kms_key]
    content {
      default_kms_key_name = encryption.value
    }
  }

  depends_on = [google_project_service.this, google_kms_crypto_key_iam_member.agents]
}

resource "google_storage_bucket_iam_member" "shared" {
  # iamdoc: roles = var.shared_buckets[*].iam
  # iamdoc: who = "the members listed per role"
  # iamdoc: on = "each shared bucket"
  for_each = local.shared_bucket_grants
  bucket   = google_storage_bucket.shared[each.value.bucket].name
  role     = each.value.role
  member   = each.value.member
}
