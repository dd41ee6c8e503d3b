# Broken: two resources (as two pipeline stacks of one data source would) add the same
# entry (role WRITER for one account) to a dataset's access list. The provider reads the list
# before it adds the entry and refuses one that is there already
# (resourceBigQueryDatasetAccessPatchCreateEncoder in
# google/services/bigquery/resource_bigquery_dataset_access.go).

provider "google" {
  region = "europe-west1"
}

resource "google_project" "p" {
  project_id          = "acme-cf-dsaccess"
  name                = "acme-cf-dsaccess"
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

resource "google_bigquery_dataset_access" "first" {
  project       = google_project.p.project_id
  dataset_id    = google_bigquery_dataset.d.dataset_id
  role          = "WRITER"
  user_by_email = google_service_account.a["quality-scan"].email
}

resource "google_bigquery_dataset_access" "second" {
  project       = google_project.p.project_id
  dataset_id    = google_bigquery_dataset.d.dataset_id
  role          = "WRITER"
  user_by_email = google_service_account.a["quality-scan"].email
  depends_on    = [google_bigquery_dataset_access.first]
}
