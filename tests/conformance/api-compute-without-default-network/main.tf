provider "google" {
  region = "europe-west1"
}

# auto_create_network = false makes the provider enable Compute Engine (and leave it on).

resource "google_project" "p" {
  project_id          = "acme-cf-net"
  name                = "acme-cf-net"
  folder_id           = "123456789012"
  billing_account     = "012345-6789AB-CDEF01"
  deletion_policy     = "DELETE"
  auto_create_network = false
}

resource "google_compute_network" "n" {
  project                 = google_project.p.project_id
  name                    = "acme-cf-net"
  auto_create_subnetworks = false
}
