# Step 2: the same configuration with message ordering switched on.
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
  enable_message_ordering = true
}
