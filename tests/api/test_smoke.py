from tests.conftest import Api


def test_create_and_get_session(api: Api) -> None:
    created = api.create_session()
    sid = created["SigningSessionId"]
    got = api.get(f"/rest/v1/sessions/{sid}")
    assert got["Message"] == "Success"
    s = got["Sessions"][0]
    assert s["SessionInfo"]["StatusCode"] == 1
    assert s["Documents"][0]["PageCount"] == 1
