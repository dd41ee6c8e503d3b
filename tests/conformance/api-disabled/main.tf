provider "google" {
  region = "europe-west1"
}

# Broken: a bucket in a created project whose Cloud Storage API was never enabled.

resource "google_project" "p" {
  project_id          = "acme-cf-api"
  name                = "acme-cf-api"
  folder_id           = "123456789012"
  billing_account     = "012345-6789AB-CDEF01"
  deletion_policy     = "DELETE"
  auto_create_network = false
}

resource "google_storage_bucket" "b" {
  project  = google_project.p.project_id
  name     = "acme-cf-api-bucket"
  location = "EU"
}
