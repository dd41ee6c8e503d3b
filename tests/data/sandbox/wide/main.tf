# The remaining types df-gen renders (network, Composer, governance, logging, monitoring,
# DLP, Dataplex), applied against the sandbox with the real google 8.7.0 schema.
terraform {
  required_providers {
    google = { source = "hashicorp/google" }
  }
}

provider "google" {
  project = "df-sandbox-orc"
  region  = "europe-west1"
}

locals {
  project = "df-sandbox-orc"
  region  = "europe-west1"
}

resource "google_compute_network" "vpc" {
  name                    = "df-vpc"
  auto_create_subnetworks = false
}

resource "google_compute_subnetwork" "main" {
  name                     = "df-subnet"
  region                   = local.region
  network                  = google_compute_network.vpc.id
  ip_cidr_range            = "10.10.0.0/20"
  private_ip_google_access = true
  secondary_ip_range {
    range_name    = "pods"
    ip_cidr_range = "10.20.0.0/16"
  }
}

resource "google_compute_firewall" "iap" {
  name          = "df-allow-iap"
  network       = google_compute_network.vpc.name
  source_ranges = ["35.235.240.0/20"]
  allow {
    protocol = "tcp"
    ports    = ["22"]
  }
}

resource "google_compute_router" "router" {
  name    = "df-router"
  region  = local.region
  network = google_compute_network.vpc.id
}

resource "google_compute_router_nat" "nat" {
  name                               = "df-nat"
  router                             = google_compute_router.router.name
  region                             = local.region
  nat_ip_allocate_option             = "AUTO_ONLY"
  source_subnetwork_ip_ranges_to_nat = "ALL_SUBNETWORKS_ALL_IP_RANGES"
}

resource "google_service_account" "composer" {
  account_id = "df-composer"
}

resource "google_service_account_iam_member" "impersonation" {
  service_account_id = google_service_account.composer.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = "group:platform@example.com"
}

resource "google_composer_environment" "env" {
  name   = "df-composer"
  region = local.region
  config {
    software_config {
      image_version = "composer-3-airflow-2.10.5"
      env_variables = { DF_ENV = "sandbox" }
    }
    node_config {
      network         = google_compute_network.vpc.id
      subnetwork      = google_compute_subnetwork.main.id
      service_account = google_service_account.composer.email
    }
  }
}

resource "google_storage_bucket_object" "dag" {
  bucket  = "df-sandbox-orc-code"
  name    = "dags/sales_daily.py"
  content = "# dag\n"
}

resource "google_data_catalog_taxonomy" "tax" {
  display_name           = "df-sensitivity"
  region                 = local.region
  activated_policy_types = ["FINE_GRAINED_ACCESS_CONTROL"]
}

resource "google_data_catalog_policy_tag" "pii" {
  taxonomy     = google_data_catalog_taxonomy.tax.id
  display_name = "pii"
}

resource "google_bigquery_dataset" "cur" {
  dataset_id = "cur_sales"
  location   = local.region
}

resource "google_bigquery_dataset_access" "view" {
  dataset_id    = google_bigquery_dataset.cur.dataset_id
  role          = "READER"
  user_by_email = google_service_account.composer.email
}

resource "google_logging_project_sink" "audit" {
  name                   = "df-audit"
  destination            = "bigquery.googleapis.com/projects/${local.project}/datasets/${google_bigquery_dataset.cur.dataset_id}"
  filter                 = "logName:\"cloudaudit.googleapis.com\""
  unique_writer_identity = true
}

resource "google_project_iam_audit_config" "bq" {
  project = local.project
  service = "bigquery.googleapis.com"
  audit_log_config {
    log_type = "DATA_READ"
  }
  audit_log_config {
    log_type = "DATA_WRITE"
  }
}

resource "google_monitoring_notification_channel" "email" {
  display_name = "df-oncall"
  type         = "email"
  labels       = { email_address = "oncall@example.com" }
}

resource "google_monitoring_alert_policy" "dag_failures" {
  display_name          = "df dag failures"
  combiner              = "OR"
  notification_channels = [google_monitoring_notification_channel.email.name]
  conditions {
    display_name = "failed dag runs"
    condition_threshold {
      filter          = "resource.type = \"cloud_composer_environment\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"
    }
  }
}

resource "google_data_loss_prevention_inspect_template" "pii" {
  parent       = "projects/${local.project}/locations/${local.region}"
  display_name = "df-pii"
  inspect_config {
    info_types {
      name = "EMAIL_ADDRESS"
    }
  }
}

resource "google_dataplex_datascan" "quality" {
  location     = local.region
  data_scan_id = "df-sales-quality"
  data {
    resource = "//bigquery.googleapis.com/projects/${local.project}/datasets/${google_bigquery_dataset.cur.dataset_id}/tables/orders"
  }
  execution_spec {
    trigger {
      on_demand {}
    }
  }
  data_quality_spec {
    rules {
      dimension = "COMPLETENESS"
      column    = "order_id"
      non_null_expectation {}
    }
  }
}

output "dag_gcs_prefix" {
  value = google_composer_environment.env.config[0].dag_gcs_prefix
}

output "airflow_uri" {
  value = google_composer_environment.env.config[0].airflow_uri
}

output "subnet_self_link" {
  value = google_compute_subnetwork.main.self_link
}

output "sink_writer" {
  value = google_logging_project_sink.audit.writer_identity
}

output "policy_tag" {
  value = google_data_catalog_policy_tag.pii.name
}
