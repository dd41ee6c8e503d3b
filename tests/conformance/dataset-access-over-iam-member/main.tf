# Broken: a google_bigquery_dataset_access adds an entry that a google_bigquery_dataset_iam_member
# granted already (WRITER is roles/bigquery.dataEditor on a dataset's access list, the same
# entry). The access resource's create reads the list and refuses an entry that is there
# (resourceBigQueryDatasetAccessPatchCreateEncoder in
# google/services/bigquery/resource_bigquery_dataset_access.go).

provider "google" {
  region = "europe-west1"
}

resource "google_project" "p" {
  project_id          = "acme-cf-dsmember"
  name                = "acme-cf-dsmember"
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

resource "google_bigquery_dataset_iam_member" "editor" {
  project    = google_project.p.project_id
  dataset_id = google_bigquery_dataset.d.dataset_id
  role       = "roles/bigquery.dataEditor"
  member     = "serviceAccount:${google_service_account.a["quality-scan"].email}"
}

resource "google_bigquery_dataset_access" "writer" {
  project       = google_project.p.project_id
  dataset_id    = google_bigquery_dataset.d.dataset_id
  role          = "WRITER"
  user_by_email = google_service_account.a["quality-scan"].email
  depends_on    = [google_bigquery_dataset_iam_member.editor]
}
