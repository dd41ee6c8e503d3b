provider "google" {
  region = "europe-west1"
}

# The GA data source asks Google for the Cloud Storage agent, which creates it.

resource "google_project" "p" {
  project_id          = "acme-cf-agent"
  name                = "acme-cf-agent"
  folder_id           = "123456789012"
  billing_account     = "012345-6789AB-CDEF01"
  deletion_policy     = "DELETE"
  auto_create_network = false
}

resource "google_project_service" "s" {
  for_each = toset([
    "cloudkms.googleapis.com",
    "storage.googleapis.com",
  ])
  project = google_project.p.project_id
  service = each.value
}

resource "google_kms_key_ring" "r" {
  project    = google_project.p.project_id
  name       = "ring"
  location   = "europe"
  depends_on = [google_project_service.s]
}

resource "google_kms_crypto_key" "k" {
  name     = "key"
  key_ring = google_kms_key_ring.r.id
}

data "google_storage_project_service_account" "gcs" {
  project    = google_project.p.project_id
  depends_on = [google_project_service.s]
}

resource "google_kms_crypto_key_iam_member" "gcs" {
  crypto_key_id = google_kms_crypto_key.k.id
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = data.google_storage_project_service_account.gcs.member
}
