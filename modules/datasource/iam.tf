# Least privilege, scoped to this source's own buckets, topics, subscriptions and datasets.
# Every grant is additive (iam_member), so nothing granted elsewhere is removed. Grants are
# keyed by a stable identity name (not the email, which is unknown until the account
# exists) so that for_each keys are known at plan time.

locals {
  identities = merge(
    { internal = local.internal_member },
    { for key, member in local.external_members : "external:${key}" => member },
    { for task, member in local.task_members : "task:${task}" => member },
  )
  external_keys = [for key in keys(var.external_identities) : "external:${key}"]

  bucket_grants = [
    # Writers can only add objects: no read, overwrite or delete.
    { bucket = "landing", role = "roles/storage.objectCreator", who = local.external_keys },
    { bucket = "landing", role = "roles/storage.objectAdmin", who = ["internal"] },
    # The load task moves processed files to the archive: it reads and deletes landing objects.
    { bucket = "landing", role = "roles/storage.objectUser", who = ["task:load"] },
    { bucket = "archive", role = "roles/storage.objectCreator", who = ["internal"] },
    { bucket = "archive", role = "roles/storage.objectAdmin", who = ["task:load"] },
    { bucket = "archive", role = "roles/storage.objectViewer", who = ["task:transformation"] },
  ]
  bucket_iam = merge([
    for g in local.bucket_grants : {
      for who in g.who : "${g.bucket}/${g.role}/${who}" => {
        bucket = g.bucket
        role   = g.role
        member = local.identities[who]
      } if contains(keys(local.identities), who) && contains(keys(local.buckets), g.bucket)
    }
  ]...)

  dataset_grants = [
    { layer = "landing", role = "roles/bigquery.dataEditor", who = ["internal", "task:load"] },
    { layer = "landing", role = "roles/bigquery.dataViewer", who = ["task:transformation"] },
    { layer = "processing", role = "roles/bigquery.dataEditor", who = ["internal", "task:transformation"] },
    { layer = "curated", role = "roles/bigquery.dataEditor", who = ["task:transformation"] },
    { layer = "exposure", role = "roles/bigquery.dataEditor", who = ["task:transformation"] },
  ]
  dataset_iam = merge(
    merge([
      for g in local.dataset_grants : {
        for who in g.who : "${g.layer}/${g.role}/${who}" => {
          layer  = g.layer
          role   = g.role
          member = local.identities[who]
        } if contains(keys(local.identities), who) && contains(keys(var.datasets), g.layer)
      }
    ]...),
    # The caller's own grants, keyed by the (literal) member.
    merge(flatten([
      for layer, d in var.datasets : [
        for role, members in d.iam : {
          for m in members : "${layer}/${role}/${m}" => { layer = layer, role = role, member = m }
        }
      ]
    ])...),
  )

  topic_publishers = merge([
    for topic in keys(local.topics) : {
      for who in local.external_keys : "${topic}/${who}" => {
        topic  = topic
        member = local.identities[who]
      }
    }
  ]...)
  subscription_subscribers = merge([
    for name, s in local.subscriptions : merge(
      { "${name}/internal" = { subscription = name, member = local.internal_member } },
      { for m in s.subscribers : "${name}/${m}" => { subscription = name, member = m } },
    )
  ]...)
}

resource "google_storage_bucket_iam_member" "default" {
  # iamdoc: on = "the {bucket} bucket"
  for_each = local.bucket_iam
  bucket   = google_storage_bucket.default[each.value.bucket].name
  role     = each.value.role
  member   = each.value.member
}

resource "google_bigquery_dataset_iam_member" "default" {
  # iamdoc: roles = var.datasets[*].iam
  # iamdoc: who = "the members listed per role"
  # iamdoc: on = "the {layer} dataset"
  for_each   = local.dataset_iam
  project    = google_bigquery_dataset.default[each.value.layer].project
  dataset_id = google_bigquery_dataset.default[each.value.layer].dataset_id
  role       = each.value.role
  member     = each.value.member
}

# The service agents that act for this source's pipelines write to its datasets: Dataplex
# exports scan results ("BigQuery Data Editor (roles/bigquery.dataEditor) ... on the results
# dataset", https://cloud.google.com/dataplex/docs/use-auto-data-quality) and DLP saves
# findings (its agent holds only "common permissions on the project",
# https://cloud.google.com/sensitive-data-protection/docs/access-control/service-accounts).
# The pipelines share the datasets, so the grants are the source's, each entry once, whatever
# pipelines come and go. An IAM member, not a google_bigquery_dataset_access: its create merges
# into the dataset's access list and accepts an entry that is there already
# (resourceIamMemberCreate, google/tpgiamresource/resource_iam_member.go), such as the one a
# pipeline stack of an earlier df-gen made (modules/pipeline/agents.tf releases it), where
# the access resource refuses it (resourceBigQueryDatasetAccessPatchCreateEncoder,
# google/services/bigquery/resource_bigquery_dataset_access.go). google_bigquery_dataset sets
# no access block here, and its update sends access only when the configuration changes it
# (resourceBigQueryDatasetUpdateEncoder, google/services/bigquery/resource_bigquery_dataset.go),
# so the dataset never rewrites these entries.
resource "google_bigquery_dataset_iam_member" "agents" {
  # iamdoc: roles = var.service_agent_grants[*].role
  # iamdoc: who = "service agents (service_agent_grants)"
  # iamdoc: on = "the dataset each grant names"
  for_each   = var.service_agent_grants
  project    = google_bigquery_dataset.default[each.value.dataset].project
  dataset_id = google_bigquery_dataset.default[each.value.dataset].dataset_id
  role       = each.value.role
  member     = each.value.member
}

resource "google_pubsub_topic_iam_member" "publisher" {
  # iamdoc: who = "the external writers"
  # iamdoc: on = "each topic"
  for_each = local.topic_publishers
  project  = var.projects.landing
  topic    = google_pubsub_topic.default[each.value.topic].name
  role     = "roles/pubsub.publisher"
  member   = each.value.member
}

resource "google_pubsub_subscription_iam_member" "subscriber" {
  # iamdoc: who = "the internal identity and each subscription's subscribers"
  # iamdoc: on = "the subscription"
  for_each     = local.subscription_subscribers
  project      = var.projects.landing
  subscription = google_pubsub_subscription.default[each.value.subscription].name
  role         = "roles/pubsub.subscriber"
  member       = each.value.member
}
