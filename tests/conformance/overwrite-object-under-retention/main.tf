provider "google" {
  region = "europe-west1"
}

resource "google_storage_bucket" "b" {
  project  = "acme-existing-prj"
  name     = "acme-cf-locked-bucket"
  location = "EU"

  retention_policy {
    retention_period = 86400
  }
}

resource "google_storage_bucket_object" "o" {
  bucket  = google_storage_bucket.b.name
  name    = "archive/a.csv"
  content = "a"
}
