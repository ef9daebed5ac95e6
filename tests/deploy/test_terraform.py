"""The Terraform under terraform/: it parses, checkov finds nothing, and the app is wired right.

There is no terraform binary here, so the files are read with python-hcl2 and the wiring is
checked against what the app knows: every setting the Cloud Run service is given exists in
`imgstream/config.py`, the production profile starts with exactly those settings, and the
service account may sign its own URLs.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import hcl2
import pytest

from imgstream.config import Settings

ROOT = Path(__file__).resolve().parents[2]
TERRAFORM = ROOT / "terraform"
CHECKOV = "checkov==3.3.30"
# Read by the server or Reflex rather than by ImgStream's settings.
RUNTIME_ENV = {"GRANIAN_WORKERS", "REFLEX_REDIS_URL"}


def unquote(value: Any) -> Any:
    """python-hcl2 keeps the quotes of literal strings and block labels."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


@cache
def parsed(path: Path) -> dict[str, Any]:
    with path.open() as handle:
        return hcl2.load(handle)


def tf_files() -> list[Path]:
    return sorted(TERRAFORM.rglob("*.tf"))


def resources(path: Path, kind: str) -> dict[str, dict[str, Any]]:
    found = {}
    for block in parsed(path).get("resource", []):
        for resource_type, named in block.items():
            if unquote(resource_type) == kind:
                for name, body in named.items():
                    found[unquote(name)] = body
    return found


def module(name: str) -> Path:
    return TERRAFORM / "modules" / name / "main.tf"


def locals_of(path: Path) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for block in parsed(path).get("locals", []):
        merged.update(block)
    return merged


def test_there_are_modules_and_an_example_environment():
    assert len(list((TERRAFORM / "modules").iterdir())) >= 5
    assert (TERRAFORM / "environments/example/terraform.tfvars.example").is_file()


@pytest.mark.parametrize("path", tf_files(), ids=lambda p: str(p.relative_to(TERRAFORM)))
def test_every_file_parses_and_every_variable_and_output_is_described(path):
    document = parsed(path)
    for kind in ("variable", "output"):
        for block in document.get(kind, []):
            for name, body in block.items():
                description = unquote(body.get("description", ""))
                assert len(description) > 10, f"{kind} {name} in {path} has no description"


def test_the_example_values_name_every_variable_without_a_default():
    with (TERRAFORM / "environments/example/terraform.tfvars.example").open() as handle:
        example = hcl2.load(handle)
    variables = parsed(TERRAFORM / "environments/example/variables.tf")["variable"]
    required = {unquote(name) for block in variables for name, body in block.items()
                if "default" not in body}
    assert required and required <= set(example)


def test_checkov_finds_no_failed_check():
    uv = shutil.which("uv") or str(ROOT / ".tools/bin/uv")
    if not Path(uv).exists():
        pytest.fail("uv is needed to run checkov in an environment of its own")
    # checkov pins packaging<24, which Reflex cannot use, so it runs beside the project's venv.
    done = subprocess.run(
        [uv, "tool", "run", "--from", CHECKOV, "checkov", "--directory", str(TERRAFORM),
         "--framework", "terraform", "--skip-download", "--output", "json", "--quiet"],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "UV_PYTHON_DOWNLOADS": "never", "BC_SKIP_MAPPING": "TRUE"},
    )
    report = json.loads(done.stdout)
    summary = report["summary"]
    failed = [(check["check_id"], check["resource"]) for check in
              report["results"].get("failed_checks", [])]
    assert summary["failed"] == 0, failed
    assert summary["passed"] > 40


def test_every_checkov_skip_says_why():
    skips = []
    for path in tf_files():
        skips += re.findall(r"#checkov:skip=([A-Z0-9_]+)(:?)(.*)", path.read_text())
    assert skips
    for check_id, colon, reason in skips:
        assert colon and len(reason.strip()) > 30, f"{check_id} is skipped without a reason"


def service_env() -> dict[str, str]:
    found = locals_of(module("service"))
    plain = {name: unquote(value) for name, value in found["plain_env"].items()
             if not name.startswith("__")}
    secret = {name: f"from secret {unquote(purpose)}"
              for block in ("always_secret_env", "redis_secret_env")
              for name, purpose in found[block].items() if not name.startswith("__")}
    return {**plain, **secret}


def test_every_setting_given_to_the_service_is_one_the_app_knows():
    known = {f"IMGSTREAM_{name.upper()}" for name, field in Settings.model_fields.items()
             if field.validation_alias is None}
    for name in service_env():
        assert name in known or name in RUNTIME_ENV, f"{name} is not a setting of the app"


SAMPLES = {
    "IMGSTREAM_GCS_BUCKET": "photos-bucket",
    "IMGSTREAM_PUBLIC_URL": "https://photos.example.com",
    "IMGSTREAM_IAP_AUDIENCE": "/projects/1/global/backendServices/2",
    "IMGSTREAM_GCP_PROJECT": "photos",
    "IMGSTREAM_MAX_UPLOAD_BYTES": "100000000",
    "IMGSTREAM_SECRET": "s" * 64,
    "IMGSTREAM_DATABASE_URL": "postgresql+psycopg://imgstream:pw@10.0.0.3:5432/imgstream",
    "IMGSTREAM_METRICS_TOKEN": "m" * 40,
}


def settings_from(env: dict[str, str], monkeypatch) -> Settings:
    for name in list(os.environ):
        if name.startswith("IMGSTREAM_") or name == "K_SERVICE":
            monkeypatch.delenv(name)
    for name, value in env.items():
        if name.startswith("IMGSTREAM_"):
            monkeypatch.setenv(name, SAMPLES.get(name, value))
    monkeypatch.setenv("K_SERVICE", "imgstream")
    return Settings(_env_file=None)


def test_the_service_is_given_every_setting_production_requires(monkeypatch):
    env = service_env()
    settings = settings_from(env, monkeypatch)
    assert settings.env == "production"
    assert settings.gcs_bucket and settings.database_url and settings.secret
    assert settings.metrics_token and settings.log_format == "json"


@pytest.mark.parametrize("missing", ["IMGSTREAM_SECRET", "IMGSTREAM_DATABASE_URL",
                                     "IMGSTREAM_GCS_BUCKET", "IMGSTREAM_IAP_AUDIENCE",
                                     "IMGSTREAM_PUBLIC_URL"])
def test_production_would_refuse_to_start_without_each_required_setting(missing, monkeypatch):
    env = {name: value for name, value in service_env().items() if name != missing}
    with pytest.raises(ValueError):
        settings_from(env, monkeypatch)


def test_the_migration_job_gets_the_same_settings_and_runs_migrations():
    text = module("service").read_text()
    job = text[text.index('resource "google_cloud_run_v2_job"'):]
    assert 'args  = ["reflex", "db", "migrate"]' in job
    assert job.count("local.plain_env") == 1 and job.count("local.secret_env") == 1


def test_the_service_account_signs_only_as_itself():
    path = module("service")
    role = resources(path, "google_project_iam_custom_role")["sign_blob"]
    assert [unquote(p) for p in role["permissions"]] == ["iam.serviceAccounts.signBlob"]
    binding = resources(path, "google_service_account_iam_member")["sign_own_urls"]
    assert binding["service_account_id"] == "${google_service_account.app.name}"
    assert binding["member"] == "${google_service_account.app.member}"
    assert binding["role"] == "${google_project_iam_custom_role.sign_blob.id}"
    bucket = resources(path, "google_storage_bucket_iam_member")["photos"]
    assert unquote(bucket["role"]) == "roles/storage.objectUser"
    assert "roles/cloudsql.client" in unquote(
        resources(path, "google_project_iam_member")["sql_client"]["role"])
    # No project-wide storage or owner-like role.
    for grant in resources(path, "google_project_iam_member").values():
        assert unquote(grant["role"]) in {"roles/cloudsql.client"}


def test_cloud_run_probes_health_keeps_sessions_and_sizes_memory_for_the_worst_ingest():
    service = resources(module("service"), "google_cloud_run_v2_service")["app"]
    template = service["template"][0]
    assert template["session_affinity"] is True
    assert unquote(service["ingress"]) == "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"
    container = template["containers"][0]
    for probe in ("startup_probe", "liveness_probe"):
        assert unquote(container[probe][0]["http_get"][0]["path"]) == "/health"
    assert unquote(container["resources"][0]["limits"]["memory"]) == "${local.memory_mib}Mi"
    sizing = locals_of(module("service"))
    assert "var.ingest_peak_mib" in sizing["peak_mib"] and "var.cpu" in sizing["ingest_slots"]
    variables = parsed(TERRAFORM / "environments/example/variables.tf")["variable"]
    peak = next(body for block in variables for name, body in block.items()
                if unquote(name) == "ingest_peak_mib")
    assert peak["default"] >= 91.5


def test_the_bucket_is_private_and_forgets_abandoned_chunks():
    bucket = resources(module("data"), "google_storage_bucket")["photos"]
    assert bucket["uniform_bucket_level_access"] is True
    assert unquote(bucket["public_access_prevention"]) == "enforced"
    prefixes = [unquote(prefix) for rule in bucket["lifecycle_rule"]
                for prefix in rule["condition"][0].get("matches_prefix", [])]
    assert prefixes == ["incoming/"]


def test_the_database_has_backups_point_in_time_recovery_and_no_public_address():
    database = resources(module("data"), "google_sql_database_instance")["main"]
    settings = database["settings"][0]
    backups = settings["backup_configuration"][0]
    assert backups["enabled"] is True and backups["point_in_time_recovery_enabled"] is True
    network = settings["ip_configuration"][0]
    assert network["ipv4_enabled"] is False and network["private_network"]


def test_everything_but_shares_and_health_is_behind_iap():
    edge = module("edge")
    backends = resources(edge, "google_compute_backend_service")
    assert backends["app"]["iap"][0]["enabled"] is True
    assert "iap" not in backends["shares"]
    # Share links' tokens stay out of the load balancer's request log.
    assert backends["shares"]["log_config"][0]["enable"] is False
    url_map = resources(edge, "google_compute_url_map")["app"]
    assert url_map["default_service"] == "${google_compute_backend_service.app.id}"
    (rule,) = url_map["path_matcher"][0]["path_rule"]
    assert [unquote(path) for path in rule["paths"]] == ["/s/*", "/health"]
    assert rule["service"] == "${google_compute_backend_service.shares.id}"


def test_monitoring_watches_health_errors_latency_and_ingests():
    path = module("monitoring")
    assert unquote(resources(path, "google_monitoring_uptime_check_config")["health"]
                   ["http_check"][0]["path"]) == "/health"
    assert set(resources(path, "google_monitoring_alert_policy")) == {
        "availability", "server_errors", "latency", "ingest_failures"}
    assert resources(path, "google_monitoring_dashboard")


def test_the_pipeline_deploys_with_workload_identity_and_no_keys():
    text = "".join(path.read_text() for path in tf_files())
    assert "google_service_account_key" not in text
    provider = resources(module("github_deploy"), "google_iam_workload_identity_pool_provider")
    condition = unquote(provider["github"]["attribute_condition"])
    assert "environment:production" in condition


def test_the_memory_the_readme_quotes_is_what_the_defaults_compute():
    variables = parsed(TERRAFORM / "environments/example/variables.tf")["variable"]
    default = {unquote(name): body.get("default") for block in variables
               for name, body in block.items()}
    upload_mib = math.ceil(default["max_upload_bytes"] / 1048576)
    slots = max(1, default["cpu"] // default["workers"])
    peak = default["workers"] * (default["process_baseline_mib"] + slots * (
        default["ingest_peak_mib"] + upload_mib))
    memory = max(512, math.ceil(peak * default["memory_headroom"] / 256) * 256)
    assert f"{memory} MiB with the defaults" in (ROOT / "README.md").read_text()
