# Smallest useful data source: landing and archive buckets, the processing identity and a
# landing dataset, all with Google-managed encryption.

provider "google" {
  project = "acme-dev-landing"
  region  = "europe-west1"
}

module "datasource" {
  source = "../.."
  name   = "sales"
  projects = {
    landing       = "acme-dev-landing"
    processing    = "acme-dev-processing"
    curated       = "acme-dev-curated"
    exposure      = "acme-dev-exposure"
    orchestration = "acme-dev-orchestration"
  }
  location = "EU"
  buckets = {
    landing = { name = "acme-dev-sales-landing" }
    archive = { name = "acme-dev-sales-archive", storage_class = "COLDLINE" }
  }
  internal_identity = { account_id = "sales-processing" }
  datasets = {
    landing = { dataset_id = "sales_landing" }
  }
}

output "buckets" {
  description = "Bucket names by role."
  value       = module.datasource.buckets
}

output "datasets" {
  description = "Datasets by layer."
  value       = module.datasource.datasets
}

output "service_accounts" {
  description = "Internal and external identities."
  value       = module.datasource.service_accounts
}
