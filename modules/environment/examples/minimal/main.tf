# Minimal environment: five new projects, a local VPC with one subnet, Cloud Composer 3 and
# the three task service accounts.

provider "google" {
  project = "df-demo-orch"
  region  = "europe-west1"
}

# Only for google_project_service_identity (the primary service agents), which GA lacks.
provider "google-beta" {
  project = "df-demo-orch"
  region  = "europe-west1"
}

module "environment" {
  source          = "../.."
  parent          = "folders/123456789012"
  billing_account = "012345-6789AB-CDEF01"
  region          = "europe-west1"
  location        = "EU"
  # Lets the example be destroyed; real environments keep the PREVENT default.
  project_deletion_policy = "DELETE"

  projects = {
    landing       = { project_id = "df-demo-landing" }
    processing    = { project_id = "df-demo-processing" }
    curated       = { project_id = "df-demo-curated" }
    exposure      = { project_id = "df-demo-exposure" }
    orchestration = { project_id = "df-demo-orch" }
  }

  network = {
    name = "df-demo-vpc"
    subnets = {
      df-demo-composer = { region = "europe-west1", cidr = "10.10.0.0/24" }
    }
  }

  composer = {
    name               = "df-demo-composer"
    service_account_id = "df-demo-composer"
  }

  service_accounts = {
    load           = { account_id = "df-demo-load", project = "landing" }
    transformation = { account_id = "df-demo-transformation", project = "processing" }
    orchestration  = { account_id = "df-demo-orchestration", project = "orchestration" }
  }
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

output "network" {
  description = "VPC and subnets (self links)."
  value       = module.environment.network
}
