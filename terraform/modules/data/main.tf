# Where ImgStream keeps things: photos in Cloud Storage, rows in Cloud SQL PostgreSQL, Reflex
# state in Memorystore (when more than one server process runs), and its secrets in Secret
# Manager. The service account gets only what it needs of each (see the service module).

terraform {
  required_providers {
    google = { source = "hashicorp/google", version = ">= 6.20" }
    random = { source = "hashicorp/random", version = ">= 3.6" }
  }
}

variable "project_id" {
  description = "Google Cloud project id."
  type        = string
}

variable "region" {
  description = "Region of the bucket, the database and Redis (the same as Cloud Run's)."
  type        = string
}

variable "name" {
  description = "Prefix of resource names."
  type        = string
}

variable "bucket_name" {
  description = "Globally unique name of the photo bucket."
  type        = string
}

variable "incoming_days" {
  description = "Days after which chunks of an abandoned upload (objects under incoming/) are deleted."
  type        = number
}

variable "noncurrent_days" {
  description = "Days a replaced or deleted object version is kept before it is removed for good."
  type        = number
}

variable "network_id" {
  description = "VPC the database and Redis get private addresses in."
  type        = string
}

variable "services_connection" {
  description = "The VPC's private services connection; Cloud SQL and Redis wait for it."
  type        = string
}

variable "database_tier" {
  description = "Cloud SQL machine tier, e.g. db-custom-1-3840."
  type        = string
}

variable "database_disk_gb" {
  description = "Initial database disk size in GB (it grows automatically)."
  type        = number
}

variable "database_availability" {
  description = "ZONAL, or REGIONAL for a standby in a second zone."
  type        = string
}

variable "backup_retention_count" {
  description = "Daily database backups kept."
  type        = number
}

variable "log_retention_days" {
  description = "Days of write-ahead log kept for point-in-time recovery (1 to 7)."
  type        = number
}

variable "redis_enabled" {
  description = "Whether to create Memorystore Redis (needed when more than one server process runs)."
  type        = bool
}

variable "redis_memory_gb" {
  description = "Memorystore Redis capacity in GB."
  type        = number
}

variable "deletion_protection" {
  description = "Refuse to destroy the database and keep the bucket's objects on destroy."
  type        = bool
}

resource "google_storage_bucket" "photos" {
  project                     = var.project_id
  name                        = var.bucket_name
  location                    = var.region
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = !var.deletion_protection

  versioning {
    enabled = true
  }

  # Chunks of uploads nobody completed: `imgstream admin reconcile --fix` removes them too, this is the backstop.
  lifecycle_rule {
    condition {
      age            = var.incoming_days
      matches_prefix = ["incoming/"]
    }
    action {
      type = "Delete"
    }
  }

  lifecycle_rule {
    condition {
      days_since_noncurrent_time = var.noncurrent_days
      with_state                 = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  # Browsers load thumbnails and previews straight from signed URLs.
  cors {
    origin          = ["*"]
    method          = ["GET", "HEAD"]
    response_header = ["Content-Type", "Content-Disposition"]
    max_age_seconds = 3600
  }

  #checkov:skip=CKV_GCP_62:Access to objects is recorded by Data Access audit logs (enabled in the environment), not a second logging bucket.
}

resource "google_sql_database_instance" "main" {
  project             = var.project_id
  name                = "${var.name}-postgres"
  region              = var.region
  database_version    = "POSTGRES_18"
  deletion_protection = var.deletion_protection
  depends_on          = [var.services_connection]

  #checkov:skip=CKV_GCP_6:ssl_mode ENCRYPTED_ONLY refuses unencrypted connections; the check only knows the removed require_ssl and client certificates, which the app's driver does not use.

  settings {
    tier              = var.database_tier
    edition           = "ENTERPRISE"
    availability_type = var.database_availability
    disk_size         = var.database_disk_gb
    disk_autoresize   = true

    ip_configuration {
      ipv4_enabled    = false
      private_network = var.network_id
      ssl_mode        = "ENCRYPTED_ONLY"
    }

    backup_configuration {
      enabled                        = true
      start_time                     = "02:00"
      point_in_time_recovery_enabled = true
      transaction_log_retention_days = var.log_retention_days
      backup_retention_settings {
        retained_backups = var.backup_retention_count
      }
    }

    maintenance_window {
      day  = 7
      hour = 3
    }

    insights_config {
      query_insights_enabled = true
    }

    database_flags {
      name  = "log_checkpoints"
      value = "on"
    }
    database_flags {
      name  = "log_connections"
      value = "on"
    }
    database_flags {
      name  = "log_disconnections"
      value = "on"
    }
    database_flags {
      name  = "log_lock_waits"
      value = "on"
    }
    database_flags {
      name  = "log_min_messages"
      value = "error"
    }
    database_flags {
      name  = "log_min_error_statement"
      value = "error"
    }
    database_flags {
      name  = "log_temp_files"
      value = "0"
    }
    database_flags {
      name  = "log_min_duration_statement"
      value = "-1"
    }
    database_flags {
      name  = "log_statement"
      value = "ddl"
    }
    database_flags {
      name  = "log_hostname"
      value = "on"
    }
    database_flags {
      name  = "log_duration"
      value = "on"
    }
    database_flags {
      name  = "cloudsql.enable_pgaudit"
      value = "on"
    }
  }
}

resource "google_sql_database" "imgstream" {
  project  = var.project_id
  instance = google_sql_database_instance.main.name
  name     = "imgstream"
}

resource "random_password" "database" {
  length  = 40
  special = false
}

resource "google_sql_user" "app" {
  project  = var.project_id
  instance = google_sql_database_instance.main.name
  name     = "imgstream"
  password = random_password.database.result
}

resource "google_redis_instance" "state" {
  count              = var.redis_enabled ? 1 : 0
  project            = var.project_id
  name               = "${var.name}-state"
  region             = var.region
  tier               = "STANDARD_HA"
  memory_size_gb     = var.redis_memory_gb
  redis_version      = "REDIS_7_2"
  authorized_network = var.network_id
  connect_mode       = "PRIVATE_SERVICE_ACCESS"
  auth_enabled       = true
  depends_on         = [var.services_connection]

  #checkov:skip=CKV_GCP_97:Reflex takes Redis as a URL and cannot be given Memorystore's server CA; the instance has no public address and requires AUTH.
}

resource "random_password" "app_secret" {
  length  = 64
  special = false
}

resource "random_password" "metrics_token" {
  length  = 40
  special = false
}

locals {
  database_url = "postgresql+psycopg://${google_sql_user.app.name}:${random_password.database.result}@${google_sql_database_instance.main.private_ip_address}:5432/${google_sql_database.imgstream.name}?sslmode=require"
  redis_url    = var.redis_enabled ? "redis://:${google_redis_instance.state[0].auth_string}@${google_redis_instance.state[0].host}:${google_redis_instance.state[0].port}/0" : ""
  secret_names = concat(["app-secret", "database-url", "metrics-token"],
  var.redis_enabled ? ["redis-url"] : [])
  secrets = merge(
    {
      "app-secret"    = random_password.app_secret.result
      "database-url"  = local.database_url
      "metrics-token" = random_password.metrics_token.result
    },
    var.redis_enabled ? { "redis-url" = local.redis_url } : {},
  )
}

resource "google_secret_manager_secret" "app" {
  for_each  = toset(local.secret_names)
  project   = var.project_id
  secret_id = "${var.name}-${each.key}"

  replication {
    auto {}
  }

  #checkov:skip=CKV_GCP_128:Secrets are encrypted with Google-managed keys; a customer-managed key adds a KMS dependency this deployment does not need.
}

resource "google_secret_manager_secret_version" "app" {
  for_each    = google_secret_manager_secret.app
  secret      = each.value.id
  secret_data = local.secrets[each.key]
}

output "bucket_name" {
  description = "The photo bucket."
  value       = google_storage_bucket.photos.name
}

output "database_instance" {
  description = "Cloud SQL instance connection name (PROJECT:REGION:INSTANCE)."
  value       = google_sql_database_instance.main.connection_name
}

output "secret_ids" {
  description = "Secret Manager secret ids by purpose (app-secret, database-url, metrics-token, redis-url)."
  value       = { for key, secret in google_secret_manager_secret.app : key => secret.secret_id }
}
