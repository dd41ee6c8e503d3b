# The fixed form of dataset-access-entry-twice: each entry once. Entries that differ in role
# or account live side by side in one access list (each google_bigquery_dataset_access has
# the dataset as its id), and each is destroyed alone.

provider "google" {
  region = "europe-west1"
}

resource "google_project" "p" {
  project_id          = "acme-cf-dsentries"
  name                = "acme-cf-dsentries"
  folder_id           = "123456789012"
  billing_account     = "012345-6789AB-CDEF01"
  deletion_policy     = "DELETE"
  auto_create_network = false
}

resource "google_project_service" "s" {
  for_each = toset(["bigquery.googleapis.com", "iam.googleapis.com"])
  project  = google_project.p.project_id
  service  = each.value
}

resource "google_service_account" "a" {
  for_each   = toset(["quality-scan", "dlp-inspect"])
  project    = google_project.p.project_id
  account_id = each.value
  depends_on = [google_project_service.s]
}

resource "google_bigquery_dataset" "d" {
  project                    = google_project.p.project_id
  dataset_id                 = "curated"
  location                   = "EU"
  delete_contents_on_destroy = true
  depends_on                 = [google_project_service.s]
}

resource "google_bigquery_dataset_access" "scan_writer" {
  project       = google_project.p.project_id
  dataset_id    = google_bigquery_dataset.d.dataset_id
  role          = "WRITER"
  user_by_email = google_service_account.a["quality-scan"].email
}

resource "google_bigquery_dataset_access" "scan_reader" {
  project       = google_project.p.project_id
  dataset_id    = google_bigquery_dataset.d.dataset_id
  role          = "READER"
  user_by_email = google_service_account.a["quality-scan"].email
}

resource "google_bigquery_dataset_access" "inspect_writer" {
  project       = google_project.p.project_id
  dataset_id    = google_bigquery_dataset.d.dataset_id
  role          = "WRITER"
  user_by_email = google_service_account.a["dlp-inspect"].email
}
