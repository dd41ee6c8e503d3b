output "projects" {
  description = "Layer projects keyed by layer: project_id and number. Available once the projects' APIs are enabled."
  value = {
    for k in keys(var.projects) : k => {
      project_id = local.project_ids[k]
      number     = local.project_numbers[k]
    }
  }
  depends_on = [google_project_service.this]
}

output "service_accounts" {
  description = "Task service account emails keyed by task (load, transformation, orchestration), usable once their impersonation grants exist."
  value       = local.task_sa_emails
  depends_on  = [google_project_iam_member.tasks, google_service_account_iam_member.impersonation]
}

output "composer" {
  description = "Composer environment: name, dag_bucket (Google-assigned GCS bucket parsed from config[0].dag_gcs_prefix), dag_prefix (folder inside the bucket, e.g. dags), airflow_uri and the environment's service account email."
  value = {
    name            = google_composer_environment.this.name
    dag_bucket      = local.composer_dag_bucket
    dag_prefix      = local.composer_dag_folder
    airflow_uri     = google_composer_environment.this.config[0].airflow_uri
    service_account = google_service_account.composer.email
  }
}

output "service_agents" {
  description = "E-mails of the primary service agents the module provisions (google_project_service_identity), keyed by layer and agent: pubsub in every layer, composer in orchestration, dataplex and dlp where pipeline_service_agents puts them. Callers grant these, never e-mails built from project numbers."
  value = {
    for k in keys(var.projects) : k => {
      for id, a in local.agent_identities : split(".", a.service)[0] => google_project_service_identity.this[id].email
      if a.layer == k
    }
  }
}

output "kms_keys" {
  description = "CMEK key IDs keyed by service (storage, bigquery, pubsub, composer), usable once the service agents' grants exist. Empty when kms is not set."
  value       = local.kms_key_ids
  depends_on  = [google_kms_crypto_key_iam_member.agents]
}

output "policy_tags" {
  description = "Policy tag IDs (projects/P/locations/L/taxonomies/T/policyTags/N) keyed by tag name, for BigQuery schemas' policyTags.names."
  value       = { for k, t in google_data_catalog_policy_tag.this : k => t.id }
}

output "taxonomy" {
  description = "ID of the policy-tag taxonomy, or null."
  value       = try(google_data_catalog_taxonomy.this[0].id, null)
}

output "network" {
  description = "Network used by Composer, as self links: network and subnets (map name -> self link). With shared_vpc, the host network and the one shared subnet."
  value = {
    network = (
      local.local_vpc ? google_compute_network.this[0].self_link :
      var.shared_vpc != null ? "${local.compute_api}/${local.network_id}" : null
    )
    subnets = (
      local.local_vpc ? { for k, s in google_compute_subnetwork.this : k => s.self_link } :
      var.shared_vpc != null ? { (var.shared_vpc.subnet) = "${local.compute_api}/${local.composer_subnet_id}" } : {}
    )
  }
}

output "shared_buckets" {
  description = "Shared bucket names keyed by logical name."
  value       = local.shared_bucket_names
}

output "shared_datasets" {
  description = "Shared datasets keyed by logical name: project and dataset_id."
  value = {
    for k, d in google_bigquery_dataset.shared : k => { project = d.project, dataset_id = d.dataset_id }
  }
}

output "notification_channels" {
  description = "Monitoring notification channel IDs keyed by name."
  value       = { for k, c in google_monitoring_notification_channel.email : k => c.id }
}

output "log_sinks" {
  description = "Log sink writer identities keyed by layer."
  value       = { for k, s in google_logging_project_sink.this : k => s.writer_identity }
}
