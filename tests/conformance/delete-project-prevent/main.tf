provider "google" {
  region = "europe-west1"
}

# The provider's default deletion_policy PREVENT refuses the destroy.
resource "google_project" "p" {
  project_id          = "acme-cf-keep"
  name                = "acme-cf-keep"
  folder_id           = "123456789012"
  billing_account     = "012345-6789AB-CDEF01"
  auto_create_network = false
}
