resource "google_dataplex_datascan" "default" {
  for_each     = local.quality_scans
  project      = lookup(local.project_ids, coalesce(each.value.project, each.value.layer), coalesce(each.value.project, each.value.layer))
  location     = each.value.location
  data_scan_id = each.key
  display_name = "${var.name} ${each.value.table} quality"
  description  = "Data-quality checks of table ${each.value.table} (pipeline ${var.name})."
  labels       = local.labels

  data {
    resource = "//bigquery.googleapis.com/projects/${var.datasets[each.value.layer].project}/datasets/${var.datasets[each.value.layer].dataset_id}/tables/${each.value.table}"
  }

  execution_spec {
    trigger {
      dynamic "on_demand" {
        for_each = each.value.schedule == null ? [1] : []
        content {}
      }
      dynamic "schedule" {
        for_each = each.value.schedule == null ? [] : [each.value.schedule]
        content {
          cron = schedule.value
        }
      }
    }
  }

  data_quality_spec {
    sampling_percent = 100
    row_filter       = each.value.row_filter

    dynamic "rules" {
      for_each = toset(each.value.not_null)
      content {
        column      = rules.value
        dimension   = "COMPLETENESS"
        threshold   = each.value.threshold
        description = "${rules.value} is never null."
        non_null_expectation {}
      }
    }

    dynamic "rules" {
      for_each = toset(each.value.unique)
      content {
        column      = rules.value
        dimension   = "UNIQUENESS"
        description = "${rules.value} is unique."
        uniqueness_expectation {}
      }
    }

    dynamic "rules" {
      for_each = each.value.min_rows == null ? [] : [each.value.min_rows]
      content {
        dimension   = "VOLUME"
        description = "The table holds at least ${rules.value} rows."
        table_condition_expectation {
          sql_expression = "COUNT(*) >= ${rules.value}"
        }
      }
    }

    post_scan_actions {
      # Every job's rule results, appended to one BigQuery table (created by Dataplex).
      dynamic "bigquery_export" {
        for_each = var.data_quality_results_table == null ? [] : [var.data_quality_results_table]
        content {
          results_table = "//bigquery.googleapis.com/${bigquery_export.value}"
        }
      }
      # E-mail when a job fails or a rule does not pass (a score below 100).
      dynamic "notification_report" {
        for_each = length(var.data_quality_notify) == 0 ? [] : [var.data_quality_notify]
        content {
          recipients {
            emails = notification_report.value
          }
          score_threshold_trigger {
            score_threshold = 100
          }
          job_failure_trigger {}
        }
      }
    }
  }

  lifecycle {
    precondition {
      condition     = contains(keys(var.datasets), each.value.layer)
      error_message = "Data-quality scan ${each.key}: table ${each.value.table} needs a layer that has an entry in datasets (set layer, or name a key of tables)."
    }
  }

  # The scanned table must exist before a scan can be defined on it, and Dataplex's agent
  # must hold its grants before a job exports results.
  depends_on = [
    google_bigquery_table.tables,
    google_bigquery_table_iam_member.agents,
  ]
}

# Who runs the scans (the DAG's task account): start a job and read its results, on each
# scan only.
resource "google_dataplex_datascan_iam_member" "runners" {
  # iamdoc: who = "data_quality_runners"
  # iamdoc: on = "each data-quality scan"
  for_each = merge([
    for id, s in google_dataplex_datascan.default : {
      for pair in setproduct(["roles/dataplex.dataScanEditor", "roles/dataplex.dataScanDataViewer"], var.data_quality_runners) :
      "${id}/${pair[0]}/${pair[1]}" => { scan = id, role = pair[0], member = pair[1] }
    }
  ]...)
  project      = google_dataplex_datascan.default[each.value.scan].project
  location     = google_dataplex_datascan.default[each.value.scan].location
  data_scan_id = google_dataplex_datascan.default[each.value.scan].data_scan_id
  role         = each.value.role
  member       = each.value.member
}
