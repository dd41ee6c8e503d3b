terraform {
  required_providers {
    google      = { source = "hashicorp/google" }
    google-beta = { source = "hashicorp/google-beta" }
  }
}

provider "google" {
  region = "europe-west1"
}

provider "google-beta" {
  region = "europe-west1"
}

# Step 2: the identity is asked for another service. service is ForceNew in google-beta's
# resource_project_service_identity.go, so the identity, and the grant to its member, are
# replaced.

resource "google_project" "p" {
  project_id          = "acme-cf-beta"
  name                = "acme-cf-beta"
  folder_id           = "123456789012"
  billing_account     = "012345-6789AB-CDEF01"
  deletion_policy     = "DELETE"
  auto_create_network = false
}

resource "google_project_service" "pubsub" {
  project = google_project.p.project_id
  service = "pubsub.googleapis.com"
}

resource "google_project_service" "dataplex" {
  project = google_project.p.project_id
  service = "dataplex.googleapis.com"
}

resource "google_project_service_identity" "agent" {
  provider   = google-beta
  project    = google_project.p.project_id
  service    = "dataplex.googleapis.com"
  depends_on = [google_project_service.dataplex]
}

resource "google_project_iam_member" "agent" {
  project = google_project.p.project_id
  role    = "roles/dataplex.serviceAgent"
  member  = google_project_service_identity.agent.member
}
