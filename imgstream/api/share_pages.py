"""The HTML a visitor of a share link gets: plain server-rendered pages, every value escaped."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

STYLE = """
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
 color:#1c2024;background:#fcfcfd}
@media (prefers-color-scheme:dark){body{color:#edeef0;background:#111113}
 .card img{background:#222}.muted{color:#9ba1a6!important}.button{border-color:#3a3f42!important}}
header{display:flex;align-items:center;gap:.75em;padding:.75em 1.5em;
 border-bottom:1px solid rgba(0,0,0,.1)}
header .brand{font-weight:600}
main{max-width:1400px;margin:0 auto;padding:1.5em}
h1{font-size:1.6em;margin:0 0 .2em}
.muted{color:#60646c;font-size:.9em}
.toolbar{display:flex;flex-wrap:wrap;gap:.75em;align-items:center;justify-content:space-between;
 margin-bottom:1.25em}
.button{display:inline-flex;align-items:center;gap:.4em;padding:.45em .9em;border-radius:6px;
 border:1px solid #d9d9e0;text-decoration:none;color:inherit;background:transparent;
 font:inherit;cursor:pointer}
.button.primary{background:#3e63dd;border-color:#3e63dd;color:#fff}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:12px}
@media (max-width:600px){main{padding:1em}.grid{grid-template-columns:repeat(3,1fr);gap:4px}
 header{padding:.75em 1em}}
.card{display:block;aspect-ratio:1;border-radius:8px;overflow:hidden;background-size:cover}
.card img{width:100%;height:100%;object-fit:cover;display:block}
.viewer{display:flex;flex-direction:column;align-items:center;gap:1em}
.viewer .frame{width:100%;display:flex;align-items:center;justify-content:center;gap:.5em}
.viewer img{min-width:0;max-width:calc(100% - 7em);width:auto;height:auto;max-height:78vh;
 border-radius:6px;object-fit:contain}
@media (max-width:600px){.viewer .frame{flex-wrap:wrap}
 .viewer img{order:-1;max-width:100%}.nav{flex:1}}
.nav{min-width:2.6em;justify-content:center}
.nav[aria-disabled=true]{visibility:hidden}
dl{display:grid;grid-template-columns:auto 1fr;gap:.25em 1em;margin:0}
dt{color:#60646c}dd{margin:0}
.box{max-width:26em;margin:12vh auto;text-align:center}
.box input{width:100%;padding:.55em .7em;margin:.75em 0;border-radius:6px;
 border:1px solid #d9d9e0;font:inherit}
.error{color:#ce2c31}
.meta{width:100%;max-width:60em;align-items:flex-start}
.pages{display:flex;gap:.5em;justify-content:center;margin-top:1.5em}
"""

ARROW_KEYS = """
document.addEventListener('keydown', function (e) {
  var link = document.querySelector(e.key === 'ArrowLeft' ? '[data-testid=share-prev]'
    : e.key === 'ArrowRight' ? '[data-testid=share-next]' : null);
  if (link && link.getAttribute('aria-disabled') !== 'true') { link.click(); }
});
"""


def _page(title: str, body: str, *, nonce: str, script: str = "") -> str:
    scripts = f'<script nonce="{nonce}">{script}</script>' if script else ""
    return (
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
        "<meta name=\"robots\" content=\"noindex,nofollow\">"
        f"<title>{escape(title)} · ImgStream</title>"
        f"<style nonce=\"{nonce}\">{STYLE}</style></head><body>"
        "<header><span class=\"brand\">ImgStream</span>"
        "<span class=\"muted\">shared with you</span></header>"
        f"<main>{body}</main>{scripts}</body></html>"
    )


@dataclass(frozen=True, slots=True)
class GridItem:
    """One photo of the shared grid."""

    href: str
    thumbnail_url: str
    filename: str
    placeholder: str


def grid_page(
    *, title: str, subtitle: str, items: list[GridItem], zip_url: str | None, nonce: str,
    previous_url: str | None = None, next_url: str | None = None,
) -> str:
    """The shared photos as a grid of thumbnails, with the ZIP download when allowed."""
    cards = "".join(
        f'<a class="card" data-testid="share-card" href="{escape(item.href)}" '
        f'title="{escape(item.filename)}" data-filename="{escape(item.filename)}">'
        f'<img src="{escape(item.thumbnail_url)}" alt="{escape(item.filename)}" '
        f'loading="lazy"></a>'
        for item in items
    )
    download = (
        f'<a class="button primary" data-testid="share-download-all" href="{escape(zip_url)}" '
        f'download>Download all</a>' if zip_url else ""
    )
    pages = ""
    if previous_url or next_url:
        pages = '<nav class="pages">' + (
            f'<a class="button" href="{escape(previous_url)}">Previous page</a>'
            if previous_url else "") + (
            f'<a class="button" href="{escape(next_url)}">Next page</a>' if next_url else ""
        ) + "</nav>"
    body = (
        f'<div class="toolbar"><div><h1 data-testid="share-title">{escape(title)}</h1>'
        f'<div class="muted" data-testid="share-subtitle">{escape(subtitle)}</div></div>'
        f'{download}</div>'
        + (f'<div class="grid" data-testid="share-grid">{cards}</div>' if items else
           '<p class="muted" data-testid="share-empty">There are no photos here any more.</p>')
        + pages
    )
    return _page(title, body, nonce=nonce)


@dataclass(frozen=True, slots=True)
class ViewerPhoto:
    """One shared photo as the viewer shows it."""

    filename: str
    image_url: str
    width: int
    height: int
    placeholder: str
    details: list[tuple[str, str]]
    download_url: str | None


def viewer_page(
    *, title: str, photo: ViewerPhoto, position: str, back_url: str,
    previous_url: str | None, next_url: str | None, nonce: str,
) -> str:
    """One shared photo large, with previous and next, its details and its download."""

    def nav(url: str | None, label: str, arrow: str, testid: str) -> str:
        if url is None:
            return (f'<a class="button nav" aria-disabled="true" data-testid="{testid}" '
                    f'aria-label="{label}">{arrow}</a>')
        return (f'<a class="button nav" href="{escape(url)}" data-testid="{testid}" '
                f'aria-label="{label}" rel="{"prev" if testid.endswith("prev") else "next"}">'
                f'{arrow}</a>')

    details = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in photo.details)
    download = (
        f'<a class="button primary" data-testid="share-download" '
        f'href="{escape(photo.download_url)}" download>Download</a>'
        if photo.download_url else ""
    )
    body = (
        f'<div class="toolbar"><a class="button" data-testid="share-back" '
        f'href="{escape(back_url)}">← {escape(title)}</a>'
        f'<span class="muted" data-testid="share-position">{escape(position)}</span></div>'
        f'<div class="viewer" data-testid="share-viewer">'
        f'<div class="frame">{nav(previous_url, "Previous photo", "‹", "share-prev")}'
        f'<img data-testid="share-image" src="{escape(photo.image_url)}" '
        f'alt="{escape(photo.filename)}" width="{photo.width}" height="{photo.height}">'
        f'{nav(next_url, "Next photo", "›", "share-next")}</div>'
        f'<div class="toolbar meta">'
        f'<dl data-testid="share-details"><dt>Name</dt><dd>{escape(photo.filename)}</dd>'
        f'{details}</dl>{download}</div></div>'
    )
    return _page(photo.filename, body, nonce=nonce, script=ARROW_KEYS)


def password_page(*, action: str, error: str, nonce: str) -> str:
    """The form a visitor types a link's password into."""
    message = f'<p class="error" data-testid="share-password-error">{escape(error)}</p>' \
        if error else ""
    body = (
        '<div class="box"><h1>This link is protected</h1>'
        '<p class="muted">Type the password you were given with the link.</p>'
        f'<form method="post" action="{escape(action)}">'
        '<input type="password" name="password" autocomplete="current-password" '
        'aria-label="Password" required autofocus data-testid="share-password">'
        f'{message}<button class="button primary" type="submit" '
        'data-testid="share-password-submit">Open</button></form></div>'
    )
    return _page("Protected link", body, nonce=nonce)


def message_page(*, heading: str, text: str, testid: str, nonce: str) -> str:
    """A page that only says something (gone, not found, too many tries)."""
    body = (f'<div class="box" data-testid="{escape(testid)}"><h1>{escape(heading)}</h1>'
            f'<p class="muted">{escape(text)}</p></div>')
    return _page(heading, body, nonce=nonce)
