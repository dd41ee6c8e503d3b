variable "projects" {
  description = "Layer projects keyed by layer (landing, processing, curated, exposure, orchestration). `create = false` adopts an existing project: the module then only adds IAM members, never replaces policies. `services` lists extra APIs enabled on top of the module's defaults. `labels` are added to a created project's labels (over the module's `labels`); an adopted project's labels stay its owner's."
  type = map(object({
    project_id = string
    create     = optional(bool, true)
    services   = optional(list(string), [])
    labels     = optional(map(string), {})
  }))
  nullable = false
  validation {
    condition = (
      length(var.projects) == 5 &&
      alltrue([for k in ["landing", "processing", "curated", "exposure", "orchestration"] : contains(keys(var.projects), k)])
    )
    error_message = "projects must have exactly the keys landing, processing, curated, exposure and orchestration."
  }
  validation {
    condition     = alltrue([for p in values(var.projects) : can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", p.project_id))])
    error_message = "Each project_id must be 6-30 characters: lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "parent" {
  description = "Parent of the created projects, as folders/NNN or organizations/NNN. Required when any project has create = true."
  type        = string
  default     = null
  validation {
    condition     = var.parent == null || can(regex("^(folders|organizations)/[0-9]+$", var.parent))
    error_message = "parent must be folders/NNN or organizations/NNN."
  }
}

variable "billing_account" {
  description = "Billing account ID (XXXXXX-XXXXXX-XXXXXX) linked to the created projects."
  type        = string
  default     = null
  validation {
    condition     = var.billing_account == null || can(regex("^[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}$", var.billing_account))
    error_message = "billing_account must look like 012345-6789AB-CDEF01."
  }
}

variable "project_deletion_policy" {
  description = "deletion_policy of the created projects: PREVENT (default, destroy fails), ABANDON (removed from state only) or DELETE."
  type        = string
  default     = "PREVENT"
  nullable    = false
  validation {
    condition     = contains(["PREVENT", "ABANDON", "DELETE"], var.project_deletion_policy)
    error_message = "project_deletion_policy must be PREVENT, ABANDON or DELETE."
  }
}

variable "region" {
  description = "Compute region of the environment (Composer, subnets, NAT), e.g. europe-west1."
  type        = string
  nullable    = false
}

variable "location" {
  description = "BigQuery/GCS location of shared data, e.g. EU, US or a region. Also the region of the policy-tag taxonomy."
  type        = string
  nullable    = false
}

variable "network" {
  description = "Local VPC created in the orchestration project. Subnets are keyed by subnet name; secondary_ranges maps range name -> CIDR. Leave null when shared_vpc is set."
  type = object({
    name = string
    subnets = map(object({
      region           = string
      cidr             = string
      secondary_ranges = optional(map(string), {})
    }))
    nat = optional(bool, true)
  })
  default = null
  validation {
    condition     = var.network == null || try(length(var.network.subnets) > 0, false)
    error_message = "network.subnets must hold at least one subnet."
  }
  validation {
    condition     = var.network == null || alltrue([for s in try(values(var.network.subnets), []) : can(cidrhost(s.cidr, 0))])
    error_message = "Every network.subnets[*].cidr must be a valid CIDR block."
  }
}

variable "shared_vpc" {
  description = "Attach the orchestration project to a Shared VPC host instead of creating a VPC: host project ID, network name and the name of the subnet in var.region that Composer uses."
  type = object({
    host_project = string
    network      = string
    subnet       = string
  })
  default = null
}

variable "composer" {
  description = "Cloud Composer 3 environment in the orchestration project. image_version is a Composer 3 image with Airflow 2 or 3 (composer-3-airflow-MAJOR[.MINOR[.PATCH[-build.N]]], the rule of the environment descriptor schema). service_account_id is the account ID of its own service account; subnet is the key of network.subnets to use (default: the first subnet in var.region). env_variables are merged with the module's AIRFLOW_VAR_DF_* variables (the module's win)."
  type = object({
    name               = string
    service_account_id = string
    image_version      = optional(string, "composer-3-airflow-2.10.5")
    environment_size   = optional(string, "ENVIRONMENT_SIZE_SMALL")
    private            = optional(bool, true)
    subnet             = optional(string)
    env_variables      = optional(map(string), {})
    pypi_packages      = optional(map(string), {})
    lineage            = optional(bool, true)
  })
  nullable = false
  validation {
    # The environment schema's composer.image_version pattern, kept identical (a test compares them).
    condition     = can(regex("^composer-3-airflow-[23](\\.[0-9]+(\\.[0-9]+(-build\\.[0-9]+)?)?)?$", var.composer.image_version))
    error_message = "composer.image_version must be a Cloud Composer 3 image with Airflow 2 or 3, e.g. composer-3-airflow-2.10.5 or composer-3-airflow-3.1.7-build.10."
  }
  validation {
    condition     = contains(["ENVIRONMENT_SIZE_SMALL", "ENVIRONMENT_SIZE_MEDIUM", "ENVIRONMENT_SIZE_LARGE"], var.composer.environment_size)
    error_message = "composer.environment_size must be ENVIRONMENT_SIZE_SMALL, ENVIRONMENT_SIZE_MEDIUM or ENVIRONMENT_SIZE_LARGE."
  }
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.composer.service_account_id))
    error_message = "composer.service_account_id must be 6-30 characters: lowercase letters, digits and hyphens, starting with a letter."
  }
  validation {
    condition     = alltrue([for k in keys(var.composer.env_variables) : can(regex("^[a-zA-Z_][a-zA-Z0-9_]*$", k))])
    error_message = "composer.env_variables keys must match [a-zA-Z_][a-zA-Z0-9_]*."
  }
}

variable "service_accounts" {
  description = "One service account per task, keyed by task (load, transformation, orchestration): account_id and the layer key of the project that holds it. roles grants project roles per layer key (none by default; df-gen gives each roles/bigquery.jobUser in its own project)."
  type = map(object({
    account_id = string
    project    = string
    roles      = optional(map(list(string)), {})
  }))
  nullable = false
  validation {
    condition = (
      length(var.service_accounts) == 3 &&
      alltrue([for k in ["load", "transformation", "orchestration"] : contains(keys(var.service_accounts), k)])
    )
    error_message = "service_accounts must have exactly the keys load, transformation and orchestration."
  }
  validation {
    condition     = alltrue([for sa in values(var.service_accounts) : contains(["landing", "processing", "curated", "exposure", "orchestration"], sa.project)])
    error_message = "service_accounts[*].project must be a layer key: landing, processing, curated, exposure or orchestration."
  }
  validation {
    condition = alltrue(flatten([
      for sa in values(var.service_accounts) : [
        for layer, roles in sa.roles : contains(["landing", "processing", "curated", "exposure", "orchestration"], layer) && length(setintersection(roles, ["roles/owner", "roles/editor", "roles/viewer"])) == 0
      ]
    ]))
    error_message = "service_accounts[*].roles keys must be layer keys, and primitive roles (owner, editor, viewer) are not allowed."
  }
}

variable "kms" {
  description = "CMEK keys keyed by service (storage, bigquery, pubsub, composer): key ring and key names, their location (must match the resources they protect) and the layer key of the project holding them. null or {} = Google-managed encryption."
  type = map(object({
    key_ring        = string
    location        = string
    key_name        = string
    project         = optional(string, "orchestration")
    rotation_period = optional(string, "7776000s")
  }))
  default  = {}
  nullable = false
  validation {
    condition     = alltrue([for k in keys(var.kms) : contains(["storage", "bigquery", "pubsub", "composer"], k)])
    error_message = "kms keys must be among storage, bigquery, pubsub and composer."
  }
  validation {
    condition     = alltrue([for k in values(var.kms) : contains(["landing", "processing", "curated", "exposure", "orchestration"], k.project)])
    error_message = "kms[*].project must be a layer key."
  }
  validation {
    condition     = alltrue([for k in values(var.kms) : can(regex("^[0-9]+s$", k.rotation_period)) && try(tonumber(trimsuffix(k.rotation_period, "s")) >= 86400 && tonumber(trimsuffix(k.rotation_period, "s")) <= 7776000, false)])
    error_message = "kms[*].rotation_period must be a number of seconds between 86400s (1 day) and 7776000s (90 days), e.g. 7776000s."
  }
}

variable "vpc_sc" {
  description = "Add every layer project to an existing VPC-SC perimeter (accessPolicies/NNN/servicePerimeters/NAME), after every other resource of the module. dry_run = true adds them to the perimeter's dry-run spec instead of the enforced status (the perimeter needs use_explicit_dry_run_spec = true). ingress_identities (the Terraform automation account, external writers) and the Composer account are admitted by one ingress rule to the layer projects."
  type = object({
    perimeter_name     = string
    dry_run            = optional(bool, false)
    ingress_identities = optional(list(string), [])
  })
  default = null
  validation {
    condition     = var.vpc_sc == null || can(regex("^accessPolicies/[0-9]+/servicePerimeters/[A-Za-z0-9_]+$", try(var.vpc_sc.perimeter_name, "")))
    error_message = "vpc_sc.perimeter_name must be accessPolicies/NNN/servicePerimeters/NAME."
  }
}

variable "pipeline_service_agents" {
  description = "Service agents that act for the pipelines, keyed by agent (dataplex: data-quality scans; dlp: DLP job triggers), each with the layers whose projects run them. The module provisions them (google_project_service_identity) and policy_taxonomy.tags[*].agent_readers may grant them tags; the pipeline stacks grant them their tables and datasets."
  type        = map(list(string))
  default     = {}
  nullable    = false
  validation {
    condition     = alltrue([for a in keys(var.pipeline_service_agents) : contains(["dataplex", "dlp"], a)])
    error_message = "pipeline_service_agents keys must be dataplex or dlp."
  }
  validation {
    condition = alltrue(flatten([
      for layers in values(var.pipeline_service_agents) : [
        for l in layers : contains(["landing", "processing", "curated", "exposure", "orchestration"], l)
      ]
    ]))
    error_message = "pipeline_service_agents layers must be landing, processing, curated, exposure or orchestration."
  }
}

variable "policy_taxonomy" {
  description = "Data Catalog taxonomy with policy tags keyed by tag name (e.g. high, medium, low), created in the orchestration project. readers lists who is granted fine-grained read on the tag: persona names (data_engineers, analysts, security), task names (load, transformation, orchestration: the module's task accounts) or IAM members. Nobody by default. masking adds a BigQuery data masking policy to the tag (in the taxonomy's project and location): data_policy_id, one of Google's predefined masking rules, and masked_readers (persona names or IAM members) granted roles/bigquerydatapolicy.maskedReader on it, who read masked values of the tagged columns instead of being refused. agent_readers names service agents of pipeline_service_agents (\"layer/agent\", e.g. landing/dlp) that read the tagged columns for their scans or inspections."
  type = object({
    name        = string
    description = optional(string, "Data Foundation data classification")
    tags = optional(map(object({
      description   = optional(string)
      readers       = optional(list(string), [])
      agent_readers = optional(list(string), [])
      masking = optional(object({
        data_policy_id        = string
        predefined_expression = string
        masked_readers        = optional(list(string), [])
      }))
      })), {
      high   = { description = "Highly sensitive data" }
      medium = { description = "Sensitive data" }
      low    = { description = "Internal data" }
    })
  })
  default = null
  validation {
    condition     = var.policy_taxonomy == null || try(length(var.policy_taxonomy.tags) > 0, false)
    error_message = "policy_taxonomy.tags must hold at least one tag."
  }
  validation {
    condition = var.policy_taxonomy == null || alltrue(flatten([
      for t in try(values(var.policy_taxonomy.tags), []) : [
        for r in t.readers : contains(["data_engineers", "analysts", "security", "load", "transformation", "orchestration"], r) || can(regex("^(user|group|serviceAccount|domain|principal|principalSet):.+$", r))
      ]
    ]))
    error_message = "policy_taxonomy.tags[*].readers entries must be persona names (data_engineers, analysts, security), task names (load, transformation, orchestration) or IAM members."
  }
  validation {
    # The provider's list (resource_bigquery_datapolicy_data_policy.go), which is Google's
    # predefined rules: https://cloud.google.com/bigquery/docs/column-data-masking-intro#masking_options
    condition = var.policy_taxonomy == null || alltrue([
      for t in try(values(var.policy_taxonomy.tags), []) : t.masking == null || contains(
        ["SHA256", "ALWAYS_NULL", "DEFAULT_MASKING_VALUE", "LAST_FOUR_CHARACTERS", "FIRST_FOUR_CHARACTERS", "EMAIL_MASK", "DATE_YEAR_MASK"],
        try(t.masking.predefined_expression, "")
      )
    ])
    error_message = "policy_taxonomy.tags[*].masking.predefined_expression must be one of SHA256, ALWAYS_NULL, DEFAULT_MASKING_VALUE, LAST_FOUR_CHARACTERS, FIRST_FOUR_CHARACTERS, EMAIL_MASK, DATE_YEAR_MASK."
  }
  validation {
    condition = var.policy_taxonomy == null || alltrue(flatten([
      for t in try(values(var.policy_taxonomy.tags), []) : [
        for r in try(t.masking.masked_readers, []) : contains(["data_engineers", "analysts", "security"], r) || can(regex("^(user|group|serviceAccount|domain|principal|principalSet):.+$", r))
      ]
    ]))
    error_message = "policy_taxonomy.tags[*].masking.masked_readers entries must be persona names (data_engineers, analysts, security) or IAM members."
  }
}

variable "logging" {
  description = "Audit logs (ADMIN_READ, DATA_READ, DATA_WRITE) for audit_services on every created layer project (adopted ones too with audit_adopted_projects: an audit config replaces the project's own for that service), and an optional log sink per layer project to a shared bucket or shared dataset (keys of shared_buckets / shared_datasets)."
  type = object({
    audit_services         = optional(list(string), ["bigquery.googleapis.com", "storage.googleapis.com"])
    audit_adopted_projects = optional(bool, false)
    sink = optional(object({
      name           = string
      filter         = optional(string, "logName:\"cloudaudit.googleapis.com\"")
      shared_bucket  = optional(string)
      shared_dataset = optional(string)
    }))
  })
  default = null
  validation {
    condition     = try(var.logging.sink, null) == null || (try(var.logging.sink.shared_bucket, null) == null) != (try(var.logging.sink.shared_dataset, null) == null)
    error_message = "logging.sink needs exactly one of shared_bucket or shared_dataset."
  }
}

variable "monitoring" {
  description = "Email notification channels keyed by name, and alert policies in the orchestration project: failed DAG runs, Composer environment health, messages held in dead_letter_subscriptions (pull subscriptions of dead-letter topics, in the landing project), and failed data-quality scans in the projects of data_quality_layers (a log-based metric in each). The layer projects those metrics come from join the orchestration project's metrics scope."
  type = object({
    emails                    = map(string)
    failed_dag_runs           = optional(bool, true)
    composer_health           = optional(bool, true)
    auto_close                = optional(string, "86400s")
    alignment_period_failed   = optional(string, "300s")
    dead_letter_subscriptions = optional(list(string), [])
    data_quality_layers       = optional(list(string), [])
  })
  default = null
  validation {
    condition     = var.monitoring == null || alltrue([for e in try(values(var.monitoring.emails), []) : can(regex("^[^@\\s]+@[^@\\s]+$", e))])
    error_message = "monitoring.emails values must be email addresses."
  }
  validation {
    condition     = var.monitoring == null || alltrue([for l in try(var.monitoring.data_quality_layers, []) : contains(["landing", "processing", "curated", "exposure", "orchestration"], l)])
    error_message = "monitoring.data_quality_layers must be layer keys."
  }
}

variable "principals" {
  description = "IAM members by persona (user:, group:, serviceAccount:, domain:, principal:, principalSet:), granted persona_roles and the policy tags that name the persona."
  type = object({
    data_engineers = optional(list(string), [])
    analysts       = optional(list(string), [])
    security       = optional(list(string), [])
  })
  default  = {}
  nullable = false
  validation {
    condition = alltrue([
      for m in concat(var.principals.data_engineers, var.principals.analysts, var.principals.security) :
      can(regex("^(user|group|serviceAccount|domain|principal|principalSet):.+$", m))
    ])
    error_message = "principals entries must be IAM members (user:, group:, serviceAccount:, domain:, principal:, principalSet:); allUsers/allAuthenticatedUsers are not allowed."
  }
}

variable "persona_roles" {
  description = "Project roles granted per persona and layer key (map persona -> map layer -> roles), to the persona's principals. The module grants personas nothing else: {} grants nothing."
  type        = map(map(list(string)))
  default     = {}
  nullable    = false
  validation {
    condition = alltrue(flatten([
      for persona, layers in var.persona_roles : [
        for layer, roles in layers : contains(["data_engineers", "analysts", "security"], persona) && contains(["landing", "processing", "curated", "exposure", "orchestration"], layer) && length(setintersection(roles, ["roles/owner", "roles/editor", "roles/viewer"])) == 0
      ]
    ]))
    error_message = "persona_roles keys must be personas (data_engineers, analysts, security) then layer keys, and primitive roles (owner, editor, viewer) are not allowed."
  }
}

variable "impersonators" {
  description = "Who may impersonate each task account (roles/iam.serviceAccountTokenCreator on it), keyed by task: IAM members, or \"composer\" for the module's Composer service account. Tasks left out can be impersonated by nobody."
  type        = map(list(string))
  default     = {}
  nullable    = false
  validation {
    condition = alltrue(flatten([
      for task, members in var.impersonators : [
        for m in members : contains(["load", "transformation", "orchestration"], task) && (m == "composer" || can(regex("^(user|group|serviceAccount|domain|principal|principalSet):.+$", m)))
      ]
    ]))
    error_message = "impersonators keys must be tasks (load, transformation, orchestration) and entries IAM members or \"composer\"."
  }
}

variable "shared_buckets" {
  description = "Environment-wide buckets keyed by logical name: final bucket name, layer key of the project, storage class, optional retention policy in days (retention_locked applies Bucket Lock, which is irreversible), iam grants bucket roles (role -> members). Versioned unless retention_days is set (GCS allows only one of the two); CMEK from kms.storage when set."
  type = map(object({
    name             = string
    project          = optional(string, "orchestration")
    location         = optional(string)
    storage_class    = optional(string, "STANDARD")
    retention_days   = optional(number)
    retention_locked = optional(bool, false)
    labels           = optional(map(string), {})
    iam              = optional(map(list(string)), {})
  }))
  default  = {}
  nullable = false
  validation {
    condition     = alltrue([for b in values(var.shared_buckets) : contains(["landing", "processing", "curated", "exposure", "orchestration"], b.project)])
    error_message = "shared_buckets[*].project must be a layer key."
  }
  validation {
    condition = alltrue(flatten([
      for b in values(var.shared_buckets) : [
        for role, members in b.iam : !contains(["roles/owner", "roles/editor", "roles/viewer"], role) && alltrue([for m in members : can(regex("^(user|group|serviceAccount|domain|principal|principalSet):.+$", m))])
      ]
    ]))
    error_message = "shared_buckets[*].iam must map non-primitive roles to IAM members."
  }
  validation {
    condition     = alltrue([for b in values(var.shared_buckets) : contains(["STANDARD", "NEARLINE", "COLDLINE", "ARCHIVE"], b.storage_class)])
    error_message = "shared_buckets[*].storage_class must be STANDARD, NEARLINE, COLDLINE or ARCHIVE."
  }
}

variable "shared_datasets" {
  description = "Environment-wide BigQuery datasets keyed by logical name: final dataset_id and layer key of the project. CMEK from kms.bigquery when set. expiration_days sets both the default table and partition expiration; delete_contents_on_destroy lets destroy drop tables Terraform does not manage (log sink tables); iam grants dataset roles (role -> members)."
  type = map(object({
    dataset_id                 = string
    project                    = optional(string, "orchestration")
    location                   = optional(string)
    description                = optional(string)
    labels                     = optional(map(string), {})
    expiration_days            = optional(number)
    delete_contents_on_destroy = optional(bool, false)
    iam                        = optional(map(list(string)), {})
  }))
  default  = {}
  nullable = false
  validation {
    condition     = alltrue([for d in values(var.shared_datasets) : contains(["landing", "processing", "curated", "exposure", "orchestration"], d.project)])
    error_message = "shared_datasets[*].project must be a layer key."
  }
  validation {
    condition     = alltrue([for d in values(var.shared_datasets) : can(regex("^[A-Za-z0-9_]+$", d.dataset_id)) && length(d.dataset_id) <= 1024])
    error_message = "shared_datasets[*].dataset_id may contain only letters, digits and underscores."
  }
  validation {
    condition     = alltrue([for d in values(var.shared_datasets) : d.expiration_days == null || try(d.expiration_days >= 1, false)])
    error_message = "shared_datasets[*].expiration_days must be at least 1."
  }
  validation {
    condition = alltrue(flatten([
      for d in values(var.shared_datasets) : [
        for role, members in d.iam : !contains(["roles/owner", "roles/editor", "roles/viewer"], role) && alltrue([for m in members : can(regex("^(user|group|serviceAccount|domain|principal|principalSet):.+$", m))])
      ]
    ]))
    error_message = "shared_datasets[*].iam must map non-primitive roles to IAM members."
  }
}

variable "labels" {
  description = "Labels set on every labelled resource."
  type        = map(string)
  default     = {}
  nullable    = false
}
