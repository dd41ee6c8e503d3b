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
    { name = "order_date", type = "DATE", mode = "REQUIRED" },
    { name = "amount", type = "NUMERIC", mode = "NULLABLE" },
    { name = "quantity", type = "INT64", mode = "NULLABLE" },
  ])
}
