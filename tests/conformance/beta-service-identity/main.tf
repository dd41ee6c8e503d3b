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

# The Pub/Sub agent is a primary service agent: google_project_service_identity (google-beta)
# creates it, and its email (from services.generateServiceIdentity) is granted a role.

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

resource "google_project_service_identity" "agent" {
  provider   = google-beta
  project    = google_project.p.project_id
  service    = "pubsub.googleapis.com"
  depends_on = [google_project_service.pubsub]
}

resource "google_project_iam_member" "agent" {
  project = google_project.p.project_id
  role    = "roles/pubsub.serviceAgent"
  member  = google_project_service_identity.agent.member
}
