# enable_message_ordering of a subscription is ForceNew in the google provider
# (google/services/pubsub/resource_pubsub_subscription.go): step2 flips it and the plan
# must replace the subscription, not update it in place.
terraform {
  required_providers {
    google = { source = "hashicorp/google" }
  }
}

provider "google" {
  project = "df-conf-ordering"
  region  = "europe-west1"
}

resource "google_pubsub_topic" "events" {
  name = "events"
}

resource "google_pubsub_subscription" "loader" {
  name                    = "events-loader"
  topic                   = google_pubsub_topic.events.id
  ack_deadline_seconds    = 20
  enable_message_ordering = false
}
