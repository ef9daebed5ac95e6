import concurrent.futures

import pytest
from pydantic import ValidationError

from imgstream.config import Profile, Settings, SignIn

PRODUCTION = {
    "env": "production",
    "secret": "s" * 64,
    "iap_audience": "/projects/1/global/backendServices/2",
    "public_url": "https://photos.example.com/",
    "gcs_bucket": "imgstream-photos",
    "database_url": "postgresql+psycopg://app@/imgstream?host=/cloudsql/p:r:i",
}


def test_development_defaults_to_development_sign_in():
    settings = Settings(_env_file=None)
    assert settings.env is Profile.DEVELOPMENT
    assert settings.sign_in is SignIn.DEVELOPMENT


def test_production_defaults_to_iap_and_a_single_origin():
    settings = Settings(_env_file=None, **PRODUCTION)
    assert settings.sign_in is SignIn.IAP
    assert settings.cors_origins == ["https://photos.example.com"]


@pytest.mark.parametrize(
    "missing", ["secret", "iap_audience", "public_url", "gcs_bucket", "database_url"]
)
def test_production_names_what_is_missing(missing):
    values = {k: v for k, v in PRODUCTION.items() if k != missing}
    with pytest.raises(ValidationError, match=f"IMGSTREAM_{missing.upper()}"):
        Settings(_env_file=None, **values)


@pytest.mark.parametrize(
    ("env", "k_service", "refused"),
    [
        ("development", None, False),
        ("development", "imgstream", True),
        ("staging", None, False),
        ("staging", "imgstream", True),
        ("production", None, True),
        ("production", "imgstream", True),
    ],
)
def test_development_sign_in_refuses_production_and_cloud_run(monkeypatch, env, k_service,
                                                              refused):
    if k_service:
        monkeypatch.setenv("K_SERVICE", k_service)
    values = {**PRODUCTION, "env": env, "sign_in": "development"}
    if refused:
        with pytest.raises(ValidationError, match="Development sign-in"):
            Settings(_env_file=None, **values)
    else:
        assert Settings(_env_file=None, **values).sign_in is SignIn.DEVELOPMENT


def test_production_lists_everything_missing_at_once():
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None, env="production")
    message = str(refused.value)
    for name in ("IMGSTREAM_SECRET", "IMGSTREAM_IAP_AUDIENCE", "IMGSTREAM_GCS_BUCKET",
                 "IMGSTREAM_DATABASE_URL", "IMGSTREAM_PUBLIC_URL"):
        assert name in message


def test_storage_backend_follows_the_bucket():
    assert Settings(_env_file=None).storage_backend.value == "local"
    assert Settings(_env_file=None, gcs_bucket="b").storage_backend.value == "gcs"
    with pytest.raises(ValidationError, match="IMGSTREAM_GCS_BUCKET"):
        Settings(_env_file=None, storage_backend="gcs")


def test_a_service_account_key_file_is_read_from_google_application_credentials(monkeypatch,
                                                                              tmp_path):
    assert Settings(_env_file=None).google_application_credentials is None
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "key.json"))
    assert Settings(_env_file=None).google_application_credentials == tmp_path / "key.json"


def test_development_secret_is_made_once_even_when_threads_race(tmp_path):
    settings = Settings(data_dir=tmp_path / "data")
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        keys = list(pool.map(lambda _: settings.signing_key(), range(64)))
    assert len(set(keys)) == 1 and len(keys[0]) == 64
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["secret.key"]
    assert (tmp_path / "data" / "secret.key").stat().st_mode & 0o777 == 0o600


def test_a22_development_allows_only_its_own_frontend_origin(monkeypatch):
    for name in ("REFLEX_FRONTEND_PORT", "REFLEX_DEPLOY_URL", "IMGSTREAM_FRONTEND_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)
    assert settings.cors_origins == ["http://localhost:3000", "http://127.0.0.1:3000"]
    assert settings.backend_origins == ["http://localhost:8000", "http://127.0.0.1:8000"]


def test_a22_the_frontend_origin_follows_reflex_ports_and_urls(monkeypatch):
    monkeypatch.setenv("REFLEX_FRONTEND_PORT", "4100")
    monkeypatch.setenv("REFLEX_BACKEND_PORT", "4100")
    settings = Settings(_env_file=None)
    assert settings.cors_origins == ["http://localhost:4100", "http://127.0.0.1:4100"]
    assert settings.backend_origins == settings.cors_origins
    monkeypatch.setenv("REFLEX_DEPLOY_URL", "https://Photos.Example.com/app/")
    assert Settings(_env_file=None).cors_origins == ["https://photos.example.com"]


def test_a22_no_profile_allows_every_origin():
    for settings in (Settings(_env_file=None), Settings(_env_file=None, **PRODUCTION)):
        assert "*" not in settings.cors_origins
