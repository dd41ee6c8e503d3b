locals {
  # Layer keys resolve to the layer's project ID; anything else is taken as a project ID.
  project_ids = {
    landing       = var.projects.landing
    processing    = var.projects.processing
    curated       = var.projects.curated
    exposure      = var.projects.exposure
    orchestration = var.projects.orchestration
  }
  labels = merge(var.labels, { df_pipeline = var.name })

  dag_prefix = var.composer == null ? "" : trim(var.composer.dag_prefix, "/")
  # Composer parses .py files; the rest are plain data read by the DAG.
  content_types = {
    py   = "text/x-python"
    sql  = "application/sql"
    json = "application/json"
    csv  = "text/csv"
    yaml = "application/yaml"
    yml  = "application/yaml"
    md   = "text/markdown"
  }

  authorized_views = merge([
    for view, v in var.views : {
      for layer in v.authorized_on : "${view}/${layer}" => { view = view, layer = layer }
    }
  ]...)

  quality_scans = {
    for id, q in var.data_quality : id => merge(q, {
      layer = coalesce(q.layer, try(var.tables[q.table].layer, null), "missing")
    })
  }
}
