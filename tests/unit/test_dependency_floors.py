"""The locked dependencies are at or above the versions that fix their known advisories.

The floors come from the reliability catalogue's known-vulnerability case (Pillow's FITS and GD
decoders, Starlette, cryptography, google-auth's JWK path). The lock file is what the image and
every test run install, so a downgrade there fails here.
"""

from __future__ import annotations

import tomllib
from importlib import metadata

import pytest
from packaging.version import Version

from imgstream.testing import ROOT

FLOORS = {
    "pillow": "12.3.0",  # CVE-2026-40192 (FITS), CVE-2026-55380 (GD)
    "starlette": "1.3.1",  # CVE-2026-54283
    "cryptography": "50.0.0",  # CVE-2026-69247
    "google-auth": "2.37",  # the JWK certificate path
}


def _locked() -> dict[str, Version]:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    return {package["name"]: Version(package["version"]) for package in lock["package"]
            if "version" in package}


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_the_lock_and_the_installed_packages_meet_the_advisory_floors(name):
    locked = _locked()
    assert name in locked, f"{name} is not in uv.lock"
    assert locked[name] >= Version(FLOORS[name]), f"uv.lock pins {name} {locked[name]}"
    assert Version(metadata.version(name)) >= Version(FLOORS[name])

