# What the GitHub Actions pipeline deploys with: a Workload Identity Federation pool that trusts
# GitHub's OIDC tokens from one repository, and a deployer service account it impersonates.
# No service account key exists anywhere.

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
  description = "Region of the registry and Cloud Run."
  type        = string
}

variable "name" {
  description = "Prefix of the pool and the deployer account."
  type        = string
}

variable "github_owner" {
  description = "Owner (user or organisation) of the only GitHub repository allowed to deploy."
  type        = string
}

variable "github_repository_name" {
  description = "Name of that repository; only its production environment may deploy."
  type        = string
}

variable "repository_name" {
  description = "Artifact Registry repository the pipeline pushes to."
  type        = string
}

variable "runtime_service_account" {
  description = "Email of the service account the service and the job run as."
  type        = string
}

resource "google_iam_workload_identity_pool" "github" {
  project                   = var.project_id
  workload_identity_pool_id = "${var.name}-github"
  display_name              = "GitHub Actions"
}

resource "google_iam_workload_identity_pool_provider" "github" {
  project                            = var.project_id
  workload_identity_pool_id          = google_iam_workload_identity_pool.github.workload_identity_pool_id
  workload_identity_pool_provider_id = "github"
  display_name                       = "GitHub OIDC"
  attribute_mapping = {
    "google.subject"       = "assertion.sub"
    "attribute.repository" = "assertion.repository"
    "attribute.ref"        = "assertion.ref"
  }
  # Only the deploy job of the production environment of that one repository gets in.
  attribute_condition = "assertion.sub == 'repo:${var.github_owner}/${var.github_repository_name}:environment:production'"
  oidc {
    issuer_uri = "https://token.actions.githubusercontent.com"
  }
}

resource "google_service_account" "deployer" {
  project      = var.project_id
  account_id   = "${var.name}-deployer"
  display_name = "ImgStream deploys from GitHub Actions"
}

resource "google_service_account_iam_member" "github_impersonates_deployer" {
  service_account_id = google_service_account.deployer.name
  role               = "roles/iam.workloadIdentityUser"
  member             = "principalSet://iam.googleapis.com/${google_iam_workload_identity_pool.github.name}/attribute.repository/${var.github_owner}/${var.github_repository_name}"
}

resource "google_artifact_registry_repository_iam_member" "push" {
  project    = var.project_id
  location   = var.region
  repository = var.repository_name
  role       = "roles/artifactregistry.writer"
  member     = google_service_account.deployer.member
}

resource "google_project_iam_member" "deploy_run" {
  project = var.project_id
  role    = "roles/run.developer"
  member  = google_service_account.deployer.member
}

# Deploying a revision that runs as the runtime account requires acting as it, on it only.
resource "google_service_account_iam_member" "deployer_acts_as_runtime" {
  service_account_id = "projects/${var.project_id}/serviceAccounts/${var.runtime_service_account}"
  role               = "roles/iam.serviceAccountUser"
  member             = google_service_account.deployer.member
}

output "workload_identity_provider" {
  description = "Full provider name for google-github-actions/auth (GitHub variable GCP_WORKLOAD_IDENTITY_PROVIDER)."
  value       = google_iam_workload_identity_pool_provider.github.name
}

output "deployer_service_account" {
  description = "Email the pipeline impersonates (GitHub variable GCP_DEPLOYER_SERVICE_ACCOUNT)."
  value       = google_service_account.deployer.email
}
