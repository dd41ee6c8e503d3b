# Every option on: an adopted landing project, Shared VPC, CMEK for every service, VPC-SC in
# dry-run mode, a policy-tag taxonomy, data-access logs with a sink, monitoring, shared
# buckets and datasets, personas, impersonation and PyPI packages.

provider "google" {
  project = "df-full-orch"
  region  = "europe-west1"
}

# Only for google_project_service_identity (the primary service agents), which GA lacks.
provider "google-beta" {
  project = "df-full-orch"
  region  = "europe-west1"
}

module "environment" {
  source          = "../.."
  parent          = "organizations/123456789012"
  billing_account = "012345-6789AB-CDEF01"
  region          = "europe-west1"
  # A regional location keeps every CMEK key in the same location as what it protects.
  location                = "europe-west1"
  project_deletion_policy = "DELETE"

  projects = {
    landing    = { project_id = "df-full-landing", create = false }
    processing = { project_id = "df-full-processing" }
    curated    = { project_id = "df-full-curated" }
    exposure   = { project_id = "df-full-exposure" }
    orchestration = {
      project_id = "df-full-orch"
      services   = ["secretmanager.googleapis.com"]
    }
  }

  shared_vpc = {
    host_project = "df-net-host"
    network      = "shared-vpc"
    subnet       = "df-full-composer"
  }

  composer = {
    name               = "df-full-composer"
    service_account_id = "df-full-composer"
    image_version      = "composer-3-airflow-2.10.5"
    environment_size   = "ENVIRONMENT_SIZE_MEDIUM"
    env_variables      = { AIRFLOW_VAR_DF_TEAM = "data-platform" }
    pypi_packages      = { "pandas-gbq" = "" }
  }

  service_accounts = {
    load           = { account_id = "df-full-load", project = "landing", roles = { landing = ["roles/bigquery.jobUser"] } }
    transformation = { account_id = "df-full-transformation", project = "processing", roles = { processing = ["roles/bigquery.jobUser"] } }
    orchestration = {
      account_id = "df-full-orchestration"
      project    = "orchestration"
      roles = {
        orchestration = ["roles/bigquery.jobUser"]
        exposure      = ["roles/bigquery.jobUser"]
      }
    }
  }

  kms = {
    storage  = { key_ring = "df-full-ew1", location = "europe-west1", key_name = "storage" }
    bigquery = { key_ring = "df-full-ew1", location = "europe-west1", key_name = "bigquery" }
    pubsub   = { key_ring = "df-full-ew1", location = "europe-west1", key_name = "pubsub" }
    composer = { key_ring = "df-full-ew1", location = "europe-west1", key_name = "composer", rotation_period = "2592000s" }
  }

  vpc_sc = {
    perimeter_name     = "accessPolicies/123456/servicePerimeters/df_full"
    dry_run            = true
    ingress_identities = ["serviceAccount:terraform@df-seed.iam.gserviceaccount.com"]
  }

  # Pipelines run data-quality scans in curated and DLP inspections from landing (an adopted
  # project) and processing; the DLP agents read the personal columns they inspect.
  pipeline_service_agents = {
    dataplex = ["curated"]
    dlp      = ["landing", "processing"]
  }

  policy_taxonomy = {
    name = "df-full-classification"
    tags = {
      high = {
        description   = "Personal data"
        readers       = ["security", "transformation"]
        agent_readers = ["landing/dlp", "processing/dlp"]
        # Data engineers and analysts see the tagged columns hashed instead of being refused.
        masking = {
          data_policy_id        = "df_full_high_masking"
          predefined_expression = "SHA256"
          masked_readers        = ["data_engineers", "analysts"]
        }
      }
      medium = { description = "Confidential", readers = ["security", "data_engineers", "transformation"] }
      low    = { description = "Internal", readers = ["security", "analysts", "group:auditors@example.com"] }
    }
  }

  logging = {
    audit_services = ["bigquery.googleapis.com", "storage.googleapis.com", "composer.googleapis.com"]
    sink = {
      name          = "df-full-audit"
      shared_bucket = "audit"
    }
  }

  monitoring = {
    emails                    = { oncall = "data-oncall@example.com" }
    dead_letter_subscriptions = ["sales-orders-dead-letter"]
    data_quality_layers       = ["landing", "curated"]
  }

  principals = {
    data_engineers = ["group:data-engineers@example.com"]
    analysts       = ["group:analysts@example.com"]
    security       = ["group:security@example.com"]
  }

  persona_roles = {
    data_engineers = {
      processing    = ["roles/bigquery.dataEditor", "roles/bigquery.jobUser"]
      orchestration = ["roles/composer.user"]
    }
    analysts = { exposure = ["roles/bigquery.dataViewer", "roles/bigquery.jobUser"] }
    security = { orchestration = ["roles/iam.securityReviewer", "roles/bigquery.jobUser"] }
  }

  impersonators = {
    load           = ["composer"]
    transformation = ["composer"]
    orchestration  = ["composer", "group:data-engineers@example.com"]
  }

  shared_buckets = {
    audit = {
      name           = "df-full-audit-logs"
      retention_days = 365
      iam            = { "roles/storage.objectViewer" = ["group:security@example.com"] }
    }
    staging = { name = "df-full-staging", project = "processing" }
  }

  shared_datasets = {
    monitoring = {
      dataset_id                 = "df_full_monitoring"
      description                = "Pipeline run metadata"
      expiration_days            = 90
      delete_contents_on_destroy = true
      iam                        = { "roles/bigquery.dataViewer" = ["group:security@example.com"] }
    }
    reference = { dataset_id = "df_full_reference", project = "curated" }
  }

  labels = { environment = "full", owner = "data-platform" }
}

output "projects" {
  description = "Layer projects."
  value       = module.environment.projects
}

output "composer" {
  description = "Composer environment, DAG bucket and prefix."
  value       = module.environment.composer
}

output "service_accounts" {
  description = "Task service accounts."
  value       = module.environment.service_accounts
}

output "kms_keys" {
  description = "CMEK keys by service."
  value       = module.environment.kms_keys
}

output "service_agents" {
  description = "The provisioned primary service agents by layer."
  value       = module.environment.service_agents
}

output "policy_tags" {
  description = "Policy tags by name."
  value       = module.environment.policy_tags
}

output "network" {
  description = "Network and subnets."
  value       = module.environment.network
}

output "shared_buckets" {
  description = "Shared buckets."
  value       = module.environment.shared_buckets
}

output "shared_datasets" {
  description = "Shared datasets."
  value       = module.environment.shared_datasets
}
