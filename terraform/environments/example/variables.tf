variable "project_id" {
  description = "Google Cloud project id the app is deployed to."
  type        = string
}

variable "project_number" {
  description = "The project's number (`gcloud projects describe PROJECT --format='value(projectNumber)'`), part of the IAP audience."
  type        = string
}

variable "region" {
  description = "Region of Cloud Run, Cloud SQL, Redis, the bucket and the registry."
  type        = string
  default     = "europe-west1"
}

variable "name" {
  description = "Prefix of every resource name; also the Cloud Run service's name."
  type        = string
  default     = "imgstream"
}

variable "domain" {
  description = "Domain people open, e.g. photos.example.com; a managed certificate is issued for it."
  type        = string
}

variable "iap_members" {
  description = "Who may use the app through IAP: \"user:EMAIL\", \"group:EMAIL\" or \"domain:DOMAIN\"."
  type        = list(string)
}

variable "alert_email" {
  description = "Where alerts are sent."
  type        = string
}

variable "github_repository" {
  description = "GitHub repository (OWNER/NAME) whose main branch may deploy through Workload Identity Federation."
  type        = string
}

variable "image" {
  description = "Image the service and the migration job are created with; later images come from the pipeline."
  type        = string
  default     = "us-docker.pkg.dev/cloudrun/container/hello"
}

variable "bucket_name" {
  description = "Globally unique name of the photo bucket."
  type        = string
}

variable "subnet_cidr" {
  description = "Address range of the subnet Cloud Run uses to reach Cloud SQL and Redis."
  type        = string
  default     = "10.8.0.0/24"
}

variable "cpu" {
  description = "vCPUs per Cloud Run instance; each server process ingests one photo per vCPU at a time."
  type        = number
  default     = 2
}

variable "workers" {
  description = "Server processes per instance (more than one needs Redis, created automatically)."
  type        = number
  default     = 2
}

variable "process_baseline_mib" {
  description = "Resident memory of one idle server process, MiB."
  type        = number
  default     = 320
}

variable "ingest_peak_mib" {
  description = "Extra memory of the worst ingest, MiB: a progressive 18 MP JPEG measured +91.5 MiB RSS while decoding."
  type        = number
  default     = 92
}

variable "max_upload_bytes" {
  description = "Largest photo accepted, bytes (IMGSTREAM_MAX_UPLOAD_BYTES)."
  type        = number
  default     = 100000000
}

variable "memory_headroom" {
  description = "Factor applied over the computed peak memory of an instance."
  type        = number
  default     = 1.5
}

variable "concurrency" {
  description = "Requests one instance takes at once; every open browser tab holds one (its socket)."
  type        = number
  default     = 80
}

variable "min_instances" {
  description = "Instances kept warm (0 lets the service scale to zero, with a cold start of a few seconds)."
  type        = number
  default     = 1
}

variable "max_instances" {
  description = "Most instances; more than one needs Redis (created automatically)."
  type        = number
  default     = 4
}

variable "request_timeout_seconds" {
  description = "Longest request, seconds; a browser's socket reconnects after this long."
  type        = number
  default     = 3600
}

variable "database_tier" {
  description = "Cloud SQL machine tier."
  type        = string
  default     = "db-custom-1-3840"
}

variable "database_disk_gb" {
  description = "Initial database disk, GB (grows automatically)."
  type        = number
  default     = 10
}

variable "database_availability" {
  description = "ZONAL, or REGIONAL for a standby in another zone."
  type        = string
  default     = "REGIONAL"
}

variable "backup_retention_count" {
  description = "Daily database backups kept."
  type        = number
  default     = 14
}

variable "log_retention_days" {
  description = "Days of point-in-time recovery (1 to 7)."
  type        = number
  default     = 7
}

variable "redis_memory_gb" {
  description = "Memorystore Redis size, GB."
  type        = number
  default     = 1
}

variable "incoming_days" {
  description = "Days after which chunks of abandoned uploads are deleted from the bucket."
  type        = number
  default     = 2
}

variable "noncurrent_days" {
  description = "Days a deleted or replaced photo object stays recoverable in the bucket."
  type        = number
  default     = 30
}

variable "registry_keep_versions" {
  description = "Image versions kept in Artifact Registry."
  type        = number
  default     = 20
}

variable "availability_goal" {
  description = "Fraction of passing uptime checks over an hour below which an alert opens."
  type        = number
  default     = 0.99
}

variable "error_ratio_limit" {
  description = "Fraction of 5xx answers above which an alert opens."
  type        = number
  default     = 0.05
}

variable "latency_p95_limit_seconds" {
  description = "p95 request time, seconds, above which an alert opens."
  type        = number
  default     = 2
}

variable "deletion_protection" {
  description = "Protect the database and the photos from `terraform destroy`."
  type        = bool
  default     = true
}
