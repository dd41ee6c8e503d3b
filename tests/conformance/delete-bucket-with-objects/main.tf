provider "google" {
  region = "europe-west1"
}

# Broken: the seed holds an object in this bucket; GCS deletes only empty buckets.
resource "google_storage_bucket" "b" {
  project  = "acme-existing-prj"
  name     = "acme-cf-full-bucket"
  location = "EU"
}
