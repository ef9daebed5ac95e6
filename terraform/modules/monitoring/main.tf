# Is ImgStream up and fast: an uptime check on /health, alerts on availability, server errors,
# slow answers and failed ingests, and a dashboard. Latency and ingests come from the app's own
# JSON log lines (one per request and per ingest), so open sockets do not count as slow requests.

terraform {
  required_providers {
    google = { source = "hashicorp/google", version = ">= 6.20" }
  }
}

variable "project_id" {
  description = "Google Cloud project id."
  type        = string
}

variable "name" {
  description = "Prefix of monitoring resource names."
  type        = string
}

variable "domain" {
  description = "Domain the uptime check calls https://DOMAIN/health on."
  type        = string
}

variable "service_name" {
  description = "Cloud Run service whose requests and logs are watched."
  type        = string
}

variable "alert_email" {
  description = "Address alerts are sent to."
  type        = string
}

variable "availability_goal" {
  description = "Fraction of uptime checks that must pass over an hour (0.99 is 99 %)."
  type        = number
}

variable "error_ratio_limit" {
  description = "Fraction of requests answered 5xx above which an alert opens (0.05 is 5 %)."
  type        = number
}

variable "latency_p95_limit_seconds" {
  description = "95th percentile of request time (sockets excluded) above which an alert opens."
  type        = number
}

locals {
  run_filter = "resource.type = \"cloud_run_revision\" AND resource.labels.service_name = \"${var.service_name}\""
}

resource "google_monitoring_notification_channel" "email" {
  project      = var.project_id
  display_name = "${var.name} alerts"
  type         = "email"
  labels = {
    email_address = var.alert_email
  }
}

resource "google_monitoring_uptime_check_config" "health" {
  project      = var.project_id
  display_name = "${var.name} /health"
  timeout      = "10s"
  period       = "60s"

  http_check {
    path           = "/health"
    port           = 443
    use_ssl        = true
    validate_ssl   = true
    request_method = "GET"
    accepted_response_status_codes {
      status_value = 200
    }
  }

  monitored_resource {
    type = "uptime_url"
    labels = {
      project_id = var.project_id
      host       = var.domain
    }
  }
}

resource "google_logging_metric" "request_latency" {
  project         = var.project_id
  name            = "${var.name}/request_latency"
  description     = "Seconds per request, from the app's request log lines (sockets excluded)."
  filter          = "${local.run_filter} AND jsonPayload.httpRequest.latency:* AND jsonPayload.route != \"/_event\""
  value_extractor = "REGEXP_EXTRACT(jsonPayload.httpRequest.latency, \"([0-9.]+)s\")"
  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "DISTRIBUTION"
    unit        = "s"
  }
  bucket_options {
    exponential_buckets {
      num_finite_buckets = 40
      growth_factor      = 1.4
      scale              = 0.005
    }
  }
}

resource "google_logging_metric" "ingests" {
  project     = var.project_id
  name        = "${var.name}/ingests"
  description = "Ingests by outcome and format, from the app's ingest log lines."
  filter      = "${local.run_filter} AND jsonPayload.ingest.outcome:*"
  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    labels {
      key        = "outcome"
      value_type = "STRING"
    }
    labels {
      key        = "format"
      value_type = "STRING"
    }
  }
  label_extractors = {
    outcome = "EXTRACT(jsonPayload.ingest.outcome)"
    format  = "EXTRACT(jsonPayload.ingest.format)"
  }
}

resource "google_monitoring_alert_policy" "availability" {
  project               = var.project_id
  display_name          = "${var.name}: availability below ${var.availability_goal * 100} %"
  combiner              = "OR"
  notification_channels = [google_monitoring_notification_channel.email.id]
  conditions {
    display_name = "uptime checks passing"
    condition_threshold {
      filter          = "metric.type = \"monitoring.googleapis.com/uptime_check/check_passed\" AND resource.type = \"uptime_url\" AND metric.labels.check_id = \"${google_monitoring_uptime_check_config.health.uptime_check_id}\""
      comparison      = "COMPARISON_LT"
      threshold_value = var.availability_goal
      duration        = "0s"
      aggregations {
        alignment_period     = "3600s"
        per_series_aligner   = "ALIGN_FRACTION_TRUE"
        cross_series_reducer = "REDUCE_MEAN"
      }
    }
  }
}

resource "google_monitoring_alert_policy" "server_errors" {
  project               = var.project_id
  display_name          = "${var.name}: more than ${var.error_ratio_limit * 100} % of requests fail (5xx)"
  combiner              = "OR"
  notification_channels = [google_monitoring_notification_channel.email.id]
  conditions {
    display_name = "5xx ratio"
    condition_threshold {
      filter             = "metric.type = \"run.googleapis.com/request_count\" AND ${local.run_filter} AND metric.labels.response_code_class = \"5xx\""
      denominator_filter = "metric.type = \"run.googleapis.com/request_count\" AND ${local.run_filter}"
      comparison         = "COMPARISON_GT"
      threshold_value    = var.error_ratio_limit
      duration           = "300s"
      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_RATE"
        cross_series_reducer = "REDUCE_SUM"
      }
      denominator_aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_RATE"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }
}

resource "google_monitoring_alert_policy" "latency" {
  project               = var.project_id
  display_name          = "${var.name}: p95 request time above ${var.latency_p95_limit_seconds} s"
  combiner              = "OR"
  notification_channels = [google_monitoring_notification_channel.email.id]
  conditions {
    display_name = "p95 latency"
    condition_threshold {
      filter          = "metric.type = \"logging.googleapis.com/user/${google_logging_metric.request_latency.name}\" AND resource.type = \"cloud_run_revision\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.latency_p95_limit_seconds
      duration        = "600s"
      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_PERCENTILE_95"
      }
    }
  }
}

resource "google_monitoring_alert_policy" "ingest_failures" {
  project               = var.project_id
  display_name          = "${var.name}: ingests fail"
  combiner              = "OR"
  notification_channels = [google_monitoring_notification_channel.email.id]
  conditions {
    display_name = "ingest errors"
    condition_threshold {
      filter          = "metric.type = \"logging.googleapis.com/user/${google_logging_metric.ingests.name}\" AND resource.type = \"cloud_run_revision\" AND metric.labels.outcome = \"error\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"
      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }
}

resource "google_monitoring_dashboard" "app" {
  project = var.project_id
  dashboard_json = jsonencode({
    displayName = "ImgStream (${var.name})"
    mosaicLayout = {
      columns = 12
      tiles = [
        for index, chart in [
          { title = "Requests by status class", type = "run.googleapis.com/request_count", filter = local.run_filter, aligner = "ALIGN_RATE", reducer = "REDUCE_SUM", group = ["metric.label.response_code_class"] },
          { title = "Request time p95 (s, sockets excluded)", type = "logging.googleapis.com/user/${google_logging_metric.request_latency.name}", filter = "resource.type = \"cloud_run_revision\"", aligner = "ALIGN_DELTA", reducer = "REDUCE_PERCENTILE_95", group = [] },
          { title = "Ingests by outcome", type = "logging.googleapis.com/user/${google_logging_metric.ingests.name}", filter = "resource.type = \"cloud_run_revision\"", aligner = "ALIGN_DELTA", reducer = "REDUCE_SUM", group = ["metric.label.outcome"] },
          { title = "Instances", type = "run.googleapis.com/container/instance_count", filter = local.run_filter, aligner = "ALIGN_MAX", reducer = "REDUCE_SUM", group = ["metric.label.state"] },
          { title = "Memory used (fraction of the limit, p99)", type = "run.googleapis.com/container/memory/utilizations", filter = local.run_filter, aligner = "ALIGN_PERCENTILE_99", reducer = "REDUCE_MAX", group = [] },
          { title = "Uptime checks passing", type = "monitoring.googleapis.com/uptime_check/check_passed", filter = "resource.type = \"uptime_url\" AND metric.labels.check_id = \"${google_monitoring_uptime_check_config.health.uptime_check_id}\"", aligner = "ALIGN_FRACTION_TRUE", reducer = "REDUCE_MEAN", group = [] },
        ] : {
          xPos   = (index % 2) * 6
          yPos   = floor(index / 2) * 4
          width  = 6
          height = 4
          widget = {
            title = chart.title
            xyChart = {
              dataSets = [{
                plotType = "LINE"
                timeSeriesQuery = {
                  timeSeriesFilter = {
                    filter = "metric.type = \"${chart.type}\" AND ${chart.filter}"
                    aggregation = {
                      alignmentPeriod    = "60s"
                      perSeriesAligner   = chart.aligner
                      crossSeriesReducer = chart.reducer
                      groupByFields      = chart.group
                    }
                  }
                }
              }]
            }
          }
        }
      ]
    }
  })
}

output "uptime_check_id" {
  description = "The /health uptime check."
  value       = google_monitoring_uptime_check_config.health.uptime_check_id
}
