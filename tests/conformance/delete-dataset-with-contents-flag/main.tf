provider "google" {
  region = "europe-west1"
}

# delete_contents_on_destroy drops the seeded table with the dataset.
resource "google_bigquery_dataset" "d" {
  project                    = "acme-existing-prj"
  dataset_id                 = "sales"
  location                   = "EU"
  delete_contents_on_destroy = true
}
