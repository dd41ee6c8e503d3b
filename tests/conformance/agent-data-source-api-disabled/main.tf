provider "google" {
  region = "europe-west1"
}

# Broken: the agent's GET is a Cloud Storage call, refused before the API is enabled.

resource "google_project" "p" {
  project_id          = "acme-cf-agent"
  name                = "acme-cf-agent"
  folder_id           = "123456789012"
  billing_account     = "012345-6789AB-CDEF01"
  deletion_policy     = "DELETE"
  auto_create_network = false
}

data "google_storage_project_service_account" "gcs" {
  project = google_project.p.project_id
}
