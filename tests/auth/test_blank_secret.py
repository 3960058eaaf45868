"""A blank or whitespace SECRET_KEY is treated as unset (issue 14, item 7).

Unset makes a random key per start with a warning (docs/decisions.md Q6); a key of only spaces,
tabs or newlines is no secret at all (anyone can sign with it), so it takes the same path
and the operator is told it was ignored.
"""

from __future__ import annotations

import logging

import pytest

from autosubmit_api.app import create_app
from autosubmit_api.auth import issue_token, startup_warnings
from autosubmit_api.config import load_settings


@pytest.mark.parametrize("blank", [" ", "   ", "\t", "\n", " \t \n"])
def test_a_blank_secret_is_replaced_by_a_random_key(tmp_path, blank):
    settings = load_settings({"HOME": str(tmp_path), "SECRET_KEY": blank}, dotenv=False)
    assert settings.secret_key.strip() and settings.secret_key != blank
    assert len(settings.secret_key) >= 32
    assert settings.secret_key_generated and settings.secret_key_blank


def test_an_empty_secret_is_plain_unset(tmp_path):
    settings = load_settings({"HOME": str(tmp_path), "SECRET_KEY": ""}, dotenv=False)
    assert settings.secret_key_generated and not settings.secret_key_blank


def test_a_token_signed_with_the_blank_key_is_refused(site):
    settings = site.settings({"PROTECTION_LEVEL": "ALL", "SECRET_KEY": " "})
    client = create_app(settings).test_client()
    forged = issue_token("mallory", " ", 3600)
    answer = client.get("/v4/experiments", headers={"Authorization": forged})
    assert answer.status_code == 401
    assert answer.get_json() == {"error": True, "error_message": "Unauthorized"}
    legacy = client.get("/tokentest", headers={"Authorization": forged})
    assert legacy.status_code == 401 and legacy.get_json()["isValid"] is False


def test_a_blank_secret_is_named_in_the_startup_warnings(site, caplog):
    settings = site.settings({"PROTECTION_LEVEL": "ALL", "SECRET_KEY": "  "})
    warnings = startup_warnings(settings)
    assert any("SECRET_KEY is blank" in w for w in warnings)
    assert any("SECRET_KEY is not set" in w for w in warnings)
    assert not any("shorter than 32 bytes" in w for w in warnings)
    with caplog.at_level(logging.WARNING, logger="autosubmit_api.app"):
        create_app(settings)
    assert "SECRET_KEY is blank" in caplog.text


def test_a_short_real_key_still_only_warns(site):
    settings = site.settings({"PROTECTION_LEVEL": "ALL", "SECRET_KEY": "short-but-real"})
    assert settings.secret_key == "short-but-real" and not settings.secret_key_generated
    assert any("shorter than 32 bytes" in w for w in startup_warnings(settings))
