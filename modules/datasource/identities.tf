# Service accounts only: no keys are ever created here. Writers authenticate through
# workload identity federation or impersonation configured outside this module.

resource "google_service_account" "internal" {
  project      = lookup(local.project_ids, var.internal_identity.project, var.internal_identity.project)
  account_id   = var.internal_identity.account_id
  display_name = coalesce(var.internal_identity.display_name, "${var.name} processing")
  description  = "Internal processing identity of data source ${var.name}."
}

resource "google_service_account" "external" {
  for_each     = { for key, e in var.external_identities : key => e if e.account_id != null }
  project      = lookup(local.project_ids, each.value.project, each.value.project)
  account_id   = each.value.account_id
  display_name = coalesce(each.value.display_name, "${var.name} writer ${each.key}")
  description  = coalesce(each.value.description, "External writer ${each.key} of data source ${var.name}: may only create objects in the landing bucket and publish to its topics.")
}
