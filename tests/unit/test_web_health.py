"""/healthz says the truth: 200 only when every component is up."""

from __future__ import annotations

from fastapi.testclient import TestClient

from web.app import ComponentHealth, create_app


def _client(states: dict[str, bool]) -> TestClient:
    async def health() -> dict[str, ComponentHealth]:
        return {k: ComponentHealth(up=v, detail="x") for k, v in states.items()}

    return TestClient(create_app(health=health))


def test_all_up() -> None:
    resp = _client({"ami": True, "ari": True, "db": True}).get("/healthz")
    assert resp.status_code == 200 and resp.json()["status"] == "ok"


def test_one_down_is_503_and_named() -> None:
    resp = _client({"ami": False, "ari": True, "db": True}).get("/healthz")
    assert resp.status_code == 503
    assert resp.json() == {"status": "degraded", "components": {"ami": "degraded", "ari": "ok", "db": "ok"}}
