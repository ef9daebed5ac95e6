output "load_balancer_address" {
  description = "Point the domain's DNS A record at this address."
  value       = module.edge.address
}

output "url" {
  description = "Where the app answers once DNS and the certificate are in place."
  value       = "https://${var.domain}"
}

output "image_repository" {
  description = "Push images here (GitHub variable GCP_IMAGE_REPOSITORY)."
  value       = module.registry.repository_url
}

output "service_name" {
  description = "Cloud Run service (GitHub variable CLOUD_RUN_SERVICE)."
  value       = module.service.service_name
}

output "migration_job" {
  description = "Cloud Run job that migrates the database (GitHub variable CLOUD_RUN_MIGRATION_JOB)."
  value       = module.service.job_name
}

output "service_memory" {
  description = "Memory limit per instance, computed from the worst ingest."
  value       = module.service.memory
}

output "workload_identity_provider" {
  description = "GitHub variable GCP_WORKLOAD_IDENTITY_PROVIDER."
  value       = module.github_deploy.workload_identity_provider
}

output "deployer_service_account" {
  description = "GitHub variable GCP_DEPLOYER_SERVICE_ACCOUNT."
  value       = module.github_deploy.deployer_service_account
}
