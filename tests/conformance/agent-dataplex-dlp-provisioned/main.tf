terraform {
  required_providers {
    google      = { source = "hashicorp/google" }
    google-beta = { source = "hashicorp/google-beta" }
  }
}

provider "google" {
  region = "europe-west1"
}

provider "google-beta" {
  region = "europe-west1"
}

# The fixed form of agent-dataplex-not-provisioned and agent-dlp-not-provisioned, as the
# environment and pipeline modules do it: google_project_service_identity (google-beta)
# provisions both primary agents, and the grants name the identities' e-mails.

resource "google_project" "p" {
  project_id          = "acme-cf-agents"
  name                = "acme-cf-agents"
  folder_id           = "123456789012"
  billing_account     = "012345-6789AB-CDEF01"
  deletion_policy     = "DELETE"
  auto_create_network = false
}

resource "google_project_service" "s" {
  for_each = toset(["bigquery.googleapis.com", "dataplex.googleapis.com", "dlp.googleapis.com"])
  project  = google_project.p.project_id
  service  = each.value
}

resource "google_project_service_identity" "agents" {
  provider   = google-beta
  for_each   = toset(["dataplex.googleapis.com", "dlp.googleapis.com"])
  project    = google_project.p.project_id
  service    = each.value
  depends_on = [google_project_service.s]
}

resource "google_bigquery_dataset" "d" {
  project                    = google_project.p.project_id
  dataset_id                 = "curated"
  location                   = "EU"
  delete_contents_on_destroy = true
  depends_on                 = [google_project_service.s]
}

resource "google_bigquery_table" "t" {
  project             = google_project.p.project_id
  dataset_id          = google_bigquery_dataset.d.dataset_id
  table_id            = "orders"
  deletion_protection = false
  schema              = jsonencode([{ name = "id", type = "STRING" }])
}

resource "google_bigquery_dataset_access" "dataplex" {
  project       = google_project.p.project_id
  dataset_id    = google_bigquery_dataset.d.dataset_id
  role          = "WRITER"
  user_by_email = google_project_service_identity.agents["dataplex.googleapis.com"].email
}

resource "google_bigquery_table_iam_member" "dlp" {
  project    = google_project.p.project_id
  dataset_id = google_bigquery_table.t.dataset_id
  table_id   = google_bigquery_table.t.table_id
  role       = "roles/bigquery.dataViewer"
  member     = google_project_service_identity.agents["dlp.googleapis.com"].member
}
