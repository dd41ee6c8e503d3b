# Google-managed service agents the module grants roles to, each provisioned the way Google
# creates it, so that no grant names an agent that does not exist yet ("Service account ...
# does not exist"; https://cloud.google.com/iam/docs/create-service-agents):
# - Cloud Storage and BigQuery encryption agents: created when asked for, which the GA data
#   sources do (projects.serviceAccount.get, projects.getServiceAccount);
# - Pub/Sub and Composer agents: primary agents, created by services.generateServiceIdentity,
#   which only google-beta's google_project_service_identity calls.
# - Dataplex and DLP agents: primary agents too, provisioned where the pipelines' data-quality
#   scans and DLP job triggers run (var.pipeline_service_agents), so that the pipeline stacks
#   can grant them the tables and datasets they read and write. Google documents both ways:
#   "gcloud beta services identity create --service=dataplex.googleapis.com"
#   (https://cloud.google.com/dataplex/docs/use-auto-data-quality, cross-project scans), and
#   the DLP agent "is created when it is first needed"
#   (https://cloud.google.com/sensitive-data-protection/docs/access-control/service-accounts),
#   which generateServiceIdentity does ahead of the first job.
# Every read and identity waits for the APIs, whose calls they are.

locals {
  # Primary agents provisioned per project: Pub/Sub everywhere (CMEK topics, dead letters),
  # Composer in orchestration (its key, its environment account, Shared VPC), Dataplex and
  # DLP where the pipelines need them. Keyed "layer/agent".
  agent_identities = merge(
    { for l in keys(var.projects) : "${l}/pubsub" => { layer = l, service = "pubsub.googleapis.com" } },
    { "orchestration/composer" = { layer = "orchestration", service = "composer.googleapis.com" } },
    merge([
      for agent, layers in var.pipeline_service_agents : {
        for l in layers : "${l}/${agent}" => { layer = l, service = "${agent}.googleapis.com" }
      }
    ]...),
  )

  # IAM members of the agents, keyed by layer and agent.
  service_agents = {
    for k in keys(var.projects) : k => merge(
      {
        storage  = data.google_storage_project_service_account.this[k].member
        bigquery = data.google_bigquery_default_service_account.this[k].member
      },
      {
        for id, a in local.agent_identities : split(".", a.service)[0] => google_project_service_identity.this[id].member
        if a.layer == k
      },
    )
  }
}

data "google_storage_project_service_account" "this" {
  for_each   = var.projects
  project    = local.project_ids[each.key]
  depends_on = [google_project_service.this]
}

data "google_bigquery_default_service_account" "this" {
  for_each   = var.projects
  project    = local.project_ids[each.key]
  depends_on = [google_project_service.this]
}

resource "google_project_service_identity" "this" {
  provider   = google-beta
  for_each   = local.agent_identities
  project    = local.project_ids[each.value.layer]
  service    = each.value.service
  depends_on = [google_project_service.this]
}
