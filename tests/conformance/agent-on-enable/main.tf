provider "google" {
  region = "europe-west1"
}

# The Compute Engine service agent comes with the API (enabled here by
# auto_create_network = false).

resource "google_project" "p" {
  project_id          = "acme-cf-agent"
  name                = "acme-cf-agent"
  folder_id           = "123456789012"
  billing_account     = "012345-6789AB-CDEF01"
  deletion_policy     = "DELETE"
  auto_create_network = false
}

resource "google_project_iam_member" "compute_agent" {
  project = google_project.p.project_id
  role    = "roles/compute.serviceAgent"
  member  = "serviceAccount:service-${google_project.p.number}@compute-system.iam.gserviceaccount.com"
}
