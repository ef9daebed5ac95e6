"""Where `imgstream login` keeps the server address and API key: the user's config folder.

The file is readable by its owner only (mode 0600), as SSH and cloud CLIs keep their keys.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "imgstream"
FILE_NAME = "credentials.json"


@dataclass(frozen=True, slots=True)
class Credentials:
    """A server and the API key to present to it."""

    url: str
    key: str
    iap_audience: str | None = None
    """The OAuth client id of the IAP in front of the server, when there is one."""


def config_dir() -> Path:
    """The user's ImgStream config folder (XDG_CONFIG_HOME is honoured on Linux)."""
    return Path(platformdirs.user_config_dir(APP_NAME))


def state_dir() -> Path:
    """Where the CLI keeps what it needs to resume uploads (XDG_STATE_HOME on Linux)."""
    return Path(platformdirs.user_state_dir(APP_NAME))


def credentials_path() -> Path:
    """The credentials file."""
    return config_dir() / FILE_NAME


def save(credentials: Credentials) -> Path:
    """Write the credentials, readable by the user alone.

    The file is created with mode 0600 before anything is written to it, so the key is never
    readable by others, not even for a moment.

    Args:
        credentials: What to keep.

    Returns:
        The file written.
    """
    path = credentials_path()
    kept = {"url": credentials.url, "key": credentials.key}
    if credentials.iap_audience:
        kept["iap_audience"] = credentials.iap_audience
    write_private(path, json.dumps(kept, indent=2))
    return path


def load() -> Credentials | None:
    """The saved credentials, or None when the user has not logged in."""
    try:
        data = json.loads(credentials_path().read_text())
    except (OSError, ValueError):
        return None
    url, key, audience = data.get("url"), data.get("key"), data.get("iap_audience")
    if not isinstance(url, str) or not isinstance(key, str):
        return None
    return Credentials(url=url, key=key,
                       iap_audience=audience if isinstance(audience, str) else None)


def write_private(path: Path, text: str) -> None:
    """Replace a file atomically with text only its owner can read.

    Args:
        path: The file.
        text: Its new content.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text)
        os.chmod(partial, 0o600)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
