"""APIs: which API serves each resource type, and Google's error when it is disabled.

A resource in a listed project (see :mod:`generator.sandbox.world.projects`) needs the API
that serves it enabled there.
"""

from __future__ import annotations

from generator.sandbox import agents

# The API that serves each resource type, so the one that must be enabled in the
# resource's project. Types served by client-based APIs (Resource Manager, Service Usage,
# Access Context Manager, Org Policy: the quota project is the caller's, not the target)
# are absent and never checked.
# https://cloud.google.com/service-usage/docs/enable-disable ("you must enable an API in
# the project before you can use it"), and per product the "Before you begin" sections.
TYPE_API: dict[str, str] = {
    **dict.fromkeys(
        (
            "google_storage_bucket",
            "google_storage_bucket_iam_member",
            "google_storage_bucket_iam_binding",
            "google_storage_bucket_object",
        ),
        "storage.googleapis.com",
    ),
    **dict.fromkeys(
        (
            "google_bigquery_dataset",
            "google_bigquery_dataset_access",
            "google_bigquery_dataset_iam_member",
            "google_bigquery_dataset_iam_binding",
            "google_bigquery_table",
            "google_bigquery_table_iam_member",
            "google_bigquery_table_iam_binding",
            "google_bigquery_routine",
            "google_bigquery_job",
        ),
        "bigquery.googleapis.com",
    ),
    **dict.fromkeys(
        (
            "google_pubsub_topic",
            "google_pubsub_topic_iam_member",
            "google_pubsub_topic_iam_binding",
            "google_pubsub_subscription",
            "google_pubsub_subscription_iam_member",
        ),
        "pubsub.googleapis.com",
    ),
    **dict.fromkeys(
        (
            "google_kms_key_ring",
            "google_kms_key_ring_iam_member",
            "google_kms_crypto_key",
            "google_kms_crypto_key_iam_member",
            "google_kms_crypto_key_iam_binding",
        ),
        "cloudkms.googleapis.com",
    ),
    **dict.fromkeys(
        (
            "google_compute_network",
            "google_compute_subnetwork",
            "google_compute_subnetwork_iam_member",
            "google_compute_firewall",
            "google_compute_router",
            "google_compute_router_nat",
            "google_compute_route",
            "google_compute_global_address",
            "google_compute_shared_vpc_host_project",
        ),
        "compute.googleapis.com",
    ),
    **dict.fromkeys(
        (
            "google_service_account",
            "google_service_account_iam_member",
            "google_service_account_iam_binding",
            "google_project_iam_custom_role",
            "google_project_default_service_accounts",
        ),
        "iam.googleapis.com",
    ),
    **dict.fromkeys(
        (
            "google_data_catalog_taxonomy",
            "google_data_catalog_taxonomy_iam_member",
            "google_data_catalog_policy_tag",
            "google_data_catalog_policy_tag_iam_member",
        ),
        "datacatalog.googleapis.com",
    ),
    **dict.fromkeys(("google_dataplex_datascan", "google_dataplex_datascan_iam_member"), "dataplex.googleapis.com"),
    **dict.fromkeys(
        ("google_logging_project_sink", "google_logging_metric", "google_logging_project_bucket_config"),
        "logging.googleapis.com",
    ),
    **dict.fromkeys(
        ("google_monitoring_alert_policy", "google_monitoring_notification_channel"), "monitoring.googleapis.com"
    ),
    "google_composer_environment": "composer.googleapis.com",
    **dict.fromkeys(
        ("google_data_loss_prevention_inspect_template", "google_data_loss_prevention_job_trigger"),
        "dlp.googleapis.com",
    ),
    **dict.fromkeys(
        ("google_bigquery_datapolicy_data_policy", "google_bigquery_datapolicy_data_policy_iam_member"),
        "bigquerydatapolicy.googleapis.com",
    ),
    "google_service_networking_connection": "servicenetworking.googleapis.com",
}

# Data sources that call a project's API and so make Google create its agent (GCS
# projects.serviceAccount.get, BigQuery projects.getServiceAccount, Logging
# projects.getSettings): the agent table says which.
DATA_API: dict[str, str] = {
    a.data_source: a.api for a in agents.AGENTS if a.data_source is not None and a.api is not None
}

# Names Google's "API has not been used" error gives the APIs (console titles).
API_TITLES: dict[str, str] = {
    "storage.googleapis.com": "Cloud Storage API",
    "bigquery.googleapis.com": "BigQuery API",
    "pubsub.googleapis.com": "Cloud Pub/Sub API",
    "cloudkms.googleapis.com": "Cloud Key Management Service (KMS) API",
    "compute.googleapis.com": "Compute Engine API",
    "iam.googleapis.com": "Identity and Access Management (IAM) API",
    "datacatalog.googleapis.com": "Google Cloud Data Catalog API",
    "dataplex.googleapis.com": "Cloud Dataplex API",
    "logging.googleapis.com": "Cloud Logging API",
    "monitoring.googleapis.com": "Cloud Monitoring API",
    "composer.googleapis.com": "Cloud Composer API",
    "dlp.googleapis.com": "Sensitive Data Protection (DLP)",
    "servicenetworking.googleapis.com": "Service Networking API",
    "bigquerydatapolicy.googleapis.com": "BigQuery Data Policy API",
}

# A project created through the Resource Manager API (what google_project calls) starts
# with no API enabled. Google's list of default services applies to projects created in
# the console or with gcloud only:
# https://cloud.google.com/service-usage/docs/enabled-service#default ("When you create a
# Google Cloud project using the Google Cloud console or Google Cloud CLI, the following
# APIs and services are enabled by default"); hashicorp/terraform-provider-google#14174
# ("After creating a project no APIs will be enabled").
DEFAULT_SERVICES: tuple[str, ...] = ()

# With auto_create_network = false the provider enables Compute Engine to delete the
# default network and leaves it enabled: website/docs/r/google_project.html.markdown
# (auto_create_network) and resource_google_project.go in hashicorp/terraform-provider-google.
NO_DEFAULT_NETWORK_SERVICES = ("compute.googleapis.com",)


def api_disabled(service: str, number: str) -> str:
    """Google's error for a call to a disabled API."""
    title = API_TITLES.get(service, service)
    return (
        f"Error 403: {title} has not been used in project {number} before or it is disabled. "
        f"Enable it by visiting https://console.developers.google.com/apis/api/{service}/overview"
        f"?project={number} then retry. (sandbox rule: APIs: a project created through the API "
        "starts with none enabled; enable it with google_project_service first)"
    )
