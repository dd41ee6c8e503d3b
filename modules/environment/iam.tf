# Task service accounts (load, transformation, orchestration), who may impersonate them, and
# per-persona project roles by layer. All grants are additive (google_*_iam_member) and never
# primitive roles.

locals {
  # tomap() so that the defaults have the variable's type, map(map(list(string))).
  default_persona_roles = tomap({
    data_engineers = tomap({
      landing       = ["roles/bigquery.dataViewer", "roles/bigquery.jobUser", "roles/storage.objectViewer"]
      processing    = ["roles/bigquery.dataEditor", "roles/bigquery.jobUser", "roles/storage.objectViewer"]
      curated       = ["roles/bigquery.dataEditor", "roles/bigquery.jobUser"]
      exposure      = ["roles/bigquery.dataEditor", "roles/bigquery.jobUser"]
      orchestration = ["roles/composer.user", "roles/logging.viewer", "roles/monitoring.viewer"]
    })
    analysts = tomap({
      curated  = ["roles/bigquery.dataViewer"]
      exposure = ["roles/bigquery.dataViewer", "roles/bigquery.jobUser"]
    })
    security = tomap({
      landing       = ["roles/iam.securityReviewer"]
      processing    = ["roles/iam.securityReviewer"]
      curated       = ["roles/iam.securityReviewer"]
      exposure      = ["roles/iam.securityReviewer"]
      orchestration = ["roles/iam.securityReviewer", "roles/datacatalog.categoryAdmin", "roles/dlp.reader", "roles/logging.privateLogViewer"]
    })
  })
  persona_roles = var.persona_roles != null ? var.persona_roles : local.default_persona_roles

  persona_grants = merge(flatten([
    for persona, layers in local.persona_roles : [
      for layer, roles in layers : {
        for pair in setproduct(roles, lookup(var.principals, persona, [])) :
        "${persona}/${layer}/${pair[0]}/${pair[1]}" => { layer = layer, role = pair[0], member = pair[1] }
      }
    ]
  ])...)

  # Each task SA gets jobUser in its own project unless its roles say otherwise.
  task_project_grants = merge(flatten([
    for task, sa in var.service_accounts : [
      for layer, roles in(length(sa.roles) > 0 ? sa.roles : { (sa.project) = ["roles/bigquery.jobUser"] }) : {
        for role in roles : "${task}/${layer}/${role}" => { task = task, layer = layer, role = role }
      }
    ]
  ])...)

  # Humans (data engineers) and the Composer service account act as the task accounts. Keys
  # use "composer" for the Composer account: its email is only known after apply.
  impersonators = merge(
    { for m in var.principals.data_engineers : m => m },
    { composer = google_service_account.composer.member },
  )
  impersonation_grants = merge(flatten([
    for task in keys(var.service_accounts) : [
      for role in ["roles/iam.serviceAccountTokenCreator", "roles/iam.serviceAccountUser"] : {
        for key, member in local.impersonators :
        "${task}/${role}/${key}" => { task = task, role = role, member = member }
      }
    ]
  ])...)
}

resource "google_service_account" "tasks" {
  for_each     = var.service_accounts
  project      = local.project_ids[each.value.project]
  account_id   = each.value.account_id
  display_name = "Data Foundation ${each.key} tasks"
  depends_on   = [google_project_service.this]
}

resource "google_project_iam_member" "tasks" {
  for_each = local.task_project_grants
  project  = local.project_ids[each.value.layer]
  role     = each.value.role
  member   = google_service_account.tasks[each.value.task].member
}

resource "google_service_account_iam_member" "impersonation" {
  for_each           = local.impersonation_grants
  service_account_id = google_service_account.tasks[each.value.task].name
  role               = each.value.role
  member             = each.value.member
}

resource "google_project_iam_member" "personas" {
  for_each   = local.persona_grants
  project    = local.project_ids[each.value.layer]
  role       = each.value.role
  member     = each.value.member
  depends_on = [google_project_service.this]
}
