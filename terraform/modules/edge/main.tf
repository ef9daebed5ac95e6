# The HTTPS load balancer in front of Cloud Run: everything behind Identity-Aware Proxy, except
# share links (/s/*) and the health check, which go to a second backend without IAP. Both
# backends reach the same Cloud Run service; on /s/ the app grants share access and nothing else.

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
  description = "Region of the Cloud Run service."
  type        = string
}

variable "name" {
  description = "Prefix of the load balancer's resource names."
  type        = string
}

variable "service_name" {
  description = "Name of the Cloud Run service both backends send to."
  type        = string
}

variable "domain" {
  description = "Domain people open (its DNS A record must point at the load balancer's address)."
  type        = string
}

variable "iap_members" {
  description = "Who may sign in through IAP, e.g. [\"group:family@example.com\", \"user:ada@example.com\"]."
  type        = list(string)
}

resource "google_compute_global_address" "app" {
  project = var.project_id
  name    = "${var.name}-address"
}

resource "google_compute_managed_ssl_certificate" "app" {
  project = var.project_id
  name    = "${var.name}-certificate"
  managed {
    domains = [var.domain]
  }
}

resource "google_compute_ssl_policy" "modern" {
  project         = var.project_id
  name            = "${var.name}-tls"
  profile         = "RESTRICTED"
  min_tls_version = "TLS_1_2"
}

resource "google_compute_region_network_endpoint_group" "app" {
  project               = var.project_id
  name                  = "${var.name}-run"
  region                = var.region
  network_endpoint_type = "SERVERLESS"
  cloud_run {
    service = var.service_name
  }
}

resource "google_compute_backend_service" "app" {
  project               = var.project_id
  name                  = "${var.name}-app"
  protocol              = "HTTPS"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  # The app's socket is one long request; Cloud Run's own timeout ends it.
  timeout_sec = 3600

  backend {
    group = google_compute_region_network_endpoint_group.app.id
  }

  iap {
    enabled = true
  }

  log_config {
    enable      = true
    sample_rate = 1
  }
}

resource "google_compute_backend_service" "shares" {
  project               = var.project_id
  name                  = "${var.name}-shares"
  protocol              = "HTTPS"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  timeout_sec           = 300

  backend {
    group = google_compute_region_network_endpoint_group.app.id
  }

  # The load balancer's request log would hold every share link's token in its URL. The app
  # logs these requests itself, naming a link only by a hash of its token.
  log_config {
    enable = false
  }
}

resource "google_iap_web_backend_service_iam_member" "people" {
  for_each            = toset(var.iap_members)
  project             = var.project_id
  web_backend_service = google_compute_backend_service.app.name
  role                = "roles/iap.httpsResourceAccessor"
  member              = each.value
}

resource "google_compute_url_map" "app" {
  project         = var.project_id
  name            = "${var.name}-routes"
  default_service = google_compute_backend_service.app.id

  host_rule {
    hosts        = [var.domain]
    path_matcher = "app"
  }

  path_matcher {
    name            = "app"
    default_service = google_compute_backend_service.app.id

    path_rule {
      paths   = ["/s/*", "/health"]
      service = google_compute_backend_service.shares.id
    }
  }
}

resource "google_compute_target_https_proxy" "app" {
  project          = var.project_id
  name             = "${var.name}-https"
  url_map          = google_compute_url_map.app.id
  ssl_certificates = [google_compute_managed_ssl_certificate.app.id]
  ssl_policy       = google_compute_ssl_policy.modern.id
}

resource "google_compute_global_forwarding_rule" "https" {
  project               = var.project_id
  name                  = "${var.name}-https"
  target                = google_compute_target_https_proxy.app.id
  ip_address            = google_compute_global_address.app.address
  port_range            = "443"
  load_balancing_scheme = "EXTERNAL_MANAGED"
}

resource "google_compute_url_map" "to_https" {
  project = var.project_id
  name    = "${var.name}-to-https"
  default_url_redirect {
    https_redirect         = true
    redirect_response_code = "MOVED_PERMANENTLY_DEFAULT"
    strip_query            = false
  }
}

resource "google_compute_target_http_proxy" "to_https" {
  project = var.project_id
  name    = "${var.name}-http"
  url_map = google_compute_url_map.to_https.id
}

resource "google_compute_global_forwarding_rule" "http" {
  project               = var.project_id
  name                  = "${var.name}-http"
  target                = google_compute_target_http_proxy.to_https.id
  ip_address            = google_compute_global_address.app.address
  port_range            = "80"
  load_balancing_scheme = "EXTERNAL_MANAGED"
}

output "address" {
  description = "The load balancer's IP address: point the domain's A record here."
  value       = google_compute_global_address.app.address
}

output "iap_backend_service_id" {
  description = "Numeric id of the IAP backend service, the last part of the IAP audience."
  value       = google_compute_backend_service.app.generated_id
}

output "app_backend_service" {
  description = "Name of the backend service behind IAP."
  value       = google_compute_backend_service.app.name
}
