"""A locally generated ES256 key standing in for IAP's, and tokens signed with it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.server
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from google.auth import crypt, jwt

AUDIENCE = "/projects/123456/global/backendServices/987654"
ISSUER = "https://cloud.google.com/iap"


class SigningKey:
    """An EC P-256 key pair with a key id."""

    def __init__(self, kid: str = "test-kid-1"):
        self.kid = kid
        self.private = ec.generate_private_key(ec.SECP256R1())
        self.private_pem = self.private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        self.public_pem = self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def certs(self) -> bytes:
        return json.dumps({self.kid: self.public_pem.decode()}).encode()

    def token(self, *, kid: str | None = None, **overrides) -> str:
        now = int(time.time())
        claims = {
            "iss": ISSUER, "aud": AUDIENCE, "sub": "accounts.google.com:1234",
            "email": "accounts.google.com:ada@example.com", "iat": now, "exp": now + 600,
        }
        claims.update(overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        signer = crypt.ES256Signer.from_string(self.private_pem, key_id=kid or self.kid)
        return jwt.encode(signer, claims).decode()


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned_token(header: dict, claims: dict, signature: bytes = b"") -> str:
    return ".".join([b64(json.dumps(header).encode()), b64(json.dumps(claims).encode()),
                     b64(signature)])


def hs256_token(secret: bytes, header: dict, claims: dict) -> str:
    head = b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
    return head + "." + b64(hmac.new(secret, head.encode(), hashlib.sha256).digest())


@contextmanager
def serving_certs(key: SigningKey) -> Iterator[str]:
    """Serve a key's public certificate where IAP serves its keys; yields the URL."""
    body = key.certs()

    class Certs(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Certs)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/iap/verify/public_key"
    finally:
        server.shutdown()
