variable "name" {
  description = "Data source key, used in labels and resource descriptions (names are passed in explicitly)."
  type        = string
  nullable    = false
  validation {
    condition     = can(regex("^[a-z][a-z0-9_-]{0,62}$", var.name))
    error_message = "name must start with a lowercase letter and hold only lowercase letters, digits, '-' or '_' (at most 63 characters)."
  }
}

variable "projects" {
  description = "Project ID of each layer of the environment."
  type = object({
    landing       = string
    processing    = string
    curated       = string
    exposure      = string
    orchestration = string
  })
  nullable = false
}

variable "location" {
  description = "Location of the buckets and datasets (multi-region such as EU, or a region)."
  type        = string
  nullable    = false
}

variable "kms_keys" {
  description = "CMEK key IDs by service; a null key means Google-managed encryption."
  type = object({
    storage  = optional(string)
    bigquery = optional(string)
    pubsub   = optional(string)
  })
  default  = {}
  nullable = false
}

variable "buckets" {
  description = "Buckets keyed by role (landing, archive). project is a layer key or a project ID. GCS forbids versioning together with a retention policy: versioning defaults to on only when retention_days is unset. labels are added to the module's labels."
  type = map(object({
    name           = string
    project        = optional(string, "landing")
    storage_class  = optional(string, "STANDARD")
    versioning     = optional(bool)
    retention_days = optional(number)
    force_destroy  = optional(bool, false)
    labels         = optional(map(string), {})
    lifecycle = optional(object({
      archive_after_days           = optional(number)
      delete_after_days            = optional(number)
      noncurrent_delete_after_days = optional(number, 30)
    }), {})
  }))
  nullable = false
  validation {
    condition     = alltrue([for k in keys(var.buckets) : contains(["landing", "archive"], k)])
    error_message = "buckets keys must be 'landing' or 'archive'."
  }
  validation {
    condition = alltrue([
      for b in values(var.buckets) :
      can(regex("^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$", b.name)) && !startswith(b.name, "goog")
    ])
    error_message = "Bucket names use lowercase letters, digits, '-', '_' and '.', start and end with a letter or digit, and do not start with 'goog'."
  }
  validation {
    condition = alltrue([
      for b in values(var.buckets) :
      contains(["STANDARD", "NEARLINE", "COLDLINE", "ARCHIVE"], b.storage_class)
    ])
    error_message = "storage_class must be one of STANDARD, NEARLINE, COLDLINE, ARCHIVE."
  }
  validation {
    condition     = alltrue([for b in values(var.buckets) : !(b.versioning == true && b.retention_days != null)])
    error_message = "A bucket cannot have both versioning and a retention policy: set only one of versioning, retention_days."
  }
  validation {
    condition = alltrue([
      for b in values(var.buckets) : b.retention_days == null ? true : b.retention_days > 0
    ])
    error_message = "retention_days must be a positive number of days."
  }
  validation {
    condition = alltrue([
      for b in values(var.buckets) : (
        b.lifecycle.archive_after_days == null || b.lifecycle.delete_after_days == null
        ? true : b.lifecycle.archive_after_days < b.lifecycle.delete_after_days
      )
    ])
    error_message = "lifecycle.archive_after_days must be smaller than lifecycle.delete_after_days."
  }
  validation {
    condition = alltrue([
      for b in values(var.buckets) : (
        b.retention_days == null || b.lifecycle.delete_after_days == null
        ? true : b.lifecycle.delete_after_days >= b.retention_days
      )
    ])
    error_message = "lifecycle.delete_after_days cannot be shorter than retention_days: GCS would refuse to delete objects still under retention."
  }
}

variable "access_log_bucket" {
  description = "Name of an existing bucket that receives usage (access) logs of this source's buckets; null disables usage logs (Cloud Audit Logs still apply)."
  type        = string
  default     = null
}

variable "topics" {
  description = "Pub/Sub topics in the landing project keyed by topic key. Subscriptions are keyed by subscription name; dead_letter adds a dead-letter topic (and its pull subscription) named dead_letter_name."
  type = map(object({
    name                       = string
    message_retention_duration = optional(string, "604800s")
    dead_letter                = optional(bool, false)
    dead_letter_name           = optional(string)
    max_delivery_attempts      = optional(number, 5)
    subscriptions = optional(map(object({
      ack_deadline_seconds       = optional(number, 60)
      message_retention_duration = optional(string, "604800s")
      retain_acked_messages      = optional(bool, false)
      filter                     = optional(string)
      enable_message_ordering    = optional(bool, false)
      subscribers                = optional(list(string), [])
    })), {})
  }))
  default  = {}
  nullable = false
  validation {
    condition = alltrue(flatten([
      for t in values(var.topics) : [
        for n in concat([t.name], t.dead_letter_name == null ? [] : [t.dead_letter_name], keys(t.subscriptions)) :
        can(regex("^[A-Za-z][A-Za-z0-9._~+%-]{2,254}$", n)) && !startswith(n, "goog")
      ]
    ]))
    error_message = "Topic and subscription names are 3-255 characters: a letter, then letters, digits or - _ . ~ + %; they do not start with 'goog'."
  }
  validation {
    condition = alltrue([
      for t in values(var.topics) : t.max_delivery_attempts >= 5 && t.max_delivery_attempts <= 100
    ])
    error_message = "max_delivery_attempts must be between 5 and 100."
  }
  validation {
    condition = alltrue([
      for t in values(var.topics) : can(regex("^[0-9]+(\\.[0-9]+)?s$", t.message_retention_duration))
    ])
    error_message = "message_retention_duration must be a duration in seconds such as \"604800s\"."
  }
  validation {
    condition = alltrue(flatten([
      for t in values(var.topics) : [
        for s in values(t.subscriptions) : [
          for m in s.subscribers : can(regex("^(serviceAccount|group|user|domain|principal|principalSet):", m))
        ]
      ]
    ]))
    error_message = "Subscription subscribers must be typed IAM members (serviceAccount:, group:, user:, domain:, principal:, principalSet:); allUsers and allAuthenticatedUsers are not allowed."
  }
}

variable "message_storage_regions" {
  description = "Regions where the topics (dead-letter topics included) may store messages (message storage policy); null sets no policy, so Google stores messages in the region nearest the publisher."
  type        = list(string)
  default     = null
  validation {
    condition = var.message_storage_regions == null ? true : (
      length(var.message_storage_regions) > 0 &&
      alltrue([for r in var.message_storage_regions : can(regex("^[a-z]+-[a-z]+[0-9]+$", r))])
    )
    error_message = "message_storage_regions must list at least one region (such as europe-west1); multi-regions such as EU are not Pub/Sub storage locations."
  }
}

variable "pubsub_service_agent" {
  description = "Email of the Pub/Sub service agent of the landing project, once provisioned (the environment module's service_agents output); required when a topic has dead_letter."
  type        = string
  default     = null
}

variable "service_agent_grants" {
  description = "Roles on this source's datasets for the Google service agents that act for its pipelines (the Dataplex agent writing scan results, the DLP agent writing findings), keyed by a stable name: member (serviceAccount:...), role (a predefined role, e.g. roles/bigquery.dataEditor) and dataset (a key of datasets). Each (member, role, dataset) once: the pipelines of the source share these datasets."
  type = map(object({
    member  = string
    role    = string
    dataset = string
  }))
  default  = {}
  nullable = false
  validation {
    condition     = alltrue([for g in values(var.service_agent_grants) : contains(keys(var.datasets), g.dataset)])
    error_message = "Each service_agent_grants entry names a dataset of datasets (a layer key)."
  }
  validation {
    condition     = alltrue([for g in values(var.service_agent_grants) : startswith(g.member, "serviceAccount:")])
    error_message = "service_agent_grants members are service agents: serviceAccount:EMAIL."
  }
}

variable "internal_identity" {
  description = "Internal (processing) service account created by this module; project is a layer key or a project ID."
  type = object({
    account_id   = string
    project      = optional(string, "processing")
    display_name = optional(string)
  })
  nullable = false
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.internal_identity.account_id))
    error_message = "internal_identity.account_id must be 6-30 characters: lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "external_identities" {
  description = "External writers keyed by name: either account_id (a service account created here) or member (an existing IAM member such as serviceAccount:x@y or group:z). description describes a created account (Google allows 256 bytes)."
  type = map(object({
    account_id   = optional(string)
    project      = optional(string, "landing")
    display_name = optional(string)
    description  = optional(string)
    member       = optional(string)
  }))
  default  = {}
  nullable = false
  validation {
    condition = alltrue([
      for e in values(var.external_identities) : (e.account_id == null) != (e.member == null)
    ])
    error_message = "Each external identity sets exactly one of account_id or member."
  }
  validation {
    condition = alltrue([
      for e in values(var.external_identities) :
      e.member == null ? true : can(regex("^(serviceAccount|group|user|domain|principal|principalSet):", e.member))
    ])
    error_message = "member must be a typed IAM member (serviceAccount:, group:, user:, domain:, principal:, principalSet:); allUsers and allAuthenticatedUsers are not allowed."
  }
}

variable "task_service_accounts" {
  description = "Emails of the environment's task service accounts, granted least privilege on this source's buckets and datasets."
  type = object({
    load           = optional(string)
    transformation = optional(string)
    orchestration  = optional(string)
  })
  default  = {}
  nullable = false
}

variable "datasets" {
  description = "The domain's datasets keyed by layer; project is a layer key or a project ID (defaults to the layer's project); iam maps role to members."
  type = map(object({
    dataset_id                  = string
    project                     = optional(string)
    friendly_name               = optional(string)
    description                 = optional(string)
    default_table_expiration_ms = optional(number)
    max_time_travel_hours       = optional(number, 168)
    iam                         = optional(map(list(string)), {})
  }))
  default  = {}
  nullable = false
  validation {
    condition = alltrue([
      for k in keys(var.datasets) :
      contains(["landing", "processing", "curated", "exposure", "orchestration"], k)
    ])
    error_message = "datasets keys must be layer keys: landing, processing, curated, exposure, orchestration."
  }
  validation {
    condition = alltrue([
      # RE2 caps repeat counts at 1000, hence the separate length test.
      for d in values(var.datasets) : can(regex("^[A-Za-z0-9_]+$", d.dataset_id)) && length(d.dataset_id) <= 1024
    ])
    error_message = "dataset_id may hold only letters, digits and underscores (at most 1024 characters)."
  }
  validation {
    condition = alltrue(flatten([
      for d in values(var.datasets) : [
        for role, members in d.iam : [
          !contains(["roles/owner", "roles/editor", "roles/viewer"], role),
          alltrue([for m in members : !contains(["allUsers", "allAuthenticatedUsers"], m)]),
        ]
      ]
    ]))
    error_message = "Dataset IAM may not use primitive roles (owner, editor, viewer) nor allUsers/allAuthenticatedUsers."
  }
}

variable "labels" {
  description = "Labels added to every resource that supports them."
  type        = map(string)
  default     = {}
  nullable    = false
}
