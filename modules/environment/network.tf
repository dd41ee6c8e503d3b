# Networking for Composer: a local VPC in the orchestration project (subnets with Private
# Google Access and flow logs, deny-by-default firewall with internal traffic allowed, Cloud
# NAT; no SSH rule, there are no VMs), or attachment of the
# orchestration project to a Shared VPC host.

locals {
  local_vpc = var.network != null
  subnets   = try(var.network.subnets, {})
  nat_regions = local.local_vpc && try(var.network.nat, true) ? {
    for r in distinct([for s in values(local.subnets) : s.region]) : r => r
  } : {}
  internal_ranges = flatten([
    for s in values(local.subnets) : concat([s.cidr], values(s.secondary_ranges))
  ])
  composer_subnet_key = local.local_vpc ? coalesce(
    var.composer.subnet,
    try(sort([for k, s in local.subnets : k if s.region == var.region])[0], null),
    "-",
  ) : null

  compute_api = "https://www.googleapis.com/compute/v1"

  # Network and subnet as Composer consumes them (IDs).
  network_id = (
    local.local_vpc ? google_compute_network.this[0].id :
    var.shared_vpc != null ? "projects/${var.shared_vpc.host_project}/global/networks/${var.shared_vpc.network}" : null
  )
  composer_subnet_id = (
    local.local_vpc ? try(google_compute_subnetwork.this[local.composer_subnet_key].id, null) :
    var.shared_vpc != null ? "projects/${var.shared_vpc.host_project}/regions/${var.region}/subnetworks/${var.shared_vpc.subnet}" : null
  )

  # Composer 3 runs its GKE cluster in Google's tenant project: only the Composer agent
  # deploys into the host subnet (https://cloud.google.com/composer/docs/composer-3/configure-shared-vpc),
  # not the GKE and Google APIs agents that Composer 2 needed.
  shared_vpc_network_users = var.shared_vpc == null ? {} : {
    composer = local.service_agents["orchestration"].composer
  }
}

resource "google_compute_network" "this" {
  count                   = local.local_vpc ? 1 : 0
  project                 = local.orchestration_project
  name                    = var.network.name
  auto_create_subnetworks = false
  routing_mode            = "REGIONAL"
  depends_on              = [google_project_service.this]
}

resource "google_compute_subnetwork" "this" {
  for_each                 = local.subnets
  project                  = local.orchestration_project
  name                     = each.key
  region                   = each.value.region
  network                  = google_compute_network.this[0].id
  ip_cidr_range            = each.value.cidr
  private_ip_google_access = true
  # Ranges removed from the input are removed from the subnet too (the provider otherwise
  # keeps the ranges it finds when none are configured).
  send_secondary_ip_range_if_empty = true

  dynamic "secondary_ip_range" {
    for_each = each.value.secondary_ranges
    content {
      range_name    = secondary_ip_range.key
      ip_cidr_range = secondary_ip_range.value
    }
  }

  log_config {
    aggregation_interval = "INTERVAL_5_SEC"
    flow_sampling        = 0.5
    metadata             = "INCLUDE_ALL_METADATA"
  }
}

# Lowest-priority catch-all: anything not allowed below is denied and logged.
resource "google_compute_firewall" "deny_all_ingress" {
  count         = local.local_vpc ? 1 : 0
  project       = local.orchestration_project
  name          = "${var.network.name}-deny-all-ingress"
  network       = google_compute_network.this[0].id
  direction     = "INGRESS"
  priority      = 65534
  source_ranges = ["0.0.0.0/0"]

  deny {
    protocol = "all"
  }

  log_config {
    metadata = "INCLUDE_ALL_METADATA"
  }
}

resource "google_compute_firewall" "allow_internal" {
  count         = local.local_vpc ? 1 : 0
  project       = local.orchestration_project
  name          = "${var.network.name}-allow-internal"
  network       = google_compute_network.this[0].id
  direction     = "INGRESS"
  priority      = 1000
  source_ranges = local.internal_ranges

  allow {
    protocol = "all"
  }

  log_config {
    metadata = "INCLUDE_ALL_METADATA"
  }
}

resource "google_compute_router" "this" {
  for_each = local.nat_regions
  project  = local.orchestration_project
  name     = "${var.network.name}-${each.key}"
  region   = each.key
  network  = google_compute_network.this[0].id
}

resource "google_compute_router_nat" "this" {
  for_each                           = local.nat_regions
  project                            = local.orchestration_project
  name                               = "${var.network.name}-${each.key}"
  region                             = each.key
  router                             = google_compute_router.this[each.key].name
  nat_ip_allocate_option             = "AUTO_ONLY"
  source_subnetwork_ip_ranges_to_nat = "ALL_SUBNETWORKS_ALL_IP_RANGES"

  log_config {
    enable = true
    filter = "ERRORS_ONLY"
  }
}

resource "google_compute_shared_vpc_service_project" "this" {
  count           = var.shared_vpc != null ? 1 : 0
  host_project    = var.shared_vpc.host_project
  service_project = local.orchestration_project
  depends_on      = [google_project_service.this]
}

resource "google_compute_subnetwork_iam_member" "shared_vpc" {
  # iamdoc: who = "the Composer service agent"
  # iamdoc: on = "the Shared VPC subnet"
  for_each   = local.shared_vpc_network_users
  project    = var.shared_vpc.host_project
  region     = var.region
  subnetwork = var.shared_vpc.subnet
  role       = "roles/compute.networkUser"
  member     = each.value
  depends_on = [google_compute_shared_vpc_service_project.this]
}

# Composer's agent also needs the Shared VPC agent role on the host project (additive grant).
resource "google_project_iam_member" "shared_vpc_composer_agent" {
  # iamdoc: who = "the Composer service agent"
  # iamdoc: on = "the Shared VPC host project"
  count      = var.shared_vpc != null ? 1 : 0
  project    = var.shared_vpc.host_project
  role       = "roles/composer.sharedVpcAgent"
  member     = local.service_agents["orchestration"].composer
  depends_on = [google_compute_shared_vpc_service_project.this]
}
