resource "google_data_loss_prevention_inspect_template" "default" {
  count        = var.dlp == null ? 0 : 1
  parent       = local.dlp_parent
  template_id  = var.dlp.template_id
  display_name = coalesce(var.dlp.display_name, "${var.name} inspection")
  description  = coalesce(var.dlp.description, "Sensitive data inspection for pipeline ${var.name}.")

  inspect_config {
    min_likelihood = var.dlp.min_likelihood
    include_quote  = var.dlp.include_quote

    dynamic "info_types" {
      for_each = toset(var.dlp.info_types)
      content {
        name = info_types.value
      }
    }

    limits {
      max_findings_per_item    = var.dlp.max_findings
      max_findings_per_request = var.dlp.max_findings
    }
  }
}

# The template in use: a job trigger per inspected table samples it on a schedule and
# appends its findings to a BigQuery table (created by DLP on the first run).
resource "google_data_loss_prevention_job_trigger" "tables" {
  for_each = var.dlp == null ? toset([]) : toset(var.dlp.tables)
  parent   = local.dlp_parent
  # A renamed table's trigger keeps the ID (and text) it was created with: trigger IDs cannot change.
  trigger_id   = substr("${var.dlp.template_id}-${lookup(var.dlp.trigger_names, each.key, each.key)}", 0, 100)
  display_name = "${var.name} ${lookup(var.dlp.trigger_names, each.key, each.key)} inspection"
  description  = "Samples table ${lookup(var.dlp.trigger_names, each.key, each.key)} of pipeline ${var.name} for sensitive data."

  triggers {
    schedule {
      recurrence_period_duration = var.dlp.recurrence
    }
  }

  inspect_job {
    inspect_template_name = google_data_loss_prevention_inspect_template.default[0].id

    storage_config {
      big_query_options {
        table_reference {
          project_id = google_bigquery_table.tables[each.key].project
          dataset_id = google_bigquery_table.tables[each.key].dataset_id
          table_id   = google_bigquery_table.tables[each.key].table_id
        }
        rows_limit    = var.dlp.rows_limit
        sample_method = "RANDOM_START"
      }
    }

    dynamic "actions" {
      for_each = var.dlp.findings_table == null ? [] : [var.dlp.findings_table]
      content {
        save_findings {
          output_config {
            table {
              project_id = actions.value.project
              dataset_id = actions.value.dataset_id
              table_id   = actions.value.table_id
            }
          }
        }
      }
    }
  }

  lifecycle {
    precondition {
      condition     = contains(keys(var.tables), each.key)
      error_message = "dlp.tables names ${each.key}, which is not a key of tables."
    }
  }

  # A trigger's first job may start at once: the DLP agent's grants come first.
  depends_on = [google_bigquery_table_iam_member.agents]
}

locals {
  dlp_project = var.dlp == null ? null : lookup(local.project_ids, var.dlp.project, var.dlp.project)
  dlp_parent = var.dlp == null ? null : (
    var.dlp.location == null
    ? "projects/${local.dlp_project}"
    : "projects/${local.dlp_project}/locations/${var.dlp.location}"
  )
}
