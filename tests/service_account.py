"""A throwaway service-account key, made per test run, in Google's key-file format."""

from __future__ import annotations

import json
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

EMAIL = "imgstream-test@test-project.iam.gserviceaccount.com"


def key_info(email: str = EMAIL) -> dict[str, str]:
    """A service account's key as Google's JSON key file holds it, with a fresh RSA key."""
    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return {
        "type": "service_account",
        "project_id": "test-project",
        "private_key_id": "0" * 40,
        "private_key": pem.decode(),
        "client_email": email,
        "client_id": "1",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": "https://oauth2.googleapis.com/token",
    }


def write_key_file(path: Path, email: str = EMAIL) -> Path:
    """Write a fresh key file (mode 0600) and return its path."""
    path.write_text(json.dumps(key_info(email)))
    path.chmod(0o600)
    return path
