provider "google" {
  region = "europe-west1"
}

# Broken: the Dataplex agent is a primary agent (https://cloud.google.com/iam/docs/service-agents);
# enabling dataplex.googleapis.com does not create it, so the results dataset cannot be shared
# with it yet (the pipeline module's google_bigquery_dataset_access.agents).

resource "google_project" "p" {
  project_id          = "acme-cf-dpx"
  name                = "acme-cf-dpx"
  folder_id           = "123456789012"
  billing_account     = "012345-6789AB-CDEF01"
  deletion_policy     = "DELETE"
  auto_create_network = false
}

resource "google_project_service" "s" {
  for_each = toset(["bigquery.googleapis.com", "dataplex.googleapis.com"])
  project  = google_project.p.project_id
  service  = each.value
}

resource "google_bigquery_dataset" "results" {
  project                    = google_project.p.project_id
  dataset_id                 = "results"
  location                   = "EU"
  delete_contents_on_destroy = true
  depends_on                 = [google_project_service.s]
}

resource "google_bigquery_dataset_access" "dataplex" {
  project       = google_project.p.project_id
  dataset_id    = google_bigquery_dataset.results.dataset_id
  role          = "WRITER"
  user_by_email = "service-${google_project.p.number}@gcp-sa-dataplex.iam.gserviceaccount.com"
}
