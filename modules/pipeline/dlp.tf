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

locals {
  dlp_project = var.dlp == null ? null : lookup(local.project_ids, var.dlp.project, var.dlp.project)
  dlp_parent = var.dlp == null ? null : (
    var.dlp.location == null
    ? "projects/${local.dlp_project}"
    : "projects/${local.dlp_project}/locations/${var.dlp.location}"
  )
}
