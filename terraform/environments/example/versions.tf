terraform {
  required_version = ">= 1.6"
  required_providers {
    google = { source = "hashicorp/google", version = ">= 6.20, < 8" }
    random = { source = "hashicorp/random", version = ">= 3.6" }
  }
  # State belongs in a bucket of its own, made once by hand (see README, "Deploy to Google Cloud").
  backend "gcs" {
    prefix = "imgstream/example"
  }
}

provider "google" {
  project = var.project_id
  region  = var.region
}
