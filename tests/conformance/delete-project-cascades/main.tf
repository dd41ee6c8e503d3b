provider "google" {
  region = "europe-west1"
}

resource "google_project" "p" {
  project_id          = "acme-cf-gone"
  name                = "acme-cf-gone"
  folder_id           = "123456789012"
  billing_account     = "012345-6789AB-CDEF01"
  deletion_policy     = "DELETE"
  auto_create_network = false
}

resource "google_project_service" "storage" {
  project = google_project.p.project_id
  service = "storage.googleapis.com"
}

resource "google_storage_bucket" "b" {
  project    = google_project.p.project_id
  name       = "acme-cf-gone-bucket"
  location   = "EU"
  depends_on = [google_project_service.storage]
}
