provider "google" {
  region = "europe-west1"
}

# force_destroy deletes the seeded object with the bucket.
resource "google_storage_bucket" "b" {
  project       = "acme-existing-prj"
  name          = "acme-cf-full-bucket"
  location      = "EU"
  force_destroy = true
}
