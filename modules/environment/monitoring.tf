# Monitoring in the orchestration project: email channels, alerts on failed DAG runs, on the
# Composer environment reporting unhealthy, on messages held in dead-letter subscriptions and
# on failed data-quality scans. Alert policies and channels live in the orchestration
# project; the layer projects whose metrics they read join its metrics scope.

locals {
  monitoring_emails = var.monitoring == null ? {} : var.monitoring.emails
  alert_failed_runs = var.monitoring != null && try(var.monitoring.failed_dag_runs, true)
  alert_health      = var.monitoring != null && try(var.monitoring.composer_health, true)
  channel_ids       = [for c in google_monitoring_notification_channel.email : c.id]

  dead_letter_subscriptions = var.monitoring == null ? [] : var.monitoring.dead_letter_subscriptions
  data_quality_layers       = var.monitoring == null ? [] : distinct(var.monitoring.data_quality_layers)
  # A metrics scope lets the orchestration project's alert policies read the metrics of
  # other projects (https://cloud.google.com/monitoring/settings/multiple-projects); its own
  # project is always in it.
  monitored_layers = setsubtract(
    toset(concat(length(local.dead_letter_subscriptions) > 0 ? ["landing"] : [], local.data_quality_layers)),
    ["orchestration"],
  )
  # Dataplex writes one DataScanEvent per data scan job to the log
  # dataplex.googleapis.com/data_scan, monitored resource dataplex.googleapis.com/DataScan
  # (https://cloud.google.com/dataplex/docs/logging; the rule results go to another log of the
  # same resource, hence log_id: https://cloud.google.com/logging/docs/view/logging-query-language#functions).
  # The event's type, state and dataQuality.passed are the fields
  # of google.cloud.dataplex.v1.DataScanEvent (googleapis google/cloud/dataplex/v1/logs.proto;
  # https://cloud.google.com/dataplex/docs/reference/rpc/google.cloud.dataplex.v1#datascanevent).
  # A job that ran and whose rules did not all pass is Google's own sample query
  # (https://cloud.google.com/dataplex/docs/use-auto-data-quality#set-alerts-cloud-logging:
  # the data_scan_state label SUCCEEDED and NOT jsonPayload.dataQuality.passed=true); a job that
  # failed to run is the event's state FAILED.
  data_quality_failure_filter = join(" AND ", [
    "resource.type=\"dataplex.googleapis.com/DataScan\"",
    "log_id(\"dataplex.googleapis.com/data_scan\")",
    "jsonPayload.type=\"DATA_QUALITY\"",
    join("", [
      "(jsonPayload.state=\"FAILED\" OR ",
      "(labels.\"dataplex.googleapis.com/data_scan_state\"=\"SUCCEEDED\" AND NOT jsonPayload.dataQuality.passed=true))",
    ]),
  ])
  data_quality_metric = "df-data-quality-failures"
}

resource "google_monitoring_monitored_project" "layers" {
  for_each      = local.monitored_layers
  metrics_scope = local.orchestration_project
  name          = local.project_ids[each.key]
  depends_on    = [google_project_service.this]
}

resource "google_monitoring_notification_channel" "email" {
  for_each     = local.monitoring_emails
  project      = local.orchestration_project
  display_name = "Data Foundation ${each.key}"
  type         = "email"
  labels = {
    email_address = each.value
  }
  depends_on = [google_project_service.this]
}

resource "google_monitoring_alert_policy" "failed_dag_runs" {
  count                 = local.alert_failed_runs ? 1 : 0
  project               = local.orchestration_project
  display_name          = "Composer ${var.composer.name}: failed DAG runs"
  combiner              = "OR"
  severity              = "ERROR"
  notification_channels = local.channel_ids
  user_labels           = local.labels

  conditions {
    display_name = "Failed DAG runs in ${var.composer.name}"
    condition_threshold {
      filter = join(" AND ", [
        "resource.type = \"cloud_composer_workflow\"",
        "resource.labels.environment_name = \"${var.composer.name}\"",
        "metric.type = \"composer.googleapis.com/workflow/run_count\"",
        "metric.labels.state = \"failed\"",
      ])
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"
      aggregations {
        alignment_period     = var.monitoring.alignment_period_failed
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.labels.workflow_name"]
      }
      trigger {
        count = 1
      }
    }
  }

  alert_strategy {
    auto_close = var.monitoring.auto_close
  }

  documentation {
    content   = "At least one DAG run failed in Cloud Composer environment ${var.composer.name}. Open the Airflow UI and check the failed task logs."
    mime_type = "text/markdown"
  }

  depends_on = [google_composer_environment.this]
}

resource "google_monitoring_alert_policy" "composer_health" {
  count                 = local.alert_health ? 1 : 0
  project               = local.orchestration_project
  display_name          = "Composer ${var.composer.name}: environment unhealthy"
  combiner              = "OR"
  severity              = "CRITICAL"
  notification_channels = local.channel_ids
  user_labels           = local.labels

  conditions {
    display_name = "${var.composer.name} health check failing"
    condition_threshold {
      filter = join(" AND ", [
        "resource.type = \"cloud_composer_environment\"",
        "resource.labels.environment_name = \"${var.composer.name}\"",
        "metric.type = \"composer.googleapis.com/environment/healthy\"",
      ])
      comparison      = "COMPARISON_LT"
      threshold_value = 0.9
      duration        = "600s"
      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_FRACTION_TRUE"
      }
      trigger {
        count = 1
      }
    }
  }

  # A threshold condition never fires when the metric stops arriving (an environment that
  # is down reports nothing); the absence condition covers that.
  conditions {
    display_name = "${var.composer.name} health metric absent"
    condition_absent {
      filter = join(" AND ", [
        "resource.type = \"cloud_composer_environment\"",
        "resource.labels.environment_name = \"${var.composer.name}\"",
        "metric.type = \"composer.googleapis.com/environment/healthy\"",
      ])
      duration = "900s"
      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_FRACTION_TRUE"
      }
      trigger {
        count = 1
      }
    }
  }

  alert_strategy {
    auto_close = var.monitoring.auto_close
  }

  documentation {
    content   = "Cloud Composer environment ${var.composer.name} reports unhealthy, or has stopped reporting its health. Check the environment's monitoring page and its Airflow components."
    mime_type = "text/markdown"
  }

  depends_on = [google_composer_environment.this]
}

# Dead letters: the dead-letter topic's pull subscription keeps what could not be delivered;
# any message held there is a message the pipeline never processed. num_undelivered_messages
# is the subscription's backlog, sampled every 60 seconds
# (https://cloud.google.com/monitoring/api/metrics_gcp#gcp-pubsub).
resource "google_monitoring_alert_policy" "dead_letters" {
  count                 = length(local.dead_letter_subscriptions) > 0 ? 1 : 0
  project               = local.orchestration_project
  display_name          = "Data Foundation: messages in dead-letter subscriptions"
  combiner              = "OR"
  severity              = "ERROR"
  notification_channels = local.channel_ids
  user_labels           = local.labels

  conditions {
    display_name = "Undelivered messages in a dead-letter subscription"
    condition_threshold {
      filter = join(" AND ", [
        "resource.type = \"pubsub_subscription\"",
        "resource.labels.project_id = \"${local.project_ids["landing"]}\"",
        "resource.labels.subscription_id = one_of(${join(", ", [for s in local.dead_letter_subscriptions : "\"${s}\""])})",
        "metric.type = \"pubsub.googleapis.com/subscription/num_undelivered_messages\"",
      ])
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"
      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_MAX"
        cross_series_reducer = "REDUCE_MAX"
        group_by_fields      = ["resource.labels.subscription_id"]
      }
      trigger {
        count = 1
      }
    }
  }

  alert_strategy {
    auto_close = var.monitoring.auto_close
  }

  documentation {
    content   = "Pub/Sub moved messages to a dead-letter subscription after the maximum delivery attempts. Pull them from the subscription named in the incident, fix the cause, and republish or acknowledge them."
    mime_type = "text/markdown"
  }

  depends_on = [google_monitoring_monitored_project.layers]
}

# Failed data-quality scans: a counter of the failure events in every project where scans
# run, read across the metrics scope by one policy.
resource "google_logging_metric" "data_quality_failures" {
  for_each    = toset(local.data_quality_layers)
  project     = local.project_ids[each.key]
  name        = local.data_quality_metric
  description = "Dataplex data-quality scan jobs that failed or whose rules did not all pass."
  filter      = local.data_quality_failure_filter

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    unit        = "1"
    labels {
      key         = "datascan_id"
      value_type  = "STRING"
      description = "The data scan whose job failed."
    }
  }
  label_extractors = {
    datascan_id = "EXTRACT(resource.labels.datascan_id)"
  }
  depends_on = [google_project_service.this]
}

resource "google_monitoring_alert_policy" "data_quality_failures" {
  count                 = length(local.data_quality_layers) > 0 ? 1 : 0
  project               = local.orchestration_project
  display_name          = "Data Foundation: failed data-quality scans"
  combiner              = "OR"
  severity              = "ERROR"
  notification_channels = local.channel_ids
  user_labels           = local.labels

  conditions {
    display_name = "A data-quality scan failed or did not pass"
    condition_threshold {
      filter          = "metric.type = \"logging.googleapis.com/user/${local.data_quality_metric}\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"
      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["metric.labels.datascan_id"]
      }
      trigger {
        count = 1
      }
    }
  }

  alert_strategy {
    auto_close = var.monitoring.auto_close
  }

  documentation {
    content   = "A Dataplex data-quality scan job failed, or its rules did not all pass. The scan named in the incident has its rule results in the exported results table and on its Dataplex page."
    mime_type = "text/markdown"
  }

  # Monitoring refuses a policy on a metric type that does not exist yet.
  depends_on = [google_logging_metric.data_quality_failures, google_monitoring_monitored_project.layers]
}
