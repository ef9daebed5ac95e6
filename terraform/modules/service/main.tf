# The Cloud Run service that serves ImgStream, the Cloud Run job that migrates its database, and
# the service account both run as, with only the permissions they use.

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
  description = "Cloud Run region."
  type        = string
}

variable "name" {
  description = "Name of the service, the job (NAME-migrate) and the service account."
  type        = string
}

variable "image" {
  description = "Image the service and the job start with; the pipeline deploys later ones."
  type        = string
}

variable "cpu" {
  description = "vCPUs per instance; ImgStream runs one ingest per vCPU in each server process."
  type        = number
}

variable "workers" {
  description = "Server processes per instance (GRANIAN_WORKERS); more than one needs Redis."
  type        = number
}

variable "process_baseline_mib" {
  description = "Resident memory of one idle server process (the app, Reflex, image libraries)."
  type        = number
}

variable "ingest_peak_mib" {
  description = "Extra memory of the worst ingest: a progressive 18 MP JPEG measured +91.5 MiB RSS while decoding."
  type        = number
}

variable "max_upload_bytes" {
  description = "Largest photo accepted (IMGSTREAM_MAX_UPLOAD_BYTES); it is spooled to the in-memory disk while ingested."
  type        = number
}

variable "memory_headroom" {
  description = "Factor over the computed peak memory (fragmentation, sockets, bursts)."
  type        = number
}

variable "concurrency" {
  description = "Requests (open sockets included) one instance takes at once."
  type        = number
}

variable "min_instances" {
  description = "Instances kept warm."
  type        = number
}

variable "max_instances" {
  description = "Most instances Cloud Run starts."
  type        = number
}

variable "request_timeout_seconds" {
  description = "Longest request; the app's socket is one request, so this is how long a socket lives before it reconnects."
  type        = number
}

variable "network_id" {
  description = "VPC for Direct VPC egress to Cloud SQL and Redis."
  type        = string
}

variable "subnet_id" {
  description = "Subnet instances take private addresses from."
  type        = string
}

variable "bucket_name" {
  description = "The photo bucket."
  type        = string
}

variable "database_instance" {
  description = "Cloud SQL connection name (PROJECT:REGION:INSTANCE)."
  type        = string
}

variable "secret_ids" {
  description = "Secret Manager secret ids by purpose: app-secret, database-url, metrics-token and, with Redis, redis-url."
  type        = map(string)
}

variable "public_url" {
  description = "The origin people open, e.g. https://photos.example.com."
  type        = string
}

variable "iap_audience" {
  description = "Audience of the IAP JWT: /projects/NUMBER/global/backendServices/ID."
  type        = string
}

locals {
  # Each server process holds the app and, per ingest slot (its share of the vCPUs, one at
  # least), the worst decode plus the photo spooled to Cloud Run's in-memory disk.
  upload_mib     = ceil(var.max_upload_bytes / 1048576)
  ingest_slots   = max(1, floor(var.cpu / var.workers))
  peak_mib       = var.workers * (var.process_baseline_mib + local.ingest_slots * (var.ingest_peak_mib + local.upload_mib))
  memory_mib     = max(512, ceil(local.peak_mib * var.memory_headroom / 256) * 256)
  redis          = contains(keys(var.secret_ids), "redis-url")
  plain_env = {
    IMGSTREAM_ENV              = "production"
    IMGSTREAM_SIGN_IN          = "iap"
    IMGSTREAM_GCS_BUCKET       = var.bucket_name
    IMGSTREAM_PUBLIC_URL       = var.public_url
    IMGSTREAM_IAP_AUDIENCE     = var.iap_audience
    IMGSTREAM_GCP_PROJECT      = var.project_id
    IMGSTREAM_LOG_FORMAT       = "json"
    IMGSTREAM_MAX_UPLOAD_BYTES = tostring(var.max_upload_bytes)
    GRANIAN_WORKERS            = tostring(var.workers)
  }
  # Settings read from Secret Manager: environment variable -> secret purpose.
  always_secret_env = {
    IMGSTREAM_SECRET        = "app-secret"
    IMGSTREAM_DATABASE_URL  = "database-url"
    IMGSTREAM_METRICS_TOKEN = "metrics-token"
  }
  redis_secret_env = {
    REFLEX_REDIS_URL = "redis-url"
  }
  secret_env = merge(local.always_secret_env, local.redis ? local.redis_secret_env : {})
}

resource "google_service_account" "app" {
  project      = var.project_id
  account_id   = var.name
  display_name = "ImgStream server and migrations"
}

resource "google_storage_bucket_iam_member" "photos" {
  bucket = var.bucket_name
  role   = "roles/storage.objectUser"
  member = google_service_account.app.member
}

resource "google_project_iam_member" "sql_client" {
  project = var.project_id
  role    = "roles/cloudsql.client"
  member  = google_service_account.app.member
}

# Signed URLs are signed by IAM with the service account's own key: signBlob on itself only.
resource "google_project_iam_custom_role" "sign_blob" {
  project     = var.project_id
  role_id     = "${replace(var.name, "-", "_")}_sign_blob"
  title       = "ImgStream signs its media URLs"
  permissions = ["iam.serviceAccounts.signBlob"]
}

resource "google_service_account_iam_member" "sign_own_urls" {
  service_account_id = google_service_account.app.name
  role               = google_project_iam_custom_role.sign_blob.id
  member             = google_service_account.app.member
}

resource "google_secret_manager_secret_iam_member" "read" {
  for_each  = var.secret_ids
  project   = var.project_id
  secret_id = each.value
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.app.member
}

resource "google_cloud_run_v2_service" "app" {
  project              = var.project_id
  name                 = var.name
  location             = var.region
  ingress              = "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"
  invoker_iam_disabled = true
  deletion_protection  = false

  template {
    service_account                  = google_service_account.app.email
    execution_environment            = "EXECUTION_ENVIRONMENT_GEN2"
    max_instance_request_concurrency = var.concurrency
    timeout                          = "${var.request_timeout_seconds}s"
    session_affinity                 = true

    scaling {
      min_instance_count = var.min_instances
      max_instance_count = var.max_instances
    }

    vpc_access {
      egress = "PRIVATE_RANGES_ONLY"
      network_interfaces {
        network    = var.network_id
        subnetwork = var.subnet_id
      }
    }

    containers {
      image = var.image

      ports {
        container_port = 8080
      }

      resources {
        limits = {
          cpu    = tostring(var.cpu)
          memory = "${local.memory_mib}Mi"
        }
        cpu_idle          = true
        startup_cpu_boost = true
      }

      dynamic "env" {
        for_each = local.plain_env
        content {
          name  = env.key
          value = env.value
        }
      }

      dynamic "env" {
        for_each = local.secret_env
        content {
          name = env.key
          value_source {
            secret_key_ref {
              secret  = var.secret_ids[env.value]
              version = "latest"
            }
          }
        }
      }

      startup_probe {
        http_get {
          path = "/health"
        }
        period_seconds    = 3
        timeout_seconds   = 3
        failure_threshold = 20
      }

      liveness_probe {
        http_get {
          path = "/health"
        }
        period_seconds    = 30
        timeout_seconds   = 6
        failure_threshold = 3
      }
    }
  }

  # The pipeline deploys each new image; Terraform owns everything else.
  lifecycle {
    ignore_changes = [template[0].containers[0].image, client, client_version]
  }

  depends_on = [google_secret_manager_secret_iam_member.read]
}

resource "google_cloud_run_v2_job" "migrate" {
  project             = var.project_id
  name                = "${var.name}-migrate"
  location            = var.region
  deletion_protection = false

  template {
    task_count = 1
    template {
      service_account = google_service_account.app.email
      max_retries     = 1
      timeout         = "900s"

      vpc_access {
        egress = "PRIVATE_RANGES_ONLY"
        network_interfaces {
          network    = var.network_id
          subnetwork = var.subnet_id
        }
      }

      containers {
        image = var.image
        args  = ["reflex", "db", "migrate"]

        resources {
          limits = {
            cpu    = "1"
            memory = "1024Mi"
          }
        }

        dynamic "env" {
          for_each = local.plain_env
          content {
            name  = env.key
            value = env.value
          }
        }

        dynamic "env" {
          for_each = local.secret_env
          content {
            name = env.key
            value_source {
              secret_key_ref {
                secret  = var.secret_ids[env.value]
                version = "latest"
              }
            }
          }
        }
      }
    }
  }

  lifecycle {
    ignore_changes = [template[0].template[0].containers[0].image, client, client_version]
  }

  depends_on = [google_secret_manager_secret_iam_member.read]
}

output "service_name" {
  description = "The Cloud Run service."
  value       = google_cloud_run_v2_service.app.name
}

output "job_name" {
  description = "The migration job (run it before shifting traffic to a new image)."
  value       = google_cloud_run_v2_job.migrate.name
}

output "service_account_email" {
  description = "The service account the service and the job run as."
  value       = google_service_account.app.email
}

output "memory" {
  description = "Memory limit computed from the ingest peak, the workers and the vCPUs."
  value       = "${local.memory_mib}Mi"
}
