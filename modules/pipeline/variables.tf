variable "name" {
  description = "Pipeline key, used in labels and descriptions (names are passed in explicitly)."
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

variable "datasets" {
  description = "Datasets of the pipeline's data source keyed by layer: { project, dataset_id } (the datasource module's datasets output)."
  type = map(object({
    project    = string
    dataset_id = string
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
}

variable "kms_key" {
  description = "CMEK key ID for the tables; null keeps the dataset default (or Google-managed) encryption."
  type        = string
  default     = null
}

variable "tables" {
  description = "BigQuery tables keyed by table name, or by any unique key when table_id gives the name (so that one name can exist in several layers). schema is a BigQuery JSON schema string (policy tags in policyTags.names); partitioning.type is DAY, HOUR, MONTH or YEAR."
  type = map(object({
    table_id    = optional(string)
    layer       = string
    schema      = string
    description = optional(string)
    partitioning = optional(object({
      field         = optional(string)
      type          = optional(string, "DAY")
      expiration_ms = optional(number)
    }))
    clustering          = optional(list(string))
    deletion_protection = optional(bool, true)
    labels              = optional(map(string), {})
  }))
  default  = {}
  nullable = false
  validation {
    condition = alltrue([
      for t in values(var.tables) :
      contains(["landing", "processing", "curated", "exposure", "orchestration"], t.layer)
    ])
    error_message = "tables[*].layer must be a layer key: landing, processing, curated, exposure, orchestration."
  }
  validation {
    condition = alltrue([
      for t in values(var.tables) :
      t.partitioning == null ? true : contains(["DAY", "HOUR", "MONTH", "YEAR"], t.partitioning.type)
    ])
    error_message = "partitioning.type must be one of DAY, HOUR, MONTH, YEAR."
  }
  validation {
    condition     = alltrue([for t in values(var.tables) : can(jsondecode(t.schema))])
    error_message = "tables[*].schema must be a JSON string (use file() on the schema file)."
  }
  validation {
    condition = alltrue([
      for t in values(var.tables) : t.clustering == null ? true : length(t.clustering) <= 4
    ])
    error_message = "BigQuery allows at most 4 clustering columns."
  }
}

variable "migrations" {
  description = "In-place schema migrations keyed by table key (as in tables): the BigQuery DDL script to run as a query job before the table is changed, its job_id (unique for good; a new script needs a new id) and the job's location (the dataset's)."
  type = map(object({
    layer    = string
    job_id   = string
    location = string
    query    = string
  }))
  default  = {}
  nullable = false
}

variable "views" {
  description = "BigQuery views keyed by view name, in standard SQL; authorized_on lists the layer keys of the datasets the view is authorized to read."
  type = map(object({
    layer               = string
    query               = string
    description         = optional(string)
    authorized_on       = optional(list(string), [])
    deletion_protection = optional(bool, true)
    labels              = optional(map(string), {})
  }))
  default  = {}
  nullable = false
  validation {
    condition = alltrue(flatten([
      for v in values(var.views) : [
        for l in concat([v.layer], v.authorized_on) :
        contains(["landing", "processing", "curated", "exposure", "orchestration"], l)
      ]
    ]))
    error_message = "views[*].layer and authorized_on entries must be layer keys: landing, processing, curated, exposure, orchestration."
  }
}

variable "composer" {
  description = "Composer DAG location, Google-assigned and passed in from the environment stack: bucket name and folder prefix (usually dags)."
  type = object({
    dag_bucket = string
    dag_prefix = optional(string, "dags")
  })
  default = null
}

variable "files" {
  description = "Files uploaded to the Composer DAG folder: object name relative to the DAG folder -> local file path (the rendered DAG and its SQL)."
  type        = map(string)
  default     = {}
  nullable    = false
}

variable "dlp" {
  description = "Optional DLP inspection: an inspect template (project is a layer key or a project ID; min_likelihood is VERY_UNLIKELY, UNLIKELY, POSSIBLE, LIKELY or VERY_LIKELY) and a job trigger per key of tables listed in tables (its trigger ID ends with the key, or with trigger_names[key] for a renamed table, whose trigger keeps its ID), sampling rows_limit rows every recurrence (a duration, at least 86400s) and saving findings to findings_table."
  type = object({
    template_id    = string
    project        = optional(string, "landing")
    location       = optional(string)
    display_name   = optional(string)
    description    = optional(string)
    info_types     = list(string)
    min_likelihood = optional(string, "POSSIBLE")
    include_quote  = optional(bool, false)
    max_findings   = optional(number, 100)
    tables         = optional(list(string), [])
    trigger_names  = optional(map(string), {})
    recurrence     = optional(string, "86400s")
    rows_limit     = optional(number, 10000)
    findings_table = optional(object({
      project    = string
      dataset_id = string
      table_id   = string
    }))
  })
  default = null
  validation {
    condition = var.dlp == null ? true : contains(
      ["VERY_UNLIKELY", "UNLIKELY", "POSSIBLE", "LIKELY", "VERY_LIKELY"], var.dlp.min_likelihood
    )
    error_message = "dlp.min_likelihood must be one of VERY_UNLIKELY, UNLIKELY, POSSIBLE, LIKELY, VERY_LIKELY."
  }
  validation {
    condition     = var.dlp == null ? true : length(var.dlp.info_types) > 0
    error_message = "dlp.info_types must name at least one info type (e.g. EMAIL_ADDRESS)."
  }
  validation {
    condition     = var.dlp == null ? true : can(regex("^[a-zA-Z0-9_-]{1,100}$", var.dlp.template_id))
    error_message = "dlp.template_id may hold only letters, digits, '_' and '-' (at most 100 characters)."
  }
}

variable "data_quality" {
  description = "Dataplex data-quality scans keyed by scan ID. table is a key of tables (or, with layer set, any table of that layer's dataset); schedule is a cron string, null runs on demand (df-gen's DAGs run each scan once the table is written)."
  type = map(object({
    table      = string
    layer      = optional(string)
    location   = string
    project    = optional(string)
    not_null   = optional(list(string), [])
    unique     = optional(list(string), [])
    min_rows   = optional(number)
    schedule   = optional(string)
    threshold  = optional(number, 1)
    row_filter = optional(string)
  }))
  default  = {}
  nullable = false
  validation {
    condition     = alltrue([for k in keys(var.data_quality) : can(regex("^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$", k))])
    error_message = "data_quality keys are scan IDs: lowercase letters, digits and hyphens, starting with a letter, at most 63 characters."
  }
  validation {
    condition     = alltrue([for q in values(var.data_quality) : q.threshold > 0 && q.threshold <= 1])
    error_message = "data_quality[*].threshold must be in (0, 1]."
  }
  validation {
    condition = alltrue([
      for q in values(var.data_quality) :
      length(q.not_null) + length(q.unique) > 0 || q.min_rows != null
    ])
    error_message = "Each data_quality scan needs at least one rule: not_null, unique or min_rows."
  }
}

variable "data_quality_results_table" {
  description = "BigQuery table (projects/P/datasets/D/tables/T) that every scan's job results are exported to; Dataplex creates it. null exports nothing."
  type        = string
  default     = null
  validation {
    condition     = var.data_quality_results_table == null ? true : can(regex("^projects/[^/]+/datasets/[A-Za-z0-9_]+/tables/[A-Za-z0-9_]+$", var.data_quality_results_table))
    error_message = "data_quality_results_table must be projects/PROJECT/datasets/DATASET/tables/TABLE."
  }
}

variable "data_quality_notify" {
  description = "E-mail addresses Dataplex notifies when a scan job fails or a rule does not pass."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "data_quality_runners" {
  description = "IAM members that run the scans and read their results (the DAG's task service account): roles/dataplex.dataScanEditor and roles/dataplex.dataScanDataViewer on each scan."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "service_agent_grants" {
  description = "Roles on the pipeline's tables for the Google service agents that act for it (the DLP agent of the job triggers' project reads each inspected table; the Dataplex agent of a scan in another project reads its table), keyed by a stable name: member (serviceAccount:...), role and table (a key of tables). Write on the results and findings datasets is the data source's (the datasource module's service_agent_grants). Scans and job triggers are created after them."
  type = map(object({
    member = string
    role   = string
    table  = string
  }))
  default  = {}
  nullable = false
  validation {
    condition     = alltrue([for g in values(var.service_agent_grants) : startswith(g.member, "serviceAccount:")])
    error_message = "service_agent_grants members are service agents: serviceAccount:EMAIL."
  }
}

variable "labels" {
  description = "Labels added to every resource that supports them."
  type        = map(string)
  default     = {}
  nullable    = false
}
