# Every option on: CMEK for storage, BigQuery and Pub/Sub, usage logs, lifecycle and
# retention, a topic with subscriptions and dead lettering, created and existing external
# writers, the environment's task service accounts, and datasets in four layers with IAM.

provider "google" {
  project = "acme-dev-landing"
  region  = "europe-west1"
}

locals {
  kms_prefix = "projects/acme-dev-orchestration/locations/europe-west1/keyRings/acme-dev/cryptoKeys"
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
  # A regional location keeps the keys and the data in one place (europe-west1).
  location = "europe-west1"
  kms_keys = {
    storage  = "${local.kms_prefix}/storage"
    bigquery = "${local.kms_prefix}/bigquery"
    pubsub   = "${local.kms_prefix}/pubsub"
  }
  access_log_bucket = "acme-dev-access-logs"
  buckets = {
    landing = {
      name       = "acme-dev-sales-landing"
      versioning = true
      lifecycle = {
        delete_after_days            = 30
        noncurrent_delete_after_days = 7
      }
    }
    archive = {
      name           = "acme-dev-sales-archive"
      project        = "landing"
      storage_class  = "NEARLINE"
      retention_days = 365
      labels         = { cost_center = "sales-archive" }
      lifecycle = {
        archive_after_days = 90
        delete_after_days  = 2555
      }
    }
  }
  topics = {
    orders = {
      name                       = "acme-dev-sales-orders"
      message_retention_duration = "86400s"
      dead_letter                = true
      dead_letter_name           = "acme-dev-sales-orders-dlq"
      max_delivery_attempts      = 10
      subscriptions = {
        acme-dev-sales-orders-load = {
          ack_deadline_seconds = 120
          subscribers          = ["group:sales-support@example.com"]
        }
        acme-dev-sales-orders-audit = {
          filter                  = "attributes.kind = \"audit\""
          retain_acked_messages   = true
          enable_message_ordering = true
        }
      }
    }
  }
  message_storage_regions = ["europe-west1", "europe-west4"]
  pubsub_service_agent    = "service-123456789012@gcp-sa-pubsub.iam.gserviceaccount.com"
  internal_identity = {
    account_id   = "sales-processing"
    display_name = "Sales processing"
  }
  external_identities = {
    erp = {
      account_id  = "sales-erp-writer"
      description = "The ERP's nightly export job"
    }
    partner = {
      member = "serviceAccount:uploader@partner-project.iam.gserviceaccount.com"
    }
  }
  task_service_accounts = {
    load           = "load@acme-dev-orchestration.iam.gserviceaccount.com"
    transformation = "transformation@acme-dev-orchestration.iam.gserviceaccount.com"
    orchestration  = "orchestration@acme-dev-orchestration.iam.gserviceaccount.com"
  }
  datasets = {
    landing    = { dataset_id = "sales_landing", max_time_travel_hours = 48 }
    processing = { dataset_id = "sales_processing", default_table_expiration_ms = 604800000 }
    curated = {
      dataset_id    = "sales_curated"
      friendly_name = "Sales (curated)"
      iam = {
        "roles/bigquery.dataViewer" = ["group:sales-analysts@example.com"]
      }
    }
    exposure = {
      dataset_id  = "sales_exposure"
      project     = "acme-dev-exposure"
      description = "Sales data marts."
      iam = {
        "roles/bigquery.dataViewer" = [
          "group:sales-analysts@example.com",
          "group:finance@example.com",
        ]
      }
    }
  }
  # The agents of the source's pipelines (provisioned by the environment) write scan results
  # and DLP findings to the curated dataset.
  service_agent_grants = {
    "curated/roles/bigquery.dataEditor/curated/dataplex" = {
      member  = "serviceAccount:service-123456789012@gcp-sa-dataplex.iam.gserviceaccount.com"
      role    = "roles/bigquery.dataEditor"
      dataset = "curated"
    }
    "curated/roles/bigquery.dataEditor/landing/dlp" = {
      member  = "serviceAccount:service-210987654321@dlp-api.iam.gserviceaccount.com"
      role    = "roles/bigquery.dataEditor"
      dataset = "curated"
    }
  }
  labels = { env = "dev", team = "sales" }
}

output "buckets" {
  description = "Bucket names by role."
  value       = module.datasource.buckets
}

output "bucket_urls" {
  description = "Bucket URLs by role."
  value       = module.datasource.bucket_urls
}

output "datasets" {
  description = "Datasets by layer."
  value       = module.datasource.datasets
}

output "service_accounts" {
  description = "Internal and external identities."
  value       = module.datasource.service_accounts
}

output "iam_members" {
  description = "IAM members of the identities."
  value       = module.datasource.iam_members
}

output "topics" {
  description = "Topics, dead-letter topics and subscriptions."
  value       = module.datasource.topics
}
