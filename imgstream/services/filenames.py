"""Photo filenames: the name shown, the key collisions compare, the name a kept-both copy gets."""

from __future__ import annotations

import unicodedata

MAX_FILENAME_BYTES = 200


_BIDI_AND_INVISIBLE = {
    *map(chr, range(0x202A, 0x202F)),
    *map(chr, range(0x2066, 0x206A)),
    "\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\ufeff",
}


def display_name(raw: str) -> str:
    """The filename to show and to compare for collisions.

    A basename without control characters, bidi overrides or zero-width marks, at most 200
    UTF-8 bytes, with its extension kept.
    """
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFC", name)
    name = "".join(
        ch for ch in name
        if ch not in _BIDI_AND_INVISIBLE and unicodedata.category(ch) not in ("Cc", "Cf")
    ).strip()
    if not name or name in (".", ".."):
        return "photo"
    if len(name.encode()) > MAX_FILENAME_BYTES:
        stem, dot, ext = name.rpartition(".")
        if not dot or len(ext) > 10:
            stem, dot, ext = name, "", ""
        budget = MAX_FILENAME_BYTES - len((dot + ext).encode())
        stem = stem.encode()[:budget].decode("utf-8", "ignore")
        name = stem + dot + ext
    return name


def collision_key(name: str) -> str:
    """What two filenames are compared by: NFC, case-folded, `.jpeg` counted as `.jpg`."""
    key = unicodedata.normalize("NFC", name).casefold()
    stem, dot, ext = key.rpartition(".")
    if dot and ext in ("jpeg", "jpe"):
        return f"{stem}.jpg"
    return key


def numbered_name(name: str, number: int) -> str:
    """`name (number).ext`, the name a kept-both photo gets."""
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        return f"{name} ({number})"
    return f"{stem} ({number}).{ext}"

