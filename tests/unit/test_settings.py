"""Settings and generated secrets."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from warroom.settings import AsteriskSettings, Settings, ensure_secrets, load_settings


def test_secrets_generated_once_private_and_stable(tmp_path: Path) -> None:
    first = ensure_secrets(tmp_path)
    assert len(first["ami_secret"]) >= 24 and first["ami_secret"] != first["ari_password"]
    mode = stat.S_IMODE((tmp_path / "secrets.json").stat().st_mode)
    assert mode == 0o600
    assert ensure_secrets(tmp_path) == first


def test_corrupt_secrets_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "secrets.json").write_text("{not json")
    with pytest.raises(RuntimeError, match="secrets.json: unreadable secrets file"):
        ensure_secrets(tmp_path)
    assert (tmp_path / "secrets.json").read_text() == "{not json"  # nothing overwritten


def test_environment_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WARROOM_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("WARROOM_ASTERISK__AMI_PORT", "25038")
    monkeypatch.setenv("WARROOM_ASTERISK__ARI_PASSWORD", "given")
    settings = load_settings()
    assert settings.asterisk.ami_port == 25038
    assert settings.asterisk.ari_password is not None
    assert settings.asterisk.ari_password.get_secret_value() == "given"
    stored = ensure_secrets(tmp_path)
    assert settings.asterisk.ami_secret is not None
    assert settings.asterisk.ami_secret.get_secret_value() == stored["ami_secret"]
    assert settings.resolved_database_url() == f"sqlite:///{tmp_path / 'warroom.db'}"


def test_bad_values_are_rejected_with_the_field_named() -> None:
    with pytest.raises(ValidationError, match="rtp_end"):
        AsteriskSettings(rtp_start=20000, rtp_end=10000)
    with pytest.raises(ValidationError, match="node"):
        AsteriskSettings(node="../etc")
    with pytest.raises(ValidationError, match="lines"):
        Settings.model_validate({"asterisk": {"trunks": [{"name": "lines", "lines": 0}]}})


def test_the_dialer_counts_only_the_configured_trunks(tmp_path: Path) -> None:
    """The sandbox's test trunk (``farm``) is plumbing for one test that originates over AMI: it is no phone
    line, so the dialer neither dials on it nor shows it on the dashboard."""
    from warroom.compose import dialer_config
    from warroom.settings import TrunkSettings

    ast = AsteriskSettings(farm_port=5070, trunks=[TrunkSettings(name="lines", lines=10, inbound_reserved=2)])
    config = dialer_config(Settings(state_dir=tmp_path, asterisk=ast))
    assert [(t.name, t.lines, t.inbound_reserved) for t in config.trunks] == [("lines", 10, 2)]
