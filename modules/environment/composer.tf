# Cloud Composer 3 environment with its own service account. DAGs read the environment's
# project IDs, location and task service accounts from AIRFLOW_VAR_DF_* Airflow Variables.

locals {
  composer_env_variables = merge(var.composer.env_variables, {
    AIRFLOW_VAR_DF_LANDING_PROJECT       = local.project_ids["landing"]
    AIRFLOW_VAR_DF_PROCESSING_PROJECT    = local.project_ids["processing"]
    AIRFLOW_VAR_DF_CURATED_PROJECT       = local.project_ids["curated"]
    AIRFLOW_VAR_DF_EXPOSURE_PROJECT      = local.project_ids["exposure"]
    AIRFLOW_VAR_DF_ORCHESTRATION_PROJECT = local.project_ids["orchestration"]
    AIRFLOW_VAR_DF_REGION                = var.region
    AIRFLOW_VAR_DF_LOCATION              = var.location
    AIRFLOW_VAR_DF_LOAD_SA               = local.task_sa_emails["load"]
    AIRFLOW_VAR_DF_TRANSFORMATION_SA     = local.task_sa_emails["transformation"]
    AIRFLOW_VAR_DF_ORCHESTRATION_SA      = local.task_sa_emails["orchestration"]
  })
  composer_kms_key = try(local.kms_key_ids["composer"], null)
  # gs://BUCKET/dags -> BUCKET and dags.
  composer_dag_prefix = google_composer_environment.this.config[0].dag_gcs_prefix
  composer_dag_bucket = try(regex("^gs://([^/]+)", local.composer_dag_prefix)[0], null)
  composer_dag_folder = try(regex("^gs://[^/]+/(.*)$", local.composer_dag_prefix)[0], "dags")
}

resource "google_service_account" "composer" {
  project      = local.orchestration_project
  account_id   = var.composer.service_account_id
  display_name = "Cloud Composer ${var.composer.name}"
  depends_on   = [google_project_service.this]
}

resource "google_project_iam_member" "composer_worker" {
  # iamdoc: who = "Composer's service account"
  # iamdoc: on = "the orchestration project"
  #checkov:skip=CKV_GCP_49:Google requires roles/composer.worker on the environment's project for the environment's service account; there is no narrower grant.
  project = local.orchestration_project
  role    = "roles/composer.worker"
  member  = google_service_account.composer.member
}

# The Composer service agent binds the environment's service account to its workloads; it
# needs this on that account only (not project-wide).
resource "google_service_account_iam_member" "composer_agent_ext" {
  # iamdoc: who = "the Composer service agent"
  # iamdoc: on = "Composer's service account"
  service_account_id = google_service_account.composer.name
  role               = "roles/composer.ServiceAgentV2Ext"
  member             = local.service_agents["orchestration"].composer
  depends_on         = [google_project_service.this]
}

resource "google_composer_environment" "this" {
  project = local.orchestration_project
  name    = var.composer.name
  region  = var.region
  labels  = local.labels

  config {
    environment_size           = var.composer.environment_size
    enable_private_environment = var.composer.private

    software_config {
      image_version = var.composer.image_version
      env_variables = local.composer_env_variables
      pypi_packages = var.composer.pypi_packages

      cloud_data_lineage_integration {
        enabled = var.composer.lineage
      }
    }

    node_config {
      network         = local.network_id
      subnetwork      = local.composer_subnet_id
      service_account = google_service_account.composer.email
    }

    dynamic "encryption_config" {
      for_each = local.composer_kms_key == null ? [] : [local.composer_kms_key]
      content {
        kms_key_name = encryption_config.value
      }
    }
  }

  lifecycle {
    precondition {
      condition     = (var.network == null) != (var.shared_vpc == null)
      error_message = "Set exactly one of network (local VPC) or shared_vpc."
    }
    precondition {
      condition     = var.network == null || local.composer_subnet_id != null
      error_message = "composer.subnet must name a key of network.subnets, or network.subnets must hold a subnet in var.region."
    }
  }

  depends_on = [
    google_project_service.this,
    google_project_iam_member.composer_worker,
    google_service_account_iam_member.composer_agent_ext,
    google_kms_crypto_key_iam_member.agents,
    google_compute_router_nat.this,
    google_compute_subnetwork_iam_member.shared_vpc,
    google_project_iam_member.shared_vpc_composer_agent,
  ]
}
