resource "google_pubsub_topic" "default" {
  for_each                   = local.topics
  project                    = var.projects.landing
  name                       = each.value.name
  kms_key_name               = var.kms_keys.pubsub
  message_retention_duration = each.value.message_retention_duration
  labels                     = local.labels

  # Messages are stored only in these regions (data residency); null leaves it to Google.
  dynamic "message_storage_policy" {
    for_each = var.message_storage_regions == null ? [] : [var.message_storage_regions]
    content {
      allowed_persistence_regions = message_storage_policy.value
    }
  }
}

resource "google_pubsub_topic" "dead_letter" {
  for_each                   = local.dead_letter_topics
  project                    = var.projects.landing
  name                       = each.value.dead_letter_name
  kms_key_name               = var.kms_keys.pubsub
  message_retention_duration = each.value.message_retention_duration
  labels                     = merge(local.labels, { df_dead_letter_for = each.key })

  # Messages are stored only in these regions (data residency); null leaves it to Google.
  dynamic "message_storage_policy" {
    for_each = var.message_storage_regions == null ? [] : [var.message_storage_regions]
    content {
      allowed_persistence_regions = message_storage_policy.value
    }
  }

  lifecycle {
    precondition {
      condition     = var.pubsub_service_agent != null
      error_message = "Topic ${each.key} has dead_letter: set pubsub_service_agent so the service agent can forward undeliverable messages."
    }
  }
}

# Messages published to a topic without subscriptions are dropped: keep dead letters readable.
resource "google_pubsub_subscription" "dead_letter" {
  for_each                   = local.dead_letter_topics
  project                    = var.projects.landing
  name                       = each.value.dead_letter_name
  topic                      = google_pubsub_topic.dead_letter[each.key].id
  ack_deadline_seconds       = 60
  message_retention_duration = each.value.message_retention_duration
  labels                     = merge(local.labels, { df_dead_letter_for = each.key })

  expiration_policy {
    ttl = ""
  }
}

resource "google_pubsub_subscription" "default" {
  for_each                   = local.subscriptions
  project                    = var.projects.landing
  name                       = each.key
  topic                      = google_pubsub_topic.default[each.value.topic].id
  ack_deadline_seconds       = each.value.ack_deadline_seconds
  message_retention_duration = each.value.message_retention_duration
  retain_acked_messages      = each.value.retain_acked_messages
  filter                     = each.value.filter
  enable_message_ordering    = each.value.enable_message_ordering
  labels                     = local.labels

  # An empty ttl keeps an idle subscription from expiring after 31 days.
  expiration_policy {
    ttl = ""
  }

  dynamic "dead_letter_policy" {
    for_each = local.topics[each.value.topic].dead_letter ? [each.value.topic] : []
    content {
      dead_letter_topic     = google_pubsub_topic.dead_letter[dead_letter_policy.value].id
      max_delivery_attempts = local.topics[dead_letter_policy.value].max_delivery_attempts
    }
  }

  retry_policy {
    minimum_backoff = "10s"
    maximum_backoff = "600s"
  }
}

# Dead lettering needs the Pub/Sub service agent to publish to the dead-letter topic and to
# acknowledge (subscribe) the messages it forwards from the source subscription.
resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  # iamdoc: who = "the Pub/Sub service agent (pubsub_service_agent)"
  # iamdoc: on = "each dead-letter topic"
  for_each = local.dead_letter_topics
  project  = var.projects.landing
  topic    = google_pubsub_topic.dead_letter[each.key].name
  role     = "roles/pubsub.publisher"
  member   = "serviceAccount:${coalesce(var.pubsub_service_agent, "unset")}"
}

resource "google_pubsub_subscription_iam_member" "dead_letter_subscriber" {
  # iamdoc: who = "the Pub/Sub service agent (pubsub_service_agent)"
  # iamdoc: on = "each subscription of a dead-lettered topic"
  for_each     = { for name, s in local.subscriptions : name => s if local.topics[s.topic].dead_letter }
  project      = var.projects.landing
  subscription = google_pubsub_subscription.default[each.key].name
  role         = "roles/pubsub.subscriber"
  member       = "serviceAccount:${coalesce(var.pubsub_service_agent, "unset")}"
}
