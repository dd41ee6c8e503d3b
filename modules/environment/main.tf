# Shared values. Everything Google assigns (project numbers; service agents in agents.tf) is
# derived once, so the per-concern files only read locals.

locals {
  layers = ["landing", "processing", "curated", "exposure", "orchestration"]

  # APIs every layer project gets; the orchestration project also runs Composer and the VPC.
  # Composer 3 needs only its own API in the project: its Airflow components run in Google's
  # tenant project (https://cloud.google.com/composer/docs/composer-3/enable-composer-service,
  # https://cloud.google.com/composer/docs/composer-3/environment-architecture), so the
  # Kubernetes Engine API is not enabled. An environment applied before keeps it enabled:
  # disable_on_destroy = false (projects.tf) makes dropping it a state-only removal.
  base_services = [
    "bigquery.googleapis.com",
    "bigquerystorage.googleapis.com",
    "cloudkms.googleapis.com",
    "cloudresourcemanager.googleapis.com",
    "datacatalog.googleapis.com",
    "datalineage.googleapis.com",
    "dataplex.googleapis.com",
    "dlp.googleapis.com",
    "iam.googleapis.com",
    "iamcredentials.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "pubsub.googleapis.com",
    "serviceusage.googleapis.com",
    "storage.googleapis.com",
  ]
  orchestration_services = [
    "artifactregistry.googleapis.com",
    "bigquerydatapolicy.googleapis.com", # data masking policies live beside the taxonomy
    "composer.googleapis.com",
    "compute.googleapis.com",
  ]

  project_services = merge([
    for layer, p in var.projects : {
      for s in distinct(concat(
        local.base_services,
        layer == "orchestration" ? local.orchestration_services : [],
        p.services,
      )) : "${layer}/${s}" => { layer = layer, service = s }
    }
  ]...)

  created_projects = { for k, p in var.projects : k => p if p.create }
  adopted_projects = { for k, p in var.projects : k => p if !p.create }

  # Created projects are read from their resource so that everything placed in them waits
  # for the project to exist.
  project_ids = merge(
    { for k, p in local.adopted_projects : k => p.project_id },
    { for k, p in google_project.this : k => p.project_id },
  )
  project_numbers = merge(
    { for k, p in google_project.this : k => p.number },
    { for k, p in data.google_project.adopted : k => p.number },
  )
  orchestration_project = local.project_ids["orchestration"]

  task_sa_emails = { for k, sa in google_service_account.tasks : k => sa.email }

  kms_key_ids = { for svc, key in local.kms_service_key : svc => google_kms_crypto_key.keys[key].id }

  labels = var.labels
}
