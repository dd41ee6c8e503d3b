provider "google" {
  region = "europe-west1"
}

resource "google_project" "p" {
  project_id          = "acme-cf-ids"
  name                = "acme-cf-ids"
  folder_id           = "123456789012"
  billing_account     = "012345-6789AB-CDEF01"
  deletion_policy     = "DELETE"
  auto_create_network = false
}

resource "google_project_service" "iam" {
  project = google_project.p.project_id
  service = "iam.googleapis.com"
}

resource "google_service_account" "sa" {
  project    = google_project.p.project_id
  account_id = "df-reader"
  depends_on = [google_project_service.iam]
}

resource "google_project_iam_member" "reader" {
  project = google_project.p.project_id
  role    = "roles/viewer"
  member  = google_service_account.sa.member
}
