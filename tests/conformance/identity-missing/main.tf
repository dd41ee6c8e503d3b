provider "google" {
  region = "europe-west1"
}

# Broken: the member is a service account of a created project that nobody created.

resource "google_project" "p" {
  project_id          = "acme-cf-ids"
  name                = "acme-cf-ids"
  folder_id           = "123456789012"
  billing_account     = "012345-6789AB-CDEF01"
  deletion_policy     = "DELETE"
  auto_create_network = false
}

resource "google_project_iam_member" "reader" {
  project = google_project.p.project_id
  role    = "roles/viewer"
  member  = "serviceAccount:df-ghost@acme-cf-ids.iam.gserviceaccount.com"
}
