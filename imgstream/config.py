"""Settings: the one place the app reads its configuration from the environment."""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Profile(StrEnum):
    """Deployment profile the app runs under."""

    DEVELOPMENT = "development"
    STAGING = "staging"
    PRODUCTION = "production"


class StorageBackend(StrEnum):
    """Where photo bytes are kept."""

    LOCAL = "local"
    GCS = "gcs"


class LogFormat(StrEnum):
    """How log lines are written."""

    TEXT = "text"
    JSON = "json"


class SignIn(StrEnum):
    """How people sign in."""

    DEVELOPMENT = "development"
    IAP = "iap"


IAP_CERTS_URL = "https://www.gstatic.com/iap/verify/public_key"
MAX_UPLOAD_CHUNK_BYTES = 8 * 1024 * 1024


class Settings(BaseSettings):
    """ImgStream settings, read from `IMGSTREAM_*` environment variables."""

    model_config = SettingsConfigDict(env_prefix="IMGSTREAM_", env_file=".env", extra="ignore")

    env: Profile = Profile.DEVELOPMENT
    data_dir: Path = Path("data")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; defaults to a SQLite file under data_dir."
    )
    max_upload_bytes: int = Field(default=100_000_000, gt=0)
    upload_chunk_bytes: int = Field(
        default=MAX_UPLOAD_CHUNK_BYTES, gt=0, le=MAX_UPLOAD_CHUNK_BYTES,
        description="Largest chunk of a chunked upload, one HTTP request each (Cloud Run "
        "refuses HTTP/1 requests over 32 MiB).",
    )
    upload_expiry_hours: float = Field(
        default=24, gt=0, description="Unfinished uploads not touched for this long are removed."
    )
    upload_sweep_minutes: float = Field(
        default=30, gt=0,
        description="How often the app removes expired uploads and what they left behind.",
    )
    max_open_uploads: int = Field(
        default=500, ge=1,
        description="Unfinished uploads one person may have at once (each counts against the "
        "quota with its announced size until it is finished, cancelled or expired).",
    )
    request_body_seconds: float = Field(
        default=120, gt=0,
        description="Time a client has to send a request body (a chunk of up to "
        "upload_chunk_bytes); slower requests are answered 408 and the chunk is sent again.",
    )
    thumbnail_size: int = Field(default=400, ge=32, le=4096)
    preview_size: int = Field(default=1440, ge=256, le=8192)
    max_image_pixels: int = Field(default=100_000_000, gt=0)
    secret: str | None = None
    media_url_ttl_seconds: int = Field(default=1800, ge=60)
    dev_user_email: str = "you@imgstream.local"
    default_page_size: int = Field(default=60, ge=1, le=500)
    upload_concurrency: int = Field(
        default=3, ge=1, le=16, description="Files a browser tab uploads at once; the rest wait."
    )
    trash_days: int = Field(
        default=30, ge=1, description="Days a photo stays in the trash before it is deleted "
        "forever (by `reconcile --fix` or `empty-expired-trash`)."
    )
    sign_in: SignIn | None = Field(
        default=None,
        description="development or iap; defaults to development sign-in only in the "
        "development profile and to IAP everywhere else.",
    )
    iap_audience: str | None = None
    iap_certs_url: str = IAP_CERTS_URL
    public_url: str | None = Field(
        default=None, description="The origin people use, e.g. https://photos.example.com."
    )
    frontend_url: str | None = Field(
        default=None, validation_alias=AliasChoices("IMGSTREAM_FRONTEND_URL", "REFLEX_DEPLOY_URL"),
        description="Where the frontend is served when no public URL is set (Reflex's "
        "deploy_url); by default http://localhost on the frontend port.",
    )
    frontend_port: int = Field(
        default=3000, validation_alias=AliasChoices("REFLEX_FRONTEND_PORT"),
        description="The frontend port `reflex run` serves on (it sets this itself).",
    )
    api_url: str | None = Field(
        default=None, validation_alias=AliasChoices("IMGSTREAM_API_URL", "REFLEX_API_URL"),
        description="Where the browser reaches the backend (Reflex's api_url); by default "
        "http://localhost on the backend port.",
    )
    backend_port: int = Field(
        default=8000, validation_alias=AliasChoices("REFLEX_BACKEND_PORT"),
        description="The backend port `reflex run` serves on (it sets this itself).",
    )
    storage_emulator_host: str | None = Field(
        default=None, validation_alias=AliasChoices("STORAGE_EMULATOR_HOST"),
        description="A Cloud Storage emulator the browser loads signed URLs from (tests).",
    )
    dev_sign_in_max_age_seconds: int = Field(
        default=7 * 24 * 3600, ge=60,
        description="How long a development sign-in lasts before signing in again.",
    )
    cloud_run_service: str | None = Field(default=None, validation_alias="K_SERVICE")
    storage_backend: StorageBackend | None = Field(
        default=None, description="local or gcs; gcs when a bucket is set."
    )
    gcs_bucket: str | None = None
    google_application_credentials: Path | None = Field(
        default=None, validation_alias="GOOGLE_APPLICATION_CREDENTIALS",
        description="A service-account key file; with it Cloud Storage URLs are signed by that "
        "key (needed with STORAGE_EMULATOR_HOST, whose client is anonymous).",
    )
    db_pool_size: int = Field(default=5, ge=1)
    db_max_overflow: int = Field(default=5, ge=0)
    db_pool_recycle_seconds: int = Field(default=1800, ge=60)
    log_format: LogFormat | None = Field(
        default=None, description="text, or json in Cloud Logging's format; text in the "
        "development profile and json elsewhere."
    )
    log_level: str = Field(default="INFO", pattern="^(DEBUG|INFO|WARNING|ERROR)$")
    gcp_project: str | None = Field(
        default=None, description="Google Cloud project id, for the trace field of JSON logs."
    )
    metrics_token: str | None = Field(
        default=None, min_length=16,
        description="Bearer token a scraper sends to read /metrics; unset, /metrics is off (404).",
    )
    tracing_endpoint: str | None = Field(
        default=None, pattern=r"^https?://",
        description="OTLP/HTTP traces endpoint (an OpenTelemetry collector, or Cloud Trace's "
        "https://telemetry.googleapis.com/v1/traces); unset, the app exports no spans.",
    )
    tracing_sample_ratio: float = Field(
        default=0.1, ge=0.0, le=1.0,
        description="Share of requests traced when tracing is on (a caller's sampled trace "
        "header is followed).",
    )
    redis_url: str | None = Field(
        default=None, validation_alias=AliasChoices("REFLEX_REDIS_URL"),
        description="Reflex's Redis; set, the API's rate limits count there, shared by all "
        "workers and instances.",
    )
    api_rate_per_key: str = Field(
        default="600/minute", pattern=r"^[0-9]+ *(/|per) *[0-9]* *(second|minute|hour|day)s?$",
        description="Requests one API key may make (the `limits` notation, e.g. 600/minute).",
    )
    api_rate_per_person: str = Field(
        default="3000/minute", pattern=r"^[0-9]+ *(/|per) *[0-9]* *(second|minute|hour|day)s?$",
        description="API requests one person may make with all their keys and their browser.",
    )
    api_upload_bytes_per_hour: int = Field(
        default=20 * 1024**3, gt=0,
        description="Bytes of chunks one person may send in any hour.",
    )
    prometheus_multiproc_dir: Path | None = Field(
        default=None, validation_alias="PROMETHEUS_MULTIPROC_DIR",
        description="Where server workers share their metrics (prometheus-client's setting).",
    )

    @model_validator(mode="after")
    def _check_profile(self) -> Settings:
        if self.sign_in is None:
            self.sign_in = SignIn.DEVELOPMENT if self.env is Profile.DEVELOPMENT else SignIn.IAP
        if self.sign_in is SignIn.DEVELOPMENT:
            if self.env is Profile.PRODUCTION:
                raise ValueError(
                    "Development sign-in lets anyone in without a password, so it cannot run "
                    "in the production profile: unset IMGSTREAM_SIGN_IN or set it to iap."
                )
            if self.cloud_run_service:
                raise ValueError(
                    "Development sign-in lets anyone in without a password, so it cannot run on "
                    f"Cloud Run (K_SERVICE={self.cloud_run_service}): use IMGSTREAM_SIGN_IN=iap."
                )
        if self.log_format is None:
            self.log_format = LogFormat.TEXT if self.env is Profile.DEVELOPMENT else LogFormat.JSON
        if self.storage_backend is None:
            self.storage_backend = StorageBackend.GCS if self.gcs_bucket else StorageBackend.LOCAL
        missing = []
        if self.env is Profile.PRODUCTION:
            if not self.gcs_bucket or self.storage_backend is not StorageBackend.GCS:
                missing.append("IMGSTREAM_GCS_BUCKET (photos are kept in Cloud Storage)")
            if not self.database_url:
                missing.append("IMGSTREAM_DATABASE_URL (e.g. postgresql+psycopg://...)")
        elif self.storage_backend is StorageBackend.GCS and not self.gcs_bucket:
            missing.append("IMGSTREAM_GCS_BUCKET (IMGSTREAM_STORAGE_BACKEND is gcs)")
        if self.env is not Profile.DEVELOPMENT and not self.secret:
            missing.append("IMGSTREAM_SECRET (signs media URLs; `openssl rand -hex 32`)")
        if self.env is not Profile.DEVELOPMENT and not self.public_url:
            missing.append("IMGSTREAM_PUBLIC_URL (the origin people open, for CORS)")
        if self.sign_in is SignIn.IAP and not self.iap_audience:
            missing.append("IMGSTREAM_IAP_AUDIENCE (the audience of the IAP JWT)")
        if missing:
            raise ValueError(
                f"The {self.env} profile needs these settings: " + "; ".join(missing)
            )
        return self

    @property
    def cors_origins(self) -> list[str]:
        """Origins allowed to open the app's socket and call its endpoints: the app's own.

        That is the public URL when set, else the frontend's URL; a frontend on a loopback
        name is also reachable under the other one (localhost and 127.0.0.1).
        """
        url = self.public_url or self.frontend_url or f"http://localhost:{self.frontend_port}"
        return _with_loopback_twin(_origin(url))

    @property
    def backend_origins(self) -> list[str]:
        """Origins the browser reaches the backend at (its socket and routes)."""
        if self.public_url and not self.api_url:
            return _with_loopback_twin(_origin(self.public_url))
        return _with_loopback_twin(
            _origin(self.api_url or f"http://localhost:{self.backend_port}")
        )

    @property
    def resolved_database_url(self) -> str:
        """The database URL, with the embedded SQLite default filled in."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'imgstream.db').resolve()}"

    @property
    def photos_dir(self) -> Path:
        """Directory of the local-disk photo store."""
        return self.data_dir / "library"

    @property
    def incoming_dir(self) -> Path:
        """Directory where uploads are spooled while they arrive (same disk as the store)."""
        return self.data_dir / "incoming"

    def signing_key(self) -> bytes:
        """The secret that signs media URLs.

        In development it is generated once and kept under the data dir so URLs survive
        restarts; other profiles must set it explicitly (checked at load).
        """
        if self.secret:
            return self.secret.encode()
        key_file = self.data_dir / "secret.key"
        if not key_file.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            # A unique temporary name (mode 0600): threads of one process may race here too.
            fd, name = tempfile.mkstemp(prefix=".secret.", suffix=".tmp", dir=self.data_dir)
            tmp = Path(name)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
            try:
                # link() is create-only: when two processes race, the first key wins.
                os.link(tmp, key_file)
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        return key_file.read_text().strip().encode()


_LOOPBACK_NAMES = ("localhost", "127.0.0.1")


def _origin(url: str) -> str:
    parts = urlsplit(url.strip())
    return f"{parts.scheme}://{parts.netloc}".lower()


def _with_loopback_twin(origin: str) -> list[str]:
    parts = urlsplit(origin)
    if parts.hostname not in _LOOPBACK_NAMES:
        return [origin]
    port = f":{parts.port}" if parts.port else ""
    twins = [f"{parts.scheme}://{name}{port}" for name in _LOOPBACK_NAMES]
    return [origin, *(twin for twin in twins if twin != origin)]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()


def settings_or_exit() -> Settings:
    """The settings read afresh, or a clear message and exit status 1 when they forbid starting.

    `reflex run` loads rxconfig.py again once it has settled the ports it serves on, before it
    forks its workers; reading the settings again there keeps the app's own origins in step.
    """
    get_settings.cache_clear()
    try:
        return get_settings()
    except ValidationError as exc:
        reasons = "\n".join(f"  - {error['msg'].removeprefix('Value error, ')}"
                            for error in exc.errors())
        sys.stderr.write(f"ImgStream cannot start:\n{reasons}\n")
        raise SystemExit(1) from None
