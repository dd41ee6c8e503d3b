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

  composer_health_filter = join(" AND ", [
    "resource.type = \"cloud_composer_environment\"",
    "resource.labels.environment_name = \"${var.composer.name}\"",
    "metric.type = \"composer.googleapis.com/environment/healthy\"",
  ])
  # The alert policies, by key (one google_monitoring_alert_policy.alerts each; the moved
  # blocks below carry the addresses they had as one resource each). Every condition is a
  # threshold or an absence condition; a field a policy leaves out is null.
  alert_policies = {
    failed_dag_runs = {
      enabled      = local.alert_failed_runs
      display_name = "Composer ${var.composer.name}: failed DAG runs"
      severity     = "ERROR"
      conditions = [{
        display_name = "Failed DAG runs in ${var.composer.name}"
        absent       = null
        threshold = {
          filter = join(" AND ", [
            "resource.type = \"cloud_composer_workflow\"",
            "resource.labels.environment_name = \"${var.composer.name}\"",
            "metric.type = \"composer.googleapis.com/workflow/run_count\"",
            "metric.labels.state = \"failed\"",
          ])
          comparison       = "COMPARISON_GT"
          threshold_value  = 0
          duration         = "0s"
          alignment_period = try(var.monitoring.alignment_period_failed, null)
          aligner          = "ALIGN_SUM"
          reducer          = "REDUCE_SUM"
          group_by         = ["resource.labels.workflow_name"]
        }
      }]
      documentation = "At least one DAG run failed in Cloud Composer environment ${var.composer.name}. Open the Airflow UI and check the failed task logs."
    }
    composer_health = {
      enabled      = local.alert_health
      display_name = "Composer ${var.composer.name}: environment unhealthy"
      severity     = "CRITICAL"
      conditions = [
        {
          display_name = "${var.composer.name} health check failing"
          absent       = null
          threshold = {
            filter           = local.composer_health_filter
            comparison       = "COMPARISON_LT"
            threshold_value  = 0.9
            duration         = "600s"
            alignment_period = "300s"
            aligner          = "ALIGN_FRACTION_TRUE"
            reducer          = null
            group_by         = null
          }
        },
        # A threshold condition never fires when the metric stops arriving (an environment
        # that is down reports nothing); the absence condition covers that.
        {
          display_name = "${var.composer.name} health metric absent"
          threshold    = null
          absent = {
            filter           = local.composer_health_filter
            duration         = "900s"
            alignment_period = "300s"
            aligner          = "ALIGN_FRACTION_TRUE"
          }
        },
      ]
      documentation = "Cloud Composer environment ${var.composer.name} reports unhealthy, or has stopped reporting its health. Check the environment's monitoring page and its Airflow components."
    }
    # Dead letters: the dead-letter topic's pull subscription keeps what could not be delivered;
    # any message held there is a message the pipeline never processed. num_undelivered_messages
    # is the subscription's backlog, sampled every 60 seconds
    # (https://cloud.google.com/monitoring/api/metrics_gcp#gcp-pubsub).
    dead_letters = {
      enabled      = length(local.dead_letter_subscriptions) > 0
      display_name = "Data Foundation: messages in dead-letter subscriptions"
      severity     = "ERROR"
      conditions = [{
        display_name = "Undelivered messages in a dead-letter subscription"
        absent       = null
        threshold = {
          filter = join(" AND ", [
            "resource.type = \"pubsub_subscription\"",
            "resource.labels.project_id = \"${local.project_ids["landing"]}\"",
            "resource.labels.subscription_id = one_of(${join(", ", [for s in local.dead_letter_subscriptions : "\"${s}\""])})",
            "metric.type = \"pubsub.googleapis.com/subscription/num_undelivered_messages\"",
          ])
          comparison       = "COMPARISON_GT"
          threshold_value  = 0
          duration         = "0s"
          alignment_period = "300s"
          aligner          = "ALIGN_MAX"
          reducer          = "REDUCE_MAX"
          group_by         = ["resource.labels.subscription_id"]
        }
      }]
      documentation = "Pub/Sub moved messages to a dead-letter subscription after the maximum delivery attempts. Pull them from the subscription named in the incident, fix the cause, and republish or acknowledge them."
    }
    # Failed data-quality scans: the log-based metric below, counted in every project where
    # scans run and read across the metrics scope.
    data_quality_failures = {
      enabled      = length(local.data_quality_layers) > 0
      display_name = "Data Foundation: failed data-quality scans"
      severity     = "ERROR"
      conditions = [{
        display_name = "A data-quality scan failed or did not pass"
        absent       = null
        threshold = {
          filter           = "metric.type = \"logging.googleapis.com/user/${local.data_quality_metric}\""
          comparison       = "COMPARISON_GT"
          threshold_value  = 0
          duration         = "0s"
          alignment_period = "300s"
          aligner          = "ALIGN_SUM"
          reducer          = "REDUCE_SUM"
          group_by         = ["metric.labels.datascan_id"]
        }
      }]
      documentation = "A Dataplex data-quality scan job failed, or its rules did not all pass. The scan named in the incident has its rule results in the exported results table and on its Dataplex page."
    }
  }
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


resource "google_monitoring_alert_policy" "alerts" {
  for_each              = { for k, v in local.alert_policies : k => v if v.enabled }
  project               = local.orchestration_project
  display_name          = each.value.display_name
  combiner              = "OR"
  severity              = each.value.severity
  notification_channels = local.channel_ids
  user_labels           = local.labels

  dynamic "conditions" {
    for_each = each.value.conditions
    content {
      display_name = conditions.value.display_name
      dynamic "condition_threshold" {
        for_each = conditions.value.threshold == null ? [] : [conditions.value.threshold]
        iterator = c
        content {
          filter          = c.value.filter
          comparison      = c.value.comparison
          threshold_value = c.value.threshold_value
          duration        = c.value.duration
          aggregations {
            alignment_period     = c.value.alignment_period
            per_series_aligner   = c.value.aligner
            cross_series_reducer = c.value.reducer
            group_by_fields      = c.value.group_by
          }
          trigger {
            count = 1
          }
        }
      }
      dynamic "condition_absent" {
        for_each = conditions.value.absent == null ? [] : [conditions.value.absent]
        iterator = c
        content {
          filter   = c.value.filter
          duration = c.value.duration
          aggregations {
            alignment_period   = c.value.alignment_period
            per_series_aligner = c.value.aligner
          }
          trigger {
            count = 1
          }
        }
      }
    }
  }

  alert_strategy {
    auto_close = var.monitoring.auto_close
  }

  documentation {
    content   = each.value.documentation
    mime_type = "text/markdown"
  }

  # Composer's metrics exist once the environment does; Monitoring refuses a policy on a
  # log-based metric that does not exist yet; the layer projects' metrics are read through
  # the metrics scope. One list for all policies, as one resource has one depends_on.
  depends_on = [
    google_composer_environment.this,
    google_logging_metric.data_quality_failures,
    google_monitoring_monitored_project.layers,
  ]
}

# Each policy was a resource of its own (count 0 or 1) before they became one map.
moved {
  from = google_monitoring_alert_policy.failed_dag_runs[0]
  to   = google_monitoring_alert_policy.alerts["failed_dag_runs"]
}

moved {
  from = google_monitoring_alert_policy.composer_health[0]
  to   = google_monitoring_alert_policy.alerts["composer_health"]
}

moved {
  from = google_monitoring_alert_policy.dead_letters[0]
  to   = google_monitoring_alert_policy.alerts["dead_letters"]
}

moved {
  from = google_monitoring_alert_policy.data_quality_failures[0]
  to   = google_monitoring_alert_policy.alerts["data_quality_failures"]
}

# Failed data-quality scans: a counter of the failure events in every project where scans
# run, read across the metrics scope by the data_quality_failures policy.
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
