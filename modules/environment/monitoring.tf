# Basic monitoring in the orchestration project: email channels, an alert on failed DAG runs
# and one on the Composer environment reporting unhealthy.

locals {
  monitoring_emails = var.monitoring == null ? {} : var.monitoring.emails
  alert_failed_runs = var.monitoring != null && try(var.monitoring.failed_dag_runs, true)
  alert_health      = var.monitoring != null && try(var.monitoring.composer_health, true)
  channel_ids       = [for c in google_monitoring_notification_channel.email : c.id]
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
