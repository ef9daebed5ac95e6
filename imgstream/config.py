"""Settings: the one place the app reads its configuration from the environment."""

from __future__ import annotations

import os
import secrets
import tempfile
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Profile(StrEnum):
    """Deployment profile the app runs under."""

    DEVELOPMENT = "development"
    STAGING = "staging"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """ImgStream settings, read from `IMGSTREAM_*` environment variables."""

    model_config = SettingsConfigDict(env_prefix="IMGSTREAM_", env_file=".env", extra="ignore")

    env: Profile = Profile.DEVELOPMENT
    data_dir: Path = Path("data")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; defaults to a SQLite file under data_dir."
    )
    max_upload_bytes: int = Field(default=100_000_000, gt=0)
    thumbnail_size: int = Field(default=400, ge=32, le=4096)
    preview_size: int = Field(default=1440, ge=256, le=8192)
    max_image_pixels: int = Field(default=100_000_000, gt=0)
    secret: str | None = None
    media_url_ttl_seconds: int = Field(default=1800, ge=60)
    dev_user_email: str = "you@imgstream.local"
    default_page_size: int = Field(default=60, ge=1, le=500)

    @model_validator(mode="after")
    def _require_production_values(self) -> Settings:
        if self.env is not Profile.DEVELOPMENT and not self.secret:
            raise ValueError(
                f"IMGSTREAM_SECRET is required in the {self.env} profile "
                "(it signs media URLs; generate one with `openssl rand -hex 32`)."
            )
        return self

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


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
