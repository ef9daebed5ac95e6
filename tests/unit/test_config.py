import concurrent.futures

from imgstream.config import Settings


def test_development_secret_is_made_once_even_when_threads_race(tmp_path):
    settings = Settings(data_dir=tmp_path / "data")
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        keys = list(pool.map(lambda _: settings.signing_key(), range(64)))
    assert len(set(keys)) == 1 and len(keys[0]) == 64
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["secret.key"]
    assert (tmp_path / "data" / "secret.key").stat().st_mode & 0o777 == 0o600
