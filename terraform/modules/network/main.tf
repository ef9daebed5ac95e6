# A private network for the app: Cloud Run reaches Cloud SQL (private IP) and Memorystore through
# Direct VPC egress, and neither has a public address.

terraform {
  required_providers {
    google = { source = "hashicorp/google", version = ">= 6.20" }
  }
}

variable "project_id" {
  description = "Google Cloud project id."
  type        = string
}

variable "region" {
  description = "Region of the subnet Cloud Run sends private traffic through."
  type        = string
}

variable "name" {
  description = "Prefix of the network's resource names."
  type        = string
}

variable "subnet_cidr" {
  description = "Address range of the subnet Cloud Run instances take addresses from."
  type        = string
}

resource "google_compute_network" "vpc" {
  project                 = var.project_id
  name                    = var.name
  auto_create_subnetworks = false
}

resource "google_compute_subnetwork" "app" {
  project                  = var.project_id
  name                     = "${var.name}-${var.region}"
  region                   = var.region
  network                  = google_compute_network.vpc.id
  ip_cidr_range            = var.subnet_cidr
  private_ip_google_access = true

  log_config {
    aggregation_interval = "INTERVAL_10_MIN"
    flow_sampling        = 0.5
    metadata             = "INCLUDE_ALL_METADATA"
  }
}

# Nothing connects into this network: Cloud Run only sends from it.
resource "google_compute_firewall" "deny_ingress" {
  project       = var.project_id
  name          = "${var.name}-deny-ingress"
  network       = google_compute_network.vpc.id
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

# Cloud SQL's private IP and Memorystore live in Google's producer network, peered to this one.
resource "google_compute_global_address" "services" {
  project       = var.project_id
  name          = "${var.name}-google-services"
  purpose       = "VPC_PEERING"
  address_type  = "INTERNAL"
  prefix_length = 20
  network       = google_compute_network.vpc.id
}

resource "google_service_networking_connection" "services" {
  network                 = google_compute_network.vpc.id
  service                 = "servicenetworking.googleapis.com"
  reserved_peering_ranges = [google_compute_global_address.services.name]
}

output "network_id" {
  description = "The VPC's id."
  value       = google_compute_network.vpc.id
}

output "subnet_id" {
  description = "The subnet Cloud Run uses for Direct VPC egress."
  value       = google_compute_subnetwork.app.id
}

output "services_connection" {
  description = "The private services connection (a dependency of Cloud SQL and Memorystore)."
  value       = google_service_networking_connection.services.id
}
