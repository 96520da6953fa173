"""The Devanagari web font: served by us from its Python package, without signing in (the sign-in page
shows Hindi too), and declared for Devanagari text on every page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.web_app import build_web_app
from web import fonts


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    web = build_web_app(tmp_path)
    yield TestClient(web.app)
    web.engine.dispose()


def test_the_font_is_served_to_anyone_from_the_installed_package(client: TestClient) -> None:
    resp = client.get(fonts.URL, follow_redirects=False)
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "font/ttf"
    assert resp.content[:4] == b"\x00\x01\x00\x00", "a TrueType font"
    assert len(resp.content) > 100_000 and "max-age" in resp.headers["cache-control"]


def test_pages_declare_it_for_devanagari_text(client: TestClient) -> None:
    page = client.get("/signin?lang=hi").text
    assert "साइन इन करें" in page
    assert f'@font-face {{ font-family: "{fonts.FAMILY}"; src: url("{fonts.URL}")' in page
    assert "unicode-range: U+0900-097F" in page


def test_without_the_package_the_font_is_missing_not_a_server_error(
        client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fonts, "devanagari_font", lambda: None)
    resp = client.get(fonts.URL)
    assert resp.status_code == 404 and fonts.PACKAGE in resp.json()["detail"]
