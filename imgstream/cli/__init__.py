"""ImgStream's command line, `imgstream COMMAND`.

`login`, `upload`, `ls` and `download` talk to a running ImgStream over /api/v1 with an API key;
`imgstream admin ...` runs maintenance on the machine that holds the library.
"""

from __future__ import annotations

import importlib

import click

from imgstream.cli import client, credentials
from imgstream.cli.library import download, ls
from imgstream.cli.upload import upload


class _Commands(click.Group):
    """Commands, with `admin` loaded only when asked for.

    The admin commands open the database and storage: loading them for `upload` would only
    slow every run down.
    """

    lazy = {"admin": ("imgstream.cli.admin", "admin_group")}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            module, name = self.lazy[cmd_name]
            return getattr(importlib.import_module(module), name)
        return super().get_command(ctx, cmd_name)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
def imgstream() -> None:
    """Upload to, list and download from an ImgStream library; run its maintenance."""


@imgstream.command()
@click.argument("url")
@click.option("--key", envvar="IMGSTREAM_API_KEY", default=None,
              help="The API key (isk_...); asked for when not given.")
@click.option("--iap-audience", envvar="IMGSTREAM_IAP_CLIENT_ID", default=None,
              metavar="CLIENT_ID",
              help="Behind Cloud IAP: the OAuth client id of IAP, to send an OIDC token for.")
def login(url: str, key: str | None, iap_audience: str | None) -> None:
    """Check an API key against the ImgStream at URL and keep it for the other commands.

    Create a key in ImgStream's Settings (or with `imgstream admin keys create`).
    """
    url = url.rstrip("/")
    if "://" not in url:
        url = f"https://{url}"
    if not key:
        key = click.prompt("API key", hide_input=True, err=True)
    key = key.strip()
    if not key.startswith("isk_"):
        raise click.ClickException("that is not an ImgStream API key (they start with isk_)")
    login = credentials.Credentials(url=url, key=key, iap_audience=iap_audience or None)
    try:
        with client.connect(login) as http:
            me = client.get_json(http, "/api/v1/me")
    except client.ApiError as exc:
        raise click.ClickException(f"login to {url} failed: {exc}") from None
    path = credentials.save(login)
    who = me.get("email") if isinstance(me, dict) else None
    click.echo(f"Logged in to {url} as {who or 'the key owner'}; the key is kept in {path}")


imgstream.add_command(upload)
imgstream.add_command(ls)
imgstream.add_command(download)


def main(argv: list[str] | None = None) -> int:
    """Run one command.

    Args:
        argv: Arguments (default: the process's).

    Returns:
        The exit status.
    """
    try:
        imgstream.main(args=argv, prog_name="imgstream", standalone_mode=True)
    except SystemExit as exit_:
        code = exit_.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0
