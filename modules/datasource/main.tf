locals {
  # Layer keys resolve to the layer's project ID; anything else is taken as a project ID.
  project_ids = {
    landing       = var.projects.landing
    processing    = var.projects.processing
    curated       = var.projects.curated
    exposure      = var.projects.exposure
    orchestration = var.projects.orchestration
  }
  labels = merge(var.labels, { df_datasource = var.name })

  buckets = {
    for role, b in var.buckets : role => merge(b, {
      project_id = lookup(local.project_ids, b.project, b.project)
      versioning = coalesce(b.versioning, b.retention_days == null)
    })
  }

  datasets = {
    for layer, d in var.datasets : layer => merge(d, {
      project_id = lookup(local.project_ids, coalesce(d.project, layer), coalesce(d.project, layer))
    })
  }

  topics = {
    for key, t in var.topics : key => merge(t, {
      dead_letter_name = t.dead_letter ? coalesce(t.dead_letter_name, "${t.name}-dead-letter") : null
    })
  }
  subscriptions = merge([
    for key, t in var.topics : {
      for name, s in t.subscriptions : name => merge(s, { topic = key })
    }
  ]...)
  dead_letter_topics = { for key, t in local.topics : key => t if t.dead_letter }

  # IAM members of the identities this source writes or processes with.
  internal_member = "serviceAccount:${google_service_account.internal.email}"
  external_members = {
    for key, e in var.external_identities : key => (
      e.member != null ? e.member : "serviceAccount:${google_service_account.external[key].email}"
    )
  }
  task_members = {
    for task, email in var.task_service_accounts : task => "serviceAccount:${email}" if email != null
  }
}
