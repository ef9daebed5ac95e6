"""ImgStream's command line, `imgstream COMMAND`.

`login`, `upload`, `ls` and `download` talk to a running ImgStream over /api/v1 with an API key;
`imgstream admin ...` runs maintenance on the machine that holds the library.
"""

from __future__ import annotations

import click

from imgstream.cli import client, credentials
from imgstream.cli.admin import admin_group
from imgstream.cli.library import download, ls
from imgstream.cli.upload import upload


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def imgstream() -> None:
    """Upload to, list and download from an ImgStream library; run its maintenance."""


@imgstream.command()
@click.argument("url")
@click.option("--key", envvar="IMGSTREAM_API_KEY", default=None,
              help="The API key (isk_...); asked for when not given.")
def login(url: str, key: str | None) -> None:
    """Check an API key against the ImgStream at URL and keep it for the other commands.

    Create a key in ImgStream's Settings (or with `imgstream admin keys create`).
    """
    url = url.rstrip("/")
    if "://" not in url:
        url = f"https://{url}"
    if not key:
        key = click.prompt("API key", hide_input=True, err=True)
    login = credentials.Credentials(url=url, key=key.strip())
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
imgstream.add_command(admin_group)


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
