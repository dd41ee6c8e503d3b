# One entry, two resources: a google_bigquery_dataset_access (WRITER) and a
# google_bigquery_dataset_iam_member (roles/bigquery.dataEditor) for the same account stand
# for the same entry of the dataset's access list. Deleting the access resource removes the
# entry (resourceBigQueryDatasetAccessDelete in
# google/services/bigquery/resource_bigquery_dataset_access.go), so the member is gone on
# the next refresh (resourceIamMemberRead clears its id when the binding lacks the member,
# google/tpgiamresource/resource_iam_member.go) and the plan creates it again. Why a stack
# that hands such an entry over releases its resource (removed, destroy = false) instead.

provider "google" {
  region = "europe-west1"
}

resource "google_project" "p" {
  project_id          = "acme-cf-dsdrop"
  name                = "acme-cf-dsdrop"
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

resource "google_bigquery_dataset_access" "writer" {
  project       = google_project.p.project_id
  dataset_id    = google_bigquery_dataset.d.dataset_id
  role          = "WRITER"
  user_by_email = google_service_account.a["quality-scan"].email
}

resource "google_bigquery_dataset_iam_member" "editor" {
  project    = google_project.p.project_id
  dataset_id = google_bigquery_dataset.d.dataset_id
  role       = "roles/bigquery.dataEditor"
  member     = "serviceAccount:${google_service_account.a["quality-scan"].email}"
  depends_on = [google_bigquery_dataset_access.writer]
}
