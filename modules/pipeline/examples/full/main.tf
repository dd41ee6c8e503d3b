# Every option on: CMEK tables with partitioning, clustering and policy tags, a curated
# table, an exposure view authorized on the curated dataset, the DAG and its SQL uploaded
# to Composer, a DLP inspect template and two data-quality scans (on demand, scheduled), and
# the grants of the Dataplex and DLP service agents that act for them.

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
    landing  = { project = "acme-dev-landing", dataset_id = "sales_landing" }
    curated  = { project = "acme-dev-curated", dataset_id = "sales_curated" }
    exposure = { project = "acme-dev-exposure", dataset_id = "sales_exposure" }
  }
  kms_key = "projects/acme-dev-orchestration/locations/europe-west1/keyRings/acme-dev/cryptoKeys/bigquery"
  tables = {
    orders = {
      layer       = "landing"
      schema      = file("${path.module}/schemas/orders.json")
      description = "Raw orders loaded from the landing bucket."
      partitioning = {
        field         = "order_date"
        type          = "DAY"
        expiration_ms = 7776000000
      }
      clustering = ["country"]
      # Off only so that the example can be destroyed; keep the default (true) for real data.
      deletion_protection = false
      labels              = { tier = "raw" }
    }
    daily_sales = {
      layer               = "curated"
      schema              = file("${path.module}/schemas/daily_sales.json")
      partitioning        = { field = "order_date", type = "MONTH" }
      clustering          = ["country"]
      deletion_protection = false
    }
  }
  views = {
    daily_sales_by_country = {
      layer               = "exposure"
      query               = file("${path.module}/sql/daily_sales_by_country.sql")
      description         = "Revenue by country for analysts."
      authorized_on       = ["curated"]
      deletion_protection = false
    }
  }
  composer = {
    dag_bucket = "europe-west1-acme-dev-compo-1a2b3c4d-bucket"
    dag_prefix = "dags/"
  }
  files = {
    "sales_daily.py"                  = "${path.module}/dags/sales_daily.py"
    "sql/sales-daily/daily_sales.sql" = "${path.module}/sql/daily_sales.sql"
  }
  dlp = {
    template_id    = "sales-daily-pii"
    project        = "landing"
    location       = "europe-west1"
    info_types     = ["EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD_NUMBER"]
    min_likelihood = "LIKELY"
    include_quote  = true
    max_findings   = 50
    tables         = ["orders"]
    findings_table = { project = "acme-dev-curated", dataset_id = "sales_curated", table_id = "dlp_findings_sales_daily" }
  }
  data_quality = {
    sales-daily-orders = {
      table    = "orders"
      location = "europe-west1"
      not_null = ["order_id", "order_date"]
      unique   = ["order_id"]
      min_rows = 1
    }
    sales-daily-daily-sales = {
      table      = "daily_sales"
      location   = "europe-west1"
      not_null   = ["order_date"]
      threshold  = 0.99
      schedule   = "TZ=Europe/Brussels 0 6 * * *"
      row_filter = "order_date >= DATE_SUB(CURRENT_DATE(), INTERVAL 7 DAY)"
    }
  }
  data_quality_results_table = "projects/acme-dev-curated/datasets/sales_curated/tables/data_quality_sales_daily"
  data_quality_notify        = ["data-platform@example.com"]
  data_quality_runners       = ["serviceAccount:df-transformation@acme-dev-processing.iam.gserviceaccount.com"]
  # The DLP agent (provisioned by the environment) inspects the orders; write on the results
  # and findings dataset comes with the data source (its service_agent_grants).
  service_agent_grants = {
    dlp-read-orders = {
      member = "serviceAccount:service-210987654321@dlp-api.iam.gserviceaccount.com"
      role   = "roles/bigquery.dataViewer"
      table  = "orders"
    }
  }
  labels = { env = "dev", team = "sales" }
}

output "tables" {
  description = "Table IDs."
  value       = module.pipeline.tables
}

output "views" {
  description = "View IDs."
  value       = module.pipeline.views
}

output "dag_objects" {
  description = "Uploaded DAG objects."
  value       = module.pipeline.dag_objects
}

output "dlp_inspect_template" {
  description = "DLP inspect template ID."
  value       = module.pipeline.dlp_inspect_template
}

output "data_quality_scans" {
  description = "Dataplex datascan IDs."
  value       = module.pipeline.data_quality_scans
}

output "dlp_job_triggers" {
  description = "DLP job trigger IDs."
  value       = module.pipeline.dlp_job_triggers
}
