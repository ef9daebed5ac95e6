# One ImgStream deployment: every module wired together. Copy this directory per environment.

locals {
  apis = [
    "artifactregistry.googleapis.com",
    "compute.googleapis.com",
    "iam.googleapis.com",
    "iamcredentials.googleapis.com",
    "iap.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "redis.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
    "servicenetworking.googleapis.com",
    "sqladmin.googleapis.com",
    "storage.googleapis.com",
    "sts.googleapis.com",
  ]
  # Reflex keeps per-tab state in Redis as soon as two server processes could serve one tab.
  redis_enabled = var.max_instances > 1 || var.workers > 1
}

resource "google_project_service" "apis" {
  for_each           = toset(local.apis)
  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}

# Reads and writes of photo objects are recorded in Cloud Audit Logs.
resource "google_project_iam_audit_config" "storage" {
  project = var.project_id
  service = "storage.googleapis.com"
  audit_log_config {
    log_type = "DATA_READ"
  }
  audit_log_config {
    log_type = "DATA_WRITE"
  }
}

module "network" {
  source      = "../../modules/network"
  project_id  = var.project_id
  region      = var.region
  name        = var.name
  subnet_cidr = var.subnet_cidr
  depends_on  = [google_project_service.apis]
}

module "registry" {
  source        = "../../modules/registry"
  project_id    = var.project_id
  region        = var.region
  name          = var.name
  keep_versions = var.registry_keep_versions
  depends_on    = [google_project_service.apis]
}

module "data" {
  source                 = "../../modules/data"
  project_id             = var.project_id
  region                 = var.region
  name                   = var.name
  bucket_name            = var.bucket_name
  incoming_days          = var.incoming_days
  noncurrent_days        = var.noncurrent_days
  network_id             = module.network.network_id
  services_connection    = module.network.services_connection
  database_tier          = var.database_tier
  database_disk_gb       = var.database_disk_gb
  database_availability  = var.database_availability
  backup_retention_count = var.backup_retention_count
  log_retention_days     = var.log_retention_days
  redis_enabled          = local.redis_enabled
  redis_memory_gb        = var.redis_memory_gb
  deletion_protection    = var.deletion_protection
}

module "edge" {
  source       = "../../modules/edge"
  project_id   = var.project_id
  region       = var.region
  name         = var.name
  service_name = var.name
  domain       = var.domain
  iap_members  = var.iap_members
  depends_on   = [google_project_service.apis]
}

module "service" {
  source                  = "../../modules/service"
  project_id              = var.project_id
  region                  = var.region
  name                    = var.name
  image                   = var.image
  cpu                     = var.cpu
  workers                 = var.workers
  process_baseline_mib    = var.process_baseline_mib
  ingest_peak_mib         = var.ingest_peak_mib
  max_upload_bytes        = var.max_upload_bytes
  memory_headroom         = var.memory_headroom
  concurrency             = var.concurrency
  min_instances           = var.min_instances
  max_instances           = var.max_instances
  request_timeout_seconds = var.request_timeout_seconds
  network_id              = module.network.network_id
  subnet_id               = module.network.subnet_id
  bucket_name             = module.data.bucket_name
  database_instance       = module.data.database_instance
  secret_ids              = module.data.secret_ids
  public_url              = "https://${var.domain}"
  iap_audience            = "/projects/${var.project_number}/global/backendServices/${module.edge.iap_backend_service_id}"
}

module "monitoring" {
  source                    = "../../modules/monitoring"
  project_id                = var.project_id
  name                      = var.name
  domain                    = var.domain
  service_name              = module.service.service_name
  alert_email               = var.alert_email
  availability_goal         = var.availability_goal
  error_ratio_limit         = var.error_ratio_limit
  latency_p95_limit_seconds = var.latency_p95_limit_seconds
}

module "github_deploy" {
  source                  = "../../modules/github_deploy"
  project_id              = var.project_id
  region                  = var.region
  name                    = var.name
  github_owner            = split("/", var.github_repository)[0]
  github_repository_name  = split("/", var.github_repository)[1]
  repository_name         = module.registry.repository_name
  runtime_service_account = module.service.service_account_email
}
