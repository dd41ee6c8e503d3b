# Data Catalog policy-tag taxonomy for column-level security in BigQuery. Readers of a tag may
# be persona names (expanded to the persona's members), task names (the task's service
# account: BigQuery checks fine-grained read on the columns a MERGE, UPDATE or DELETE scans,
# https://cloud.google.com/bigquery/docs/column-level-security-writes) or IAM members.
# A tag with masking also gets a data masking policy: its masked readers see the tagged
# columns masked by the tag's rule instead of being refused
# (https://cloud.google.com/bigquery/docs/column-data-masking-intro).

locals {
  taxonomy_tags = var.policy_taxonomy == null ? {} : var.policy_taxonomy.tags
  # Taxonomies are regional; EU and US data take the multi-region taxonomies "eu" and "us".
  taxonomy_location = lower(var.location)
  masked_tags       = { for tag, t in local.taxonomy_tags : tag => t.masking if t.masking != null }
  masked_readers = merge([
    for tag, m in local.masked_tags : {
      for member in distinct(flatten([
        for r in m.masked_readers : contains(["data_engineers", "analysts", "security"], r) ? lookup(var.principals, r, []) : [r]
      ])) : "${tag}/${member}" => { tag = tag, member = member }
    }
  ]...)
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
      # Service agents that read tagged columns (a DLP inspection reads every column, a
      # data-quality scan its rules' columns); keyed by "layer/agent", provisioned in agents.tf.
      {
        for a in distinct(t.agent_readers) : "${tag}/${a}" => {
          tag = tag, member = google_project_service_identity.this[a].member
        }
      },
    )
  ]...)
}

resource "google_data_catalog_taxonomy" "this" {
  count                  = var.policy_taxonomy == null ? 0 : 1
  project                = local.orchestration_project
  region                 = local.taxonomy_location
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
  # iamdoc: who = "each tag's readers: a persona's principals, a task account, a member, or a pipeline service agent"
  # iamdoc: on = "the policy tag"
  for_each   = local.policy_tag_readers
  policy_tag = google_data_catalog_policy_tag.this[each.value.tag].name
  role       = "roles/datacatalog.categoryFineGrainedReader"
  member     = each.value.member
}

# One data masking policy per masked tag, in the taxonomy's project and location: a data
# policy applies to the columns of its policy tag, which only tables in that location carry.
resource "google_bigquery_datapolicy_data_policy" "masking" {
  for_each         = local.masked_tags
  project          = local.orchestration_project
  location         = local.taxonomy_location
  data_policy_id   = each.value.data_policy_id
  policy_tag       = google_data_catalog_policy_tag.this[each.key].name
  data_policy_type = "DATA_MASKING_POLICY"
  data_masking_policy {
    predefined_expression = each.value.predefined_expression
  }
  depends_on = [google_project_service.this]
}

# Masked Reader on the data policy itself, not the project: Google's advice, since a
# project-level grant covers every data policy of the project
# (https://cloud.google.com/bigquery/docs/column-data-masking).
resource "google_bigquery_datapolicy_data_policy_iam_member" "masked_readers" {
  # iamdoc: who = "each masked tag's masked_readers: a persona's principals or a member"
  # iamdoc: on = "the tag's data masking policy"
  for_each       = local.masked_readers
  project        = google_bigquery_datapolicy_data_policy.masking[each.value.tag].project
  location       = google_bigquery_datapolicy_data_policy.masking[each.value.tag].location
  data_policy_id = google_bigquery_datapolicy_data_policy.masking[each.value.tag].data_policy_id
  role           = "roles/bigquerydatapolicy.maskedReader"
  member         = each.value.member
}
