# CMEK: key rings and keys (deduplicated when services share one), and the encrypter/decrypter
# grants for the service agents that use them (provisioned in agents.tf). Everything a key
# protects depends on these grants: Google checks them when the resource is created.
#
# No lifecycle.prevent_destroy: it cannot depend on a variable and a static true would block
# every destroy of the stack. Cloud KMS never deletes key rings or keys anyway; destroy only
# schedules the key versions for destruction.

locals {
  kms_rings = {
    for svc, k in var.kms : "${k.project}/${k.location}/${k.key_ring}" => {
      project = k.project, location = k.location, name = k.key_ring
    }...
  }
  kms_keys = {
    for svc, k in var.kms : "${k.project}/${k.location}/${k.key_ring}/${k.key_name}" => {
      ring = "${k.project}/${k.location}/${k.key_ring}", name = k.key_name, rotation_period = k.rotation_period
    }...
  }
  kms_service_key = {
    for svc, k in var.kms : svc => "${k.project}/${k.location}/${k.key_ring}/${k.key_name}"
  }

  # Which agents use which service's key: storage/bigquery/pubsub agents of every layer project
  # (their buckets, datasets and topics live everywhere). A Composer 3 environment uses its key
  # through the Composer and Cloud Storage agents only:
  # https://cloud.google.com/composer/docs/composer-3/configure-cmek-encryption (Fabric's
  # modules/project/cmek.tf keeps the same two).
  kms_agents = {
    storage  = { for l in local.layers : l => local.service_agents[l].storage }
    bigquery = { for l in local.layers : l => local.service_agents[l].bigquery }
    pubsub   = { for l in local.layers : l => local.service_agents[l].pubsub }
    composer = {
      for a in ["composer", "storage"] : a => local.service_agents["orchestration"][a]
    }
  }
  kms_grants = merge([
    for svc in keys(var.kms) : {
      for who, member in local.kms_agents[svc] : "${svc}/${who}" => {
        key = local.kms_service_key[svc], member = member
      }
    }
  ]...)
}

resource "google_kms_key_ring" "rings" {
  for_each   = local.kms_rings
  project    = local.project_ids[each.value[0].project]
  name       = each.value[0].name
  location   = each.value[0].location
  depends_on = [google_project_service.this]
}

resource "google_kms_crypto_key" "keys" {
  #checkov:skip=CKV_GCP_43:rotation_period comes from var.kms, whose validation caps it at 7776000s (90 days).
  #checkov:skip=CKV_GCP_82:prevent_destroy cannot be variable-driven in a reusable module; Cloud KMS keys are never deleted, only their versions scheduled for destruction.
  for_each        = local.kms_keys
  name            = each.value[0].name
  key_ring        = google_kms_key_ring.rings[each.value[0].ring].id
  purpose         = "ENCRYPT_DECRYPT"
  rotation_period = each.value[0].rotation_period
  labels          = local.labels
}

resource "google_kms_crypto_key_iam_member" "agents" {
  # iamdoc: who = "the service agents that use each key (local.kms_agents)"
  # iamdoc: on = "the key"
  for_each      = local.kms_grants
  crypto_key_id = google_kms_crypto_key.keys[each.value.key].id
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = each.value.member
  depends_on    = [google_project_service.this]
}
