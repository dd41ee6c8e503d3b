# Upgrade path of a shared dataset grant: an entry that a google_bigquery_dataset_access made
# (WRITER for an account) is granted again with google_bigquery_dataset_iam_member
# (roles/bigquery.dataEditor, the same entry on Google's side: the API keeps the basic role,
# and the provider reads WRITER back as roles/bigquery.dataEditor, accessToPolicyForIamMember
# in google/services/bigquery/iam_bigquery_member_dataset.go). The member's create merges
# into the access list and does not refuse an entry that is there (resourceIamMemberCreate,
# MergeBindings, google/tpgiamresource/resource_iam_member.go). Step 2 adds the member and
# releases the old resource without deleting its entry (removed, destroy = false): the
# apply succeeds and the next plan is clean.

provider "google" {
  region = "europe-west1"
}

resource "google_project" "p" {
  project_id          = "acme-cf-dsmerge"
  name                = "acme-cf-dsmerge"
  folder_id           = "123456789012"
  billing_account     = "012345-6789AB-CDEF01"
  deletion_policy     = "DELETE"
  auto_create_network = false
}

resource "google_project_service" "s" {
  for_each = toset(["bigquery.googleapis.com", "iam.googleapis.com"])
  project  = google_project.p.project_id
  service  = each.value
}

resource "google_service_account" "a" {
  for_each   = toset(["quality-scan", "dlp-inspect"])
  project    = google_project.p.project_id
  account_id = each.value
  depends_on = [google_project_service.s]
}

resource "google_bigquery_dataset" "d" {
  project                    = google_project.p.project_id
  dataset_id                 = "curated"
  location                   = "EU"
  delete_contents_on_destroy = true
  depends_on                 = [google_project_service.s]
}

resource "google_bigquery_dataset_access" "writer" {
  project       = google_project.p.project_id
  dataset_id    = google_bigquery_dataset.d.dataset_id
  role          = "WRITER"
  user_by_email = google_service_account.a["quality-scan"].email
}
