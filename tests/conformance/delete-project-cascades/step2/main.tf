provider "google" {
  region = "europe-west1"
}

# The project and its API are removed from the configuration; the bucket stays.
resource "google_storage_bucket" "b" {
  project  = "acme-cf-gone"
  name     = "acme-cf-gone-bucket"
  location = "EU"
}
