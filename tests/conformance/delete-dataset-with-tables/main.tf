provider "google" {
  region = "europe-west1"
}

# Broken: the seed holds a table in this dataset; BigQuery deletes only empty datasets.
resource "google_bigquery_dataset" "d" {
  project    = "acme-existing-prj"
  dataset_id = "sales"
  location   = "EU"
}
