"""The Dockerfile passes hadolint and the GitHub workflows pass actionlint."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
WORKFLOWS = ROOT / ".github/workflows"


def test_hadolint_finds_no_warning_in_the_dockerfile():
    done = subprocess.run([str(BIN / "hadolint"), "--failure-threshold", "warning",
                           str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_hadolint_ignore_says_why():
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    for number, line in enumerate(lines):
        if "hadolint ignore=" in line:
            assert lines[number - 1].startswith("#") and "hadolint" not in lines[number - 1], \
                f"line {number + 1}: an ignored rule needs a comment saying why just above it"


def test_the_image_builds_from_a_chosen_base_and_has_one_health_check():
    text = (ROOT / "Dockerfile").read_text()
    assert text.count("ARG BASE_IMAGE=python:3.11-slim") == 1
    assert text.count("HEALTHCHECK") == 1 and "/health" in text
    assert 'ENTRYPOINT ["tini", "--"]' in text
    assert "USER 10001" in text


def test_actionlint_finds_nothing_in_the_workflows():
    done = subprocess.run([str(BIN / "actionlint"), "-no-color"], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_ci_runs_the_readme_test_command_and_deploy_uses_workload_identity():
    ci = (WORKFLOWS / "ci.yml").read_text()
    assert "run: make test\n" in ci
    assert "make test" in (ROOT / "README.md").read_text()
    deploy = (WORKFLOWS / "deploy.yml").read_text()
    assert "id-token: write" in deploy
    assert "workload_identity_provider: ${{ vars.GCP_WORKLOAD_IDENTITY_PROVIDER }}" in deploy
    assert "credentials_json" not in deploy
    assert deploy.index("Migrate the database with the new image") < deploy.index(
        "Deploy to Cloud Run")
