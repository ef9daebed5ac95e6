"""`imgstream admin keys ...`: API keys made, listed and revoked on the library's machine.

The same key service as Settings and `/api/v1/keys`; the secret is printed once, when made.
"""

from __future__ import annotations

import sys
import uuid
from datetime import timedelta

import click

from imgstream.cli.output import print_rows
from imgstream.config import get_settings
from imgstream.models import ApiScope, utcnow
from imgstream.runtime import db_session
from imgstream.services import api_keys, identity

SCOPES = [scope.value for scope in ApiScope]


@click.group(name="keys")
def keys_group() -> None:
    """API keys: make, list and revoke someone's keys."""


@keys_group.command(name="create")
@click.option("--user", "email", required=True, metavar="EMAIL",
              help="Whose key (the person is created if new).")
@click.option("--scope", "scopes", multiple=True, required=True, type=click.Choice(SCOPES),
              help="What the key may do; repeat for several.")
@click.option("--name", default="", help="What the key is for (\"laptop backup\").")
@click.option("--expires-in-days", type=click.IntRange(1), default=None,
              help="Days until it stops working (default: never).")
def create_command(email: str, scopes: tuple[str, ...], name: str,
                   expires_in_days: int | None) -> None:
    """Make an API key; its secret is printed now and never again."""
    expires_at = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None
    try:
        with db_session() as session:
            made = api_keys.create_key_for_email(
                session=session, email=email.strip().lower(), scopes=scopes, name=name,
                expires_at=expires_at, page_size=get_settings().default_page_size)
    except api_keys.InvalidKeyRequest as invalid:
        raise click.ClickException(str(invalid)) from None
    click.echo(f"key {made.key.id} for {email} ({', '.join(sorted(scopes))}); "
               "it is shown once:", err=True)
    click.echo(made.token)


@keys_group.command(name="list")
@click.option("--user", "email", required=True, metavar="EMAIL", help="Whose keys.")
def list_command(email: str) -> None:
    """List someone's keys that are not revoked, newest first."""
    with db_session() as session:
        owner = identity.find_user(session=session, email=email.strip().lower())
        keys = [] if owner is None else api_keys.list_keys(session=session, owner_id=owner.id)
    print_rows(["id", "name", "scopes", "created", "expires", "last used"], [
        [str(key.id), key.name, " ".join(sorted(api_keys.scopes_of(key))),
         f"{key.created_at:%Y-%m-%d %H:%M}",
         f"{key.expires_at:%Y-%m-%d}" if key.expires_at else "never",
         f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never"]
        for key in keys])


@keys_group.command(name="revoke")
@click.option("--user", "email", required=True, metavar="EMAIL", help="Whose key.")
@click.argument("key_id", type=click.UUID)
def revoke_command(email: str, key_id: uuid.UUID) -> None:
    """Revoke a key: it stops working at its next request."""
    with db_session() as session:
        owner = identity.find_user(session=session, email=email.strip().lower())
        revoked = owner is not None and api_keys.revoke_key(
            session=session, owner_id=owner.id, key_id=key_id)
    if not revoked:
        click.echo(f"{email} has no key {key_id} (or it is revoked already)", err=True)
        sys.exit(1)
    click.echo(f"key {key_id} revoked")
