# Optional VPC Service Controls: each layer project joins an existing perimeter, either in its
# enforced status (google_access_context_manager_service_perimeter_resource) or in its dry-run
# spec (google_access_context_manager_service_perimeter_dry_run_resource). The perimeter
# itself is owned elsewhere (organization level); if it is also managed in Terraform, that
# resource must ignore changes to status[0].resources / spec[0].resources.

locals {
  vpc_sc_enforced = var.vpc_sc != null && !try(var.vpc_sc.dry_run, false) ? local.project_numbers : {}
  vpc_sc_dry_run  = var.vpc_sc != null && try(var.vpc_sc.dry_run, false) ? local.project_numbers : {}
}

resource "google_access_context_manager_service_perimeter_resource" "enforced" {
  for_each       = local.vpc_sc_enforced
  perimeter_name = var.vpc_sc.perimeter_name
  resource       = "projects/${each.value}"
}

resource "google_access_context_manager_service_perimeter_dry_run_resource" "dry_run" {
  for_each       = local.vpc_sc_dry_run
  perimeter_name = var.vpc_sc.perimeter_name
  resource       = "projects/${each.value}"
}
