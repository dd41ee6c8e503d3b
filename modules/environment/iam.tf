# Task service accounts (load, transformation, orchestration), who may impersonate them, and
# per-persona project roles by layer, each taken from an input. All grants are additive
# (google_*_iam_member) and never primitive roles.

locals {
  # Every grant below comes from an input: the module holds no default access, so the
  # caller (df-gen's model) states the whole access picture.
  persona_grants = merge(flatten([
    for persona, layers in var.persona_roles : [
      for layer, roles in layers : {
        for pair in setproduct(roles, lookup(var.principals, persona, [])) :
        "${persona}/${layer}/${pair[0]}/${pair[1]}" => { layer = layer, role = pair[0], member = pair[1] }
      }
    ]
  ])...)

  task_project_grants = merge(flatten([
    for task, sa in var.service_accounts : [
      for layer, roles in sa.roles : {
        for role in roles : "${task}/${layer}/${role}" => { task = task, layer = layer, role = role }
      }
    ]
  ])...)

  # Who may act as each task account: token creation only (serviceAccountUser, which lets
  # a principal attach the account to new resources, is not needed to impersonate it).
  # "composer" stands for the module's Composer account, whose email is known after apply.
  impersonation_grants = merge([
    for task, members in var.impersonators : {
      for m in members : "${task}/roles/iam.serviceAccountTokenCreator/${m}" => {
        task   = task
        role   = "roles/iam.serviceAccountTokenCreator"
        member = m == "composer" ? google_service_account.composer.member : m
      }
    }
  ]...)
}

resource "google_service_account" "tasks" {
  for_each     = var.service_accounts
  project      = local.project_ids[each.value.project]
  account_id   = each.value.account_id
  display_name = "Data Foundation ${each.key} tasks"
  depends_on   = [google_project_service.this]
}

resource "google_project_iam_member" "tasks" {
  # iamdoc: roles = var.service_accounts[*].roles
  # iamdoc: who = "each task account"
  # iamdoc: on = "the layer projects named per task"
  for_each = local.task_project_grants
  project  = local.project_ids[each.value.layer]
  role     = each.value.role
  member   = google_service_account.tasks[each.value.task].member
}

resource "google_service_account_iam_member" "impersonation" {
  # iamdoc: who = "each task's impersonators (\"composer\": Composer's service account)"
  # iamdoc: on = "the task account"
  for_each           = local.impersonation_grants
  service_account_id = google_service_account.tasks[each.value.task].name
  role               = each.value.role
  member             = each.value.member
}

resource "google_project_iam_member" "personas" {
  # iamdoc: roles = var.persona_roles
  # iamdoc: who = "each persona's principals"
  # iamdoc: on = "the layer projects named per persona"
  for_each   = local.persona_grants
  project    = local.project_ids[each.value.layer]
  role       = each.value.role
  member     = each.value.member
  depends_on = [google_project_service.this]
}
