import stat

import pytest

from imgstream.cli import credentials
from imgstream.cli.transfer import Journal, Outcome, find_files
from tests import images


def test_folders_give_their_photos_by_content_and_named_files_always_count(tmp_path):
    trip = tmp_path / "trip"
    (trip / "day 1").mkdir(parents=True)
    (trip / ".thumbs").mkdir()
    (trip / "a.jpg").write_bytes(images.jpeg())
    (trip / "photo-without-extension").write_bytes(images.png())
    (trip / "notes.jpg").write_text("not an image, whatever its name")
    (trip / "day 1" / "b.webp").write_bytes(images.webp())
    (trip / ".thumbs" / "c.jpg").write_bytes(images.jpeg())
    named = tmp_path / "odd.txt"
    named.write_text("sent anyway: the server says what is wrong")

    found, left_out = find_files([trip, named, tmp_path / "gone.jpg"], recursive=False)
    assert [f.path.name for f in found] == ["a.jpg", "photo-without-extension", "odd.txt"]
    assert {(o.path.name, o.reason) for o in left_out} == {
        ("notes.jpg", "not a photo ImgStream accepts"), ("gone.jpg", "no such file")}

    deep, _ = find_files([trip, trip / "a.jpg"], recursive=True)
    assert [f.path.name for f in deep] == ["a.jpg", "b.webp", "photo-without-extension"]


def test_the_journal_remembers_a_file_until_it_changes_per_server(tmp_path):
    photo = tmp_path / "a.jpg"
    photo.write_bytes(images.jpeg())
    (file,), _ = find_files([photo], recursive=False)
    path = tmp_path / "state" / "uploads.json"
    journal = Journal("https://photos.example.com/", path)
    journal.record(file, upload_id="u1", chunk_bytes=100)
    journal.record(file, status=Outcome.ADDED.value)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    again = Journal("https://photos.example.com", path)
    assert again.entry(file) == {"size": file.size, "mtime_ns": file.mtime_ns,
                                 "upload_id": "u1", "chunk_bytes": 100, "status": "added"}
    assert Journal("https://other.example.com", path).entry(file) is None
    photo.write_bytes(images.jpeg(size=(90, 90)))
    (changed,), _ = find_files([photo], recursive=False)
    assert again.entry(changed) is None
    again.forget([file])
    assert Journal("https://photos.example.com", path).entries == {}


def test_credentials_are_kept_for_the_owner_alone(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    assert credentials.load() is None
    saved = credentials.save(credentials.Credentials("https://photos.example.com", "isk_x"))
    assert saved == tmp_path / "config" / "imgstream" / "credentials.json"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert stat.S_IMODE(saved.parent.stat().st_mode) == 0o700
    assert credentials.load() == credentials.Credentials("https://photos.example.com", "isk_x")


def test_behind_iap_an_oidc_token_rides_in_proxy_authorization(monkeypatch):
    import httpx

    from imgstream.cli.client import ApiError, ServerAuth

    fetched = []

    def fetch(audience):
        fetched.append(audience)
        return f"oidc-{len(fetched)}"

    seen = []
    transport = httpx.MockTransport(lambda request: (seen.append(request.headers),
                                                     httpx.Response(200))[1])
    login = credentials.Credentials("https://photos.example.com", "isk_k", "iap-client.apps")
    with httpx.Client(auth=ServerAuth(login, fetch), transport=transport,
                      base_url=login.url) as http:
        http.get("/api/v1/me")
        http.get("/api/v1/me")
    assert [h["authorization"] for h in seen] == ["Bearer isk_k"] * 2
    assert [h["proxy-authorization"] for h in seen] == ["Bearer oidc-1"] * 2
    assert fetched == ["iap-client.apps"]

    plain = credentials.Credentials("https://photos.example.com", "isk_k")
    with httpx.Client(auth=ServerAuth(plain, fetch), transport=transport) as http:
        http.get("https://photos.example.com/api/v1/me")
    assert "proxy-authorization" not in seen[-1]

    def broken(_audience):
        raise RuntimeError("no default credentials")

    with httpx.Client(auth=ServerAuth(login, broken), transport=transport) as http, \
            pytest.raises(ApiError, match="cannot get a token for IAP"):
        http.get("https://photos.example.com/api/v1/me")
