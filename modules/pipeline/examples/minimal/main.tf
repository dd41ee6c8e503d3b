# Smallest useful pipeline: one landing table and its DAG uploaded to Composer.

provider "google" {
  project = "acme-dev-processing"
  region  = "europe-west1"
}

module "pipeline" {
  source = "../.."
  name   = "sales-daily"
  projects = {
    landing       = "acme-dev-landing"
    processing    = "acme-dev-processing"
    curated       = "acme-dev-curated"
    exposure      = "acme-dev-exposure"
    orchestration = "acme-dev-orchestration"
  }
  datasets = {
    landing = { project = "acme-dev-landing", dataset_id = "sales_landing" }
  }
  tables = {
    orders = {
      layer  = "landing"
      schema = file("${path.module}/schemas/orders.json")
      # Off only so that the example can be destroyed; keep the default (true) for real data.
      deletion_protection = false
    }
  }
  composer = {
    dag_bucket = "europe-west1-acme-dev-compo-1a2b3c4d-bucket"
  }
  files = {
    "sales_daily.py" = "${path.module}/dags/sales_daily.py"
  }
}

output "tables" {
  description = "Table IDs."
  value       = module.pipeline.tables
}

output "dag_objects" {
  description = "Uploaded DAG objects."
  value       = module.pipeline.dag_objects
}
