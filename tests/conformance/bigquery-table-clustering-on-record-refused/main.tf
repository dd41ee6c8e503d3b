# Clustering columns must be top-level, non-repeated columns of an orderable type;
# BigQuery refuses a RECORD (https://cloud.google.com/bigquery/docs/clustered-tables).
terraform {
  required_providers {
    google = { source = "hashicorp/google" }
  }
}

provider "google" {
  project = "df-conformance"
  region  = "europe-west1"
}

resource "google_bigquery_dataset" "d" {
  dataset_id                 = "conformance"
  location                   = "EU"
  delete_contents_on_destroy = true
}

resource "google_bigquery_table" "t" {
  dataset_id          = google_bigquery_dataset.d.dataset_id
  table_id            = "orders"
  deletion_protection = false
  schema = jsonencode([
    { name = "order_id", type = "STRING", mode = "REQUIRED" },
    { name = "address", type = "RECORD", mode = "NULLABLE", fields = [{ name = "city", type = "STRING" }] },
  ])

  clustering = ["address"]
}
