"""The configuration routes over hostile YAML (issue 14, item 5): a clear refusal, never a
500 or a huge answer; v4 answers 422 with the error body, v3 `/cconfig` its warning body."""

from __future__ import annotations

import json

from tests.factory import conf as factory_conf
from autosubmit_api.readers.exp_config import config_files
from tests.services import history_case as case


def _hostile(make_experiment, text):
    made = case.make(make_experiment)
    (made.path / "conf" / "bomb.yml").write_text(text)
    return made


def test_v4_filesystem_config_of_an_aliased_bomb_is_422(make_experiment, client, settings):
    _hostile(make_experiment, factory_conf.aliased_string_yaml(1000, 100_000))
    for _ in range(2):
        resp = client.get(f"/v4/experiments/{case.EXPID}/filesystem-config")
        assert resp.status_code == 422
        body = resp.get_json()
        assert set(body) == {"error", "error_message"} and body["error"] is True
        assert body["error_message"].startswith("conf/bomb.yml is refused: larger than 16 MiB")
        assert settings.local_root_dir not in body["error_message"]
        assert len(resp.get_data()) < 1000


def test_v4_filesystem_config_of_a_file_over_the_byte_cap_is_422(make_experiment, client):
    _hostile(make_experiment, factory_conf.aliased_string_yaml(5000, 900_000))
    resp = client.get(f"/v4/experiments/{case.EXPID}/filesystem-config")
    assert resp.status_code == 422
    assert resp.get_json()["error_message"].startswith("conf/bomb.yml is refused: larger than 2 MiB of YAML")


def test_v3_cconfig_of_an_aliased_bomb_is_its_warning_body(make_experiment, client):
    made = _hostile(make_experiment, factory_conf.nested_alias_yaml(9, 10))
    assert made.path.is_dir()
    before = None
    for prefix in ("", "/v3"):
        resp = client.get(f"{prefix}/cconfig/{case.EXPID}")
        assert resp.status_code == 200
        body = resp.get_json()
        assert body["error"] is False and body["warning"] is True
        assert "conf/bomb.yml is refused" in body["warning_message"]
        assert body["configuration_filesystem"] == {"contains_nones": True}
        assert len(json.dumps(body)) < 100_000
        # The second route asks for the same files: answered without parsing them again.
        count = config_files.yaml_parse_count()
        if before is not None:
            assert count == before
        before = count
