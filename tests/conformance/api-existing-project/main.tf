provider "google" {
  region = "europe-west1"
}

# A project the sandbox never saw created exists already, every API enabled.
resource "google_storage_bucket" "b" {
  project  = "acme-existing-prj"
  name     = "acme-cf-existing-bucket"
  location = "EU"
}
