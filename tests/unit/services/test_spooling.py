import hashlib

import pytest

from imgstream.presentation import format_bytes
from imgstream.services.filenames import display_name
from imgstream.services.spooling import FileTooLarge, IncomingFile


def test_bytes_are_spooled_and_hashed(tmp_path):
    incoming = IncomingFile(filename="a.jpg", spool_dir=tmp_path, max_bytes=100)
    incoming.write(b"hello ")
    incoming.write(b"world")
    digest = incoming.finish()
    assert digest == hashlib.sha256(b"hello world").hexdigest()
    assert incoming.path.read_bytes() == b"hello world"
    assert incoming.size == 11
    incoming.discard()
    assert list(tmp_path.iterdir()) == []


def test_exactly_at_the_limit_is_accepted(tmp_path):
    incoming = IncomingFile(filename="a.jpg", spool_dir=tmp_path, max_bytes=10)
    incoming.write(b"x" * 10)
    incoming.finish()
    assert incoming.size == 10


def test_limit_is_enforced_while_reading_and_nothing_is_left(tmp_path):
    incoming = IncomingFile(filename="a.jpg", spool_dir=tmp_path, max_bytes=10)
    incoming.write(b"x" * 6)
    with pytest.raises(FileTooLarge, match="10 bytes limit"):
        incoming.write(b"x" * 5)
    assert incoming.too_large
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(FileTooLarge):
        incoming.write(b"x")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("holiday.jpg", "holiday.jpg"),
        ("../../etc/passwd.jpg", "passwd.jpg"),
        ("..\\..\\win.jpg", "win.jpg"),
        ("C:\\x.jpg", "x.jpg"),
        ("a.php\x00.jpg", "a.php.jpg"),
        ("gnp\u202eexe.jpg", "gnpexe.jpg"),
        ("a\u200b.jpg", "a.jpg"),
        ("line\r\nbreak.jpg", "linebreak.jpg"),
        ("cafe\u0301.jpg", "caf\u00e9.jpg"),
        ("..", "photo"),
        ("", "photo"),
    ],
)
def test_display_name(raw, expected):
    assert display_name(raw) == expected


def test_long_names_are_cut_at_a_character_boundary_keeping_the_extension():
    name = display_name("é" * 300 + ".jpeg")
    assert name.endswith(".jpeg")
    assert len(name.encode()) <= 200
    name.encode().decode("utf-8")


@pytest.mark.parametrize(
    ("size", "text"),
    [(0, "0 bytes"), (1, "1 byte"), (999, "999 bytes"), (30_700, "30.7 KB"),
     (100_000_000, "100 MB"), (2_500_000_000, "2.5 GB")],
)
def test_format_bytes(size, text):
    assert format_bytes(size) == text
