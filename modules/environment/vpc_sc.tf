# Optional VPC Service Controls: each layer project joins an existing perimeter, either in its
# enforced status (google_access_context_manager_service_perimeter_resource) or in its dry-run
# spec (google_access_context_manager_service_perimeter_dry_run_resource), and one ingress
# rule admits the identities that work on the projects from outside it: the Terraform
# automation account (later stacks create tables and upload DAGs), the Composer account and
# external writers. The perimeter itself is owned elsewhere (organization level); if it is
# also managed in Terraform, that resource must ignore changes to its resources and ingress
# policies, and a dry run needs use_explicit_dry_run_spec = true on it (README).

locals {
  vpc_sc_enforced = var.vpc_sc != null && !try(var.vpc_sc.dry_run, false) ? local.project_numbers : {}
  vpc_sc_dry_run  = var.vpc_sc != null && try(var.vpc_sc.dry_run, false) ? local.project_numbers : {}
  vpc_sc_ingress_identities = var.vpc_sc == null ? [] : concat(
    var.vpc_sc.ingress_identities,
    [google_service_account.composer.member],
  )
  vpc_sc_ingress_enforced = var.vpc_sc != null && !try(var.vpc_sc.dry_run, false) ? { ingress = true } : {}
  vpc_sc_ingress_dry_run  = var.vpc_sc != null && try(var.vpc_sc.dry_run, false) ? { ingress = true } : {}
}

# A project joins an enforced perimeter only after everything else of the module exists:
# from then on calls from outside the perimeter (Terraform's own included) are refused
# unless an ingress rule admits them, and the rule is in place first.
resource "google_access_context_manager_service_perimeter_ingress_policy" "this" {
  for_each  = local.vpc_sc_ingress_enforced
  perimeter = var.vpc_sc.perimeter_name
  title     = "df-gen ${var.composer.name}"

  ingress_from {
    identities = local.vpc_sc_ingress_identities
    sources {
      access_level = "*"
    }
  }

  ingress_to {
    resources = [for n in values(local.project_numbers) : "projects/${n}"]
    operations {
      service_name = "*"
    }
  }
}

resource "google_access_context_manager_service_perimeter_dry_run_ingress_policy" "this" {
  for_each  = local.vpc_sc_ingress_dry_run
  perimeter = var.vpc_sc.perimeter_name
  title     = "df-gen ${var.composer.name}"

  ingress_from {
    identities = local.vpc_sc_ingress_identities
    sources {
      access_level = "*"
    }
  }

  ingress_to {
    resources = [for n in values(local.project_numbers) : "projects/${n}"]
    operations {
      service_name = "*"
    }
  }
}

resource "google_access_context_manager_service_perimeter_resource" "enforced" {
  for_each       = local.vpc_sc_enforced
  perimeter_name = var.vpc_sc.perimeter_name
  resource       = "projects/${each.value}"
  # Every other resource of the module (or what reaches it): membership comes last.
  depends_on = [
    google_access_context_manager_service_perimeter_ingress_policy.this,
    google_access_context_manager_service_perimeter_dry_run_ingress_policy.this,
    google_project_service.this,
    google_project_default_service_accounts.this,
    google_service_account_iam_member.impersonation,
    google_project_iam_member.tasks,
    google_project_iam_member.personas,
    google_kms_crypto_key_iam_member.agents,
    google_storage_bucket.shared,
    google_bigquery_dataset.shared,
    google_bigquery_dataset_iam_member.shared,
    google_storage_bucket_iam_member.shared,
    google_data_catalog_policy_tag_iam_member.readers,
    google_bigquery_datapolicy_data_policy_iam_member.masked_readers,
    google_project_iam_audit_config.this,
    google_logging_project_sink.this,
    google_storage_bucket_iam_member.sink_writers,
    google_bigquery_dataset_iam_member.sink_writers,
    google_monitoring_alert_policy.alerts,
    google_composer_environment.this,
    google_compute_router_nat.this,
    google_compute_firewall.allow_internal,
  ]
}

resource "google_access_context_manager_service_perimeter_dry_run_resource" "dry_run" {
  for_each       = local.vpc_sc_dry_run
  perimeter_name = var.vpc_sc.perimeter_name
  resource       = "projects/${each.value}"
  # Every other resource of the module (or what reaches it): membership comes last.
  depends_on = [
    google_access_context_manager_service_perimeter_ingress_policy.this,
    google_access_context_manager_service_perimeter_dry_run_ingress_policy.this,
    google_project_service.this,
    google_project_default_service_accounts.this,
    google_service_account_iam_member.impersonation,
    google_project_iam_member.tasks,
    google_project_iam_member.personas,
    google_kms_crypto_key_iam_member.agents,
    google_storage_bucket.shared,
    google_bigquery_dataset.shared,
    google_bigquery_dataset_iam_member.shared,
    google_storage_bucket_iam_member.shared,
    google_data_catalog_policy_tag_iam_member.readers,
    google_bigquery_datapolicy_data_policy_iam_member.masked_readers,
    google_project_iam_audit_config.this,
    google_logging_project_sink.this,
    google_storage_bucket_iam_member.sink_writers,
    google_bigquery_dataset_iam_member.sink_writers,
    google_monitoring_alert_policy.alerts,
    google_composer_environment.this,
    google_compute_router_nat.this,
    google_compute_firewall.allow_internal,
  ]
}
