"""Token issue and check without an app (autosubmit_api.auth, docs/api.md 3.1 and 3.3)."""

from __future__ import annotations

import time

import jwt
import pytest

from autosubmit_api.auth import TokenError, current_user, decode_token, issue_token, token_from_header
from tests.auth.conftest import make_tokens
from tests.conftest import TEST_SECRET


def test_issued_token_has_the_reference_claims():
    token = issue_token("alice", TEST_SECRET, 420000, now=1700000000)
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    claims = jwt.decode(token, TEST_SECRET, algorithms=["HS256"], options={"verify_exp": False})
    assert claims == {"user_id": "alice", "sub": "alice", "iat": 1700000000, "exp": 1700420000}


def test_issued_token_decodes_to_its_user():
    assert decode_token(issue_token("bob", TEST_SECRET, 60), TEST_SECRET) == "bob"


@pytest.mark.parametrize(
    "header, expected",
    [
        (None, None),
        ("", None),
        ("null", None),
        ("  null ", None),
        ("undefined", None),
        ("Bearer null", None),
        ("abc.def.ghi", "abc.def.ghi"),
        ("Bearer abc.def", "abc.def"),
        ("bearer abc.def", "abc.def"),
        ("Bearer", "Bearer"),
    ],
)
def test_header_parsing(header, expected):
    assert token_from_header(header) == expected


@pytest.mark.parametrize(
    "kind, message, expired",
    [
        ("expired", "Expired token", True),
        ("wrongkey", "Unauthorized", False),
        ("alg_none", "Unauthorized", False),
        ("nouser", "Unauthorized", False),
        ("future_iat", "Unauthorized", False),
        ("audience", "Unauthorized", False),
        ("malformed", "Unauthorized", False),
    ],
)
def test_bad_tokens_are_refused_with_the_reference_message(kind, message, expired):
    with pytest.raises(TokenError) as info:
        decode_token(make_tokens()[kind], TEST_SECRET)
    assert str(info.value) == message and info.value.expired is expired


def test_a_token_naming_a_non_string_user_is_refused():
    token = jwt.encode({"user_id": 42, "exp": int(time.time()) + 60}, TEST_SECRET, algorithm="HS256")
    with pytest.raises(TokenError):
        decode_token(token, TEST_SECRET)


def test_current_user_never_raises():
    for kind, value in make_tokens().items():
        user, problem = current_user(value, TEST_SECRET)
        assert (user is None) == (problem is not None), kind


def test_startup_warnings_name_the_risky_settings(site):
    from autosubmit_api.auth import startup_warnings

    quiet = site.settings({"SECRET_KEY": TEST_SECRET})
    assert startup_warnings(quiet) == []
    risky = site.settings(
        {
            "SECRET_KEY": "short",
            "GITHUB_OAUTH_CLIENT_ID": "id",
            "GITHUB_OAUTH_WHITELIST_TEAM": "t",
            "API_OWNER_CHECK": "false",
        }
    )
    text = "\n".join(startup_warnings(risky))
    for fragment in ("shorter than 32 bytes", "every GitHub account", "TEAM is ignored", "API_OWNER_CHECK"):
        assert fragment in text
    generated = site.settings({"PROTECTION_LEVEL": "ALL"})
    assert "SECRET_KEY is not set" in startup_warnings(generated)[0]
    assert startup_warnings(site.settings({"PROTECTION_LEVEL": "NONE"})) == []
