provider "google" {
  region = "europe-west1"
}

# Broken: the Pub/Sub agent is a primary agent; enabling the API does not create it
# (google_project_service_identity does).

resource "google_project" "p" {
  project_id          = "acme-cf-agent"
  name                = "acme-cf-agent"
  folder_id           = "123456789012"
  billing_account     = "012345-6789AB-CDEF01"
  deletion_policy     = "DELETE"
  auto_create_network = false
}

resource "google_project_service" "s" {
  for_each = toset([
    "pubsub.googleapis.com",
  ])
  project = google_project.p.project_id
  service = each.value
}

resource "google_project_iam_member" "pubsub_agent" {
  project    = google_project.p.project_id
  role       = "roles/pubsub.serviceAgent"
  member     = "serviceAccount:service-${google_project.p.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
  depends_on = [google_project_service.s]
}
