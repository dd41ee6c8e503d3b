provider "google" {
  region = "europe-west1"
}

# Broken: the seed says only BigQuery is enabled in this existing project.
resource "google_storage_bucket" "b" {
  project  = "acme-seeded-prj"
  name     = "acme-cf-seeded-bucket"
  location = "EU"
}
