# Data Catalog policy-tag taxonomy for column-level security in BigQuery. Readers of a tag may
# be persona names (expanded to the persona's members), task names (the task's service
# account: BigQuery checks fine-grained read on the columns a MERGE, UPDATE or DELETE scans,
# https://cloud.google.com/bigquery/docs/column-level-security-writes) or IAM members.

locals {
  taxonomy_tags = var.policy_taxonomy == null ? {} : var.policy_taxonomy.tags
  # Keyed by tag and member; a task reader is keyed by its task name, because its account's
  # email is only known after apply and for_each keys must be known at plan.
  policy_tag_readers = merge([
    for tag, t in local.taxonomy_tags : merge(
      {
        for member in distinct(flatten([
          for r in t.readers : contains(["data_engineers", "analysts", "security"], r) ? lookup(var.principals, r, []) : contains(keys(var.service_accounts), r) ? [] : [r]
        ])) : "${tag}/${member}" => { tag = tag, member = member }
      },
      {
        for task in distinct(t.readers) : "${tag}/${task}" => {
          tag = tag, member = google_service_account.tasks[task].member
        } if contains(keys(var.service_accounts), task)
      },
    )
  ]...)
}

resource "google_data_catalog_taxonomy" "this" {
  count                  = var.policy_taxonomy == null ? 0 : 1
  project                = local.orchestration_project
  region                 = lower(var.location)
  display_name           = var.policy_taxonomy.name
  description            = var.policy_taxonomy.description
  activated_policy_types = ["FINE_GRAINED_ACCESS_CONTROL"]
  depends_on             = [google_project_service.this]
}

resource "google_data_catalog_policy_tag" "this" {
  for_each     = local.taxonomy_tags
  taxonomy     = google_data_catalog_taxonomy.this[0].id
  display_name = each.key
  description  = each.value.description
}

resource "google_data_catalog_policy_tag_iam_member" "readers" {
  # iamdoc: who = "each tag's readers: a persona's principals, a task account, or a member"
  # iamdoc: on = "the policy tag"
  for_each   = local.policy_tag_readers
  policy_tag = google_data_catalog_policy_tag.this[each.value.tag].name
  role       = "roles/datacatalog.categoryFineGrainedReader"
  member     = each.value.member
}
