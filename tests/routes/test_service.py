import json

from autosubmit_api import __version__


def test_root_answers_name_and_version(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.get_json() == {"name": "Autosubmit API", "version": __version__}


def test_unknown_route_is_404_with_error_body(client):
    response = client.get("/v4/nonexistent-route")
    assert response.status_code == 404
    assert response.get_json() == {"error": True, "error_message": "Not Found"}


def test_json_keys_are_sorted_and_compact(client):
    body = client.get("/").get_data(as_text=True)
    assert body.startswith('{"name":"Autosubmit API","version":')


def test_cors_echoes_origin(client):
    response = client.get("/", headers={"Origin": "http://gui.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "http://gui.example"


def test_openapi_is_served_as_json(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    doc = json.loads(response.get_data(as_text=True))
    assert doc["openapi"].startswith("3.")
