provider "google" {
  region = "europe-west1"
}

# The bucket waits for its agent's grant on the key.

resource "google_project" "p" {
  project_id          = "acme-cf-cmek"
  name                = "acme-cf-cmek"
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

resource "google_storage_bucket" "b" {
  project  = google_project.p.project_id
  name     = "acme-cf-cmek-bucket"
  location = "EU"

  encryption {
    default_kms_key_name = google_kms_crypto_key.k.id
  }

  depends_on = [google_kms_crypto_key_iam_member.gcs]
}
