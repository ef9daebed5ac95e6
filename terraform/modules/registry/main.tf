# Artifact Registry repository the pipeline pushes the image to and Cloud Run pulls it from.

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
  description = "Region of the repository (the same as Cloud Run's, so pulls stay regional)."
  type        = string
}

variable "name" {
  description = "Repository id."
  type        = string
}

variable "keep_versions" {
  description = "Most recent image versions kept; older untagged ones are deleted."
  type        = number
}

resource "google_artifact_registry_repository" "images" {
  project       = var.project_id
  location      = var.region
  repository_id = var.name
  format        = "DOCKER"
  description   = "ImgStream container images."

  #checkov:skip=CKV_GCP_84:Images hold no secrets and are encrypted with Google-managed keys; a customer-managed key would add a KMS dependency to every pull.

  docker_config {
    immutable_tags = true
  }

  cleanup_policies {
    id     = "keep-recent"
    action = "KEEP"
    most_recent_versions {
      keep_count = var.keep_versions
    }
  }

  cleanup_policies {
    id     = "delete-untagged"
    action = "DELETE"
    condition {
      tag_state = "UNTAGGED"
    }
  }
}

output "repository_url" {
  description = "Where images are pushed: REGION-docker.pkg.dev/PROJECT/REPOSITORY."
  value       = "${var.region}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.images.repository_id}"
}

output "repository_name" {
  description = "The repository's id."
  value       = google_artifact_registry_repository.images.repository_id
}
