provider "google" {
  region = "europe-west1"
}

# Broken: the DLP agent is a primary agent (https://cloud.google.com/iam/docs/service-agents);
# enabling dlp.googleapis.com does not create it, so an inspected table cannot be granted to
# it yet (the pipeline module's google_bigquery_table_iam_member.agents).

resource "google_project" "p" {
  project_id          = "acme-cf-dlp"
  name                = "acme-cf-dlp"
  folder_id           = "123456789012"
  billing_account     = "012345-6789AB-CDEF01"
  deletion_policy     = "DELETE"
  auto_create_network = false
}

resource "google_project_service" "s" {
  for_each = toset(["bigquery.googleapis.com", "dlp.googleapis.com"])
  project  = google_project.p.project_id
  service  = each.value
}

resource "google_bigquery_dataset" "d" {
  project                    = google_project.p.project_id
  dataset_id                 = "landing"
  location                   = "EU"
  delete_contents_on_destroy = true
  depends_on                 = [google_project_service.s]
}

resource "google_bigquery_table" "t" {
  project             = google_project.p.project_id
  dataset_id          = google_bigquery_dataset.d.dataset_id
  table_id            = "orders"
  deletion_protection = false
  schema              = jsonencode([{ name = "id", type = "STRING" }])
}

resource "google_bigquery_table_iam_member" "dlp" {
  project    = google_project.p.project_id
  dataset_id = google_bigquery_table.t.dataset_id
  table_id   = google_bigquery_table.t.table_id
  role       = "roles/bigquery.dataViewer"
  member     = "serviceAccount:service-${google_project.p.number}@dlp-api.iam.gserviceaccount.com"
}
