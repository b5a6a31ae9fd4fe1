"""The ``ebb`` command, driven through Flask's CLI runner against a real database."""

from __future__ import annotations

import json
from pathlib import Path

from backend.instruments import SHIPPED_DIR


def test_create_clinic_and_create_user_make_an_account_that_can_sign_in(app, client):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-clinic", "--name", "North", "--slug", "north"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["create-user", "--clinic", "north", "--email", "a@north.test",
                                 "--role", "admin", "--password", "a long passphrase"])
    assert result.exit_code == 0, result.output
    response = client.post("/api/v1/auth/login",
                           json={"email": "a@north.test", "password": "a long passphrase"})
    assert response.status_code == 200


def test_create_user_refuses_a_weak_password(app):
    runner = app.test_cli_runner()
    runner.invoke(args=["create-clinic", "--name", "North", "--slug", "north"])
    result = runner.invoke(args=["create-user", "--clinic", "north", "--email", "b@north.test",
                                 "--password", "password"])
    assert result.exit_code != 0 and "common" in result.output


def test_seed_demo_json_prints_working_credentials_and_invites(app, client, make_client,
                                                               tmp_path):
    app.instance_path = str(tmp_path)
    result = app.test_cli_runner().invoke(args=["seed-demo", "--json", "--patients", "4",
                                                "--days", "21"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    response = client.post("/api/v1/auth/login", json=data["clinician"])
    assert response.status_code == 200
    patients = client.get("/api/v1/patients").get_json()
    assert len(patients) == 4
    token = data["invites"][0]["url"].split("#", 1)[1]
    assert make_client().post("/api/v1/enroll", json={"token": token}).status_code == 201
    history = client.get(f"/api/v1/patients/{patients[0]['id']}/assessments").get_json()
    assert len(history) > 20


def test_instruments_validate_passes_shipped_files_and_fails_a_bad_one(app, tmp_path: Path):
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["instruments", "validate", str(SHIPPED_DIR)])
    assert ok.exit_code == 0, ok.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("format_version: 1\nid: bad\nsurprise: true\n")
    result = runner.invoke(args=["instruments", "validate", str(bad)])
    assert result.exit_code == 1
    assert "bad.yaml" in result.output
