# Layer projects: created under the parent with billing, or adopted. Adopted projects only ever
# receive additive grants (google_project_iam_member), never authoritative policies.

locals {
  parent = coalesce(var.parent, "-")
}

resource "google_project" "this" {
  #checkov:skip=CKV2_GCP_5:audit logs are configured per service through var.logging.audit_services (allServices is accepted); data-access logs for every service is a cost decision left to the caller.
  for_each        = local.created_projects
  name            = each.value.project_id
  project_id      = each.value.project_id
  folder_id       = startswith(local.parent, "folders/") ? trimprefix(local.parent, "folders/") : null
  org_id          = startswith(local.parent, "organizations/") ? trimprefix(local.parent, "organizations/") : null
  billing_account = var.billing_account
  labels          = merge(local.labels, each.value.labels, { layer = each.key })
  deletion_policy = var.project_deletion_policy
  # The default network has permissive firewall rules; the module builds its own VPC. To
  # delete it the provider enables the Compute Engine API, which creates the default compute
  # service account (deprivileged below).
  auto_create_network = false

  lifecycle {
    precondition {
      condition     = var.parent != null && var.billing_account != null
      error_message = "parent and billing_account are required to create project ${each.value.project_id}."
    }
  }
}

# Adopted projects: the number is needed to name their service agents and for VPC-SC.
data "google_project" "adopted" {
  for_each   = local.adopted_projects
  project_id = each.value.project_id
}

resource "google_project_service" "this" {
  for_each           = local.project_services
  project            = local.project_ids[each.value.layer]
  service            = each.value.service
  disable_on_destroy = false
  depends_on         = [google_project.this]
}

# The default compute service account that the Compute Engine API creates gets Editor unless
# the organization enforces iam.automaticIamGrantsForDefaultServiceAccounts; nothing here
# runs as it, so its Editor grant is removed (provider doc
# website/docs/r/project_default_service_accounts.html.markdown). Created projects only:
# adopted projects' accounts are their owners'. restore_policy NONE keeps it deprivileged
# when the stack is destroyed.
resource "google_project_default_service_accounts" "this" {
  for_each       = local.created_projects
  project        = google_project.this[each.key].project_id
  action         = "DEPRIVILEGE"
  restore_policy = "NONE"
  depends_on     = [google_project_service.this]
}
