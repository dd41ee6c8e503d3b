output "buckets" {
  description = "Bucket names keyed by role (landing, archive), available once their IAM is in place."
  value       = { for role, b in google_storage_bucket.default : role => b.name }
  depends_on  = [google_storage_bucket_iam_member.default]
}

output "bucket_urls" {
  description = "gs:// URLs of the buckets keyed by role."
  value       = { for role, b in google_storage_bucket.default : role => b.url }
}

output "datasets" {
  description = "Datasets keyed by layer: { project, dataset_id }, available once their IAM is in place."
  value = {
    for layer, d in google_bigquery_dataset.default : layer => {
      project    = d.project
      dataset_id = d.dataset_id
    }
  }
  depends_on = [google_bigquery_dataset_iam_member.default, google_bigquery_dataset_iam_member.agents]
}

output "service_accounts" {
  description = "Emails: internal (processing) account and external writers keyed by name (for an existing member, the part after the type prefix)."
  value = {
    internal = google_service_account.internal.email
    external = {
      for key, e in var.external_identities : key => (
        e.member != null ? split(":", e.member)[1] : google_service_account.external[key].email
      )
    }
  }
}

output "iam_members" {
  description = "IAM members: internal and external writers keyed by name (serviceAccount:... form)."
  value = {
    internal = local.internal_member
    external = local.external_members
  }
}

output "topics" {
  description = "Topics keyed by topic key: { id, name, dead_letter_topic, subscriptions (name -> id) }."
  value = {
    for key, t in google_pubsub_topic.default : key => {
      id                = t.id
      name              = t.name
      dead_letter_topic = try(google_pubsub_topic.dead_letter[key].id, null)
      subscriptions = {
        for name, s in google_pubsub_subscription.default : name => s.id
        if local.subscriptions[name].topic == key
      }
    }
  }
  depends_on = [
    google_pubsub_topic_iam_member.publisher,
    google_pubsub_subscription_iam_member.subscriber,
  ]
}
