# A configuration using the google types df-gen renders, applied against the sandbox.
terraform {
  required_providers {
    google = { source = "hashicorp/google" }
  }
}

provider "google" {
  project = "df-sandbox-lnd"
  region  = "europe-west1"
  default_labels = {
    managed-by = "df-gen"
  }
}

variable "roles" {
  type = map(string)
  default = {
    viewer = "roles/bigquery.dataViewer"
    editor = "roles/bigquery.dataEditor"
  }
}

data "google_client_config" "current" {}

resource "google_project" "landing" {
  project_id      = "df-sandbox-lnd"
  name            = "Landing"
  billing_account = "000000-000000-000000"
  labels          = { layer = "landing" }
  deletion_policy = "DELETE"
}

# The agents exist once asked for (the GET needs the service's API enabled).
data "google_storage_project_service_account" "gcs" {
  project    = google_project.landing.project_id
  depends_on = [google_project_service.apis]
}

data "google_bigquery_default_service_account" "bq" {
  project    = google_project.landing.project_id
  depends_on = [google_project_service.apis]
}

# A project created through the API starts with no API enabled.
resource "google_project_service" "apis" {
  for_each = toset([
    "bigquery.googleapis.com",
    "cloudkms.googleapis.com",
    "iam.googleapis.com",
    "pubsub.googleapis.com",
    "storage.googleapis.com",
  ])
  project = google_project.landing.project_id
  service = each.value
}

resource "google_service_account" "loader" {
  project      = google_project.landing.project_id
  account_id   = "sales-loader"
  display_name = "Sales loader"
  depends_on   = [google_project_service.apis]
}

resource "google_kms_key_ring" "ring" {
  project    = google_project.landing.project_id
  name       = "landing-ring"
  location   = "europe-west1"
  depends_on = [google_project_service.apis]
}

resource "google_kms_crypto_key" "key" {
  name            = "landing-key"
  key_ring        = google_kms_key_ring.ring.id
  rotation_period = "7776000s"
  labels          = { purpose = "cmek" }
}

resource "google_kms_crypto_key_iam_member" "gcs" {
  crypto_key_id = google_kms_crypto_key.key.id
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = data.google_storage_project_service_account.gcs.member
}

resource "google_kms_crypto_key_iam_member" "bq" {
  crypto_key_id = google_kms_crypto_key.key.id
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = data.google_bigquery_default_service_account.bq.member
}

resource "google_storage_bucket" "landing" {
  project                     = google_project.landing.project_id
  name                        = "df-sandbox-lnd-sales"
  location                    = "EUROPE-WEST1"
  uniform_bucket_level_access = true
  labels                      = { layer = "landing", source = "sales" }

  versioning {
    enabled = true
  }
  encryption {
    default_kms_key_name = google_kms_crypto_key.key.id
  }
  lifecycle_rule {
    action {
      type          = "SetStorageClass"
      storage_class = "NEARLINE"
    }
    condition {
      age                   = 30
      matches_storage_class = ["STANDARD"]
    }
  }
  lifecycle_rule {
    action {
      type = "Delete"
    }
    condition {
      age = 365
    }
  }
  depends_on = [google_kms_crypto_key_iam_member.gcs]
}

resource "google_storage_bucket_iam_member" "loader" {
  bucket = google_storage_bucket.landing.name
  role   = "roles/storage.objectAdmin"
  member = google_service_account.loader.member
}

resource "google_project_iam_member" "loader" {
  for_each = var.roles
  project  = google_project.landing.project_id
  role     = each.value
  member   = "serviceAccount:${google_service_account.loader.email}"
}

resource "google_project_iam_binding" "viewers" {
  project = google_project.landing.project_id
  role    = "roles/viewer"
  members = [google_service_account.loader.member, "group:data-team@example.com"]
}

resource "google_bigquery_dataset" "sales" {
  project    = google_project.landing.project_id
  dataset_id = "lnd_sales"
  location   = "europe-west1"
  labels     = { layer = "landing" }

  default_encryption_configuration {
    kms_key_name = google_kms_crypto_key.key.id
  }
  depends_on = [google_kms_crypto_key_iam_member.bq]
}

resource "google_bigquery_table" "orders" {
  project             = google_project.landing.project_id
  dataset_id          = google_bigquery_dataset.sales.dataset_id
  table_id            = "orders"
  deletion_protection = false
  schema = jsonencode([
    { name = "order_id", type = "STRING", mode = "REQUIRED" },
    { name = "amount", type = "NUMERIC", mode = "NULLABLE" },
  ])
  time_partitioning {
    type = "DAY"
  }
}

resource "google_pubsub_topic" "events" {
  project    = google_project.landing.project_id
  name       = "sales-events"
  depends_on = [google_project_service.apis]
}

resource "google_pubsub_subscription" "events" {
  project              = google_project.landing.project_id
  name                 = "sales-events-loader"
  topic                = google_pubsub_topic.events.id
  ack_deadline_seconds = 30
  expiration_policy {
    ttl = ""
  }
}

output "bucket_url" {
  value = google_storage_bucket.landing.url
}

output "loader_email" {
  value = google_service_account.loader.email
}

output "loader_id" {
  value = google_service_account.loader.id
}

output "project_number" {
  value = google_project.landing.number
}

output "dataset_id" {
  value = google_bigquery_dataset.sales.id
}

output "key_id" {
  value = google_kms_crypto_key.key.id
}

output "gcs_agent" {
  value = data.google_storage_project_service_account.gcs.email_address
}

output "bq_agent" {
  value = data.google_bigquery_default_service_account.bq.email
}

output "client_region" {
  value = data.google_client_config.current.region
}

output "iam_ids" {
  value = { for k, m in google_project_iam_member.loader : k => m.id }
}

output "effective_labels" {
  value = google_storage_bucket.landing.effective_labels
}
