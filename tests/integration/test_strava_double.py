"""The Strava double behaves as Strava does: swagger-valid bodies, OAuth, paging, limits, webhooks."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jsonschema
import pytest
import requests
from stravalib import exc, model
from stravalib.client import Client
from stravalib.protocol import ApiV3

from scheduler.domain.activity import parse_activity
from tests.doubles import strava_data
from tests.doubles.deadlines import GENEROUS, finishes_within
from tests.doubles.strava_double import StravaDouble
from tests.doubles.strava_fixtures import strava_double  # noqa: F401

REPO_ROOT = Path(__file__).resolve().parents[2]
SWAGGER_PATH = REPO_ROOT / "tests" / "data" / "strava" / "swagger.json"  # MIT, see LICENSE-swagger.txt
NOW = datetime(2026, 5, 4, 12, 0, 30, tzinfo=UTC)
ATHLETE = 101
OTHER_ATHLETE = 202

# Strava sends null where the swagger types a field without nullability; the validator allows null for
# exactly these (definition -> fields), and `[]` for a latLng (no GPS). Everything else stays strict.
NULLABLE_FIELDS: dict[str, set[str]] = {
    "summaryActivity": {"workout_type", "gear_id", "upload_id", "upload_id_str", "external_id"},
    "detailedActivity": {
        "workout_type",
        "gear_id",
        "upload_id",
        "upload_id_str",
        "external_id",
        "description",
    },
    "photosSummary": {"primary"},
    "summaryAthlete": {"sex"},
    "commentAthlete": {"sex"},
    "detailedAthlete": {"ftp"},
}
STRAVA_INSTANT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


# ---- swagger validation ----------------------------------------------------------------------------


def _allow_null(node: dict[str, Any], fields: set[str]) -> None:
    properties = node.get("properties", {})
    for name in fields & properties.keys():
        properties[name] = {"anyOf": [properties[name], {"type": "null"}]}
    for part in node.get("allOf", []):
        _allow_null(part, fields)


@pytest.fixture(scope="module")
def definitions() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SWAGGER_PATH.read_text())["definitions"]
    for name, fields in NULLABLE_FIELDS.items():
        _allow_null(loaded[name], fields)
    loaded["latLng"] = {"anyOf": [loaded["latLng"], {"type": "array", "maxItems": 0}]}
    return loaded


def schema_errors(definitions: dict[str, Any], name: str, instance: Any, *, array: bool = False) -> list[str]:
    """Draft 4 (Swagger 2.0's dialect, strict integers) with Strava's instant format for date-time."""
    checker = jsonschema.FormatChecker(formats=())
    checker.checks("date-time")(
        lambda value: not isinstance(value, str) or bool(STRAVA_INSTANT.fullmatch(value))
    )
    ref = {"$ref": f"#/definitions/{name}"}
    schema = {"definitions": definitions, "allOf": [{"type": "array", "items": ref} if array else ref]}
    validator = jsonschema.Draft4Validator(schema, format_checker=checker)
    return [f"{list(error.absolute_path)}: {error.message}" for error in validator.iter_errors(instance)]


# ---- helpers ---------------------------------------------------------------------------------------


@pytest.fixture
def double(strava_double: StravaDouble) -> StravaDouble:  # noqa: F811
    strava_double.now = NOW
    strava_double.add_athlete(ATHLETE, "Ada", "Runner")
    strava_double.add_athlete(OTHER_ATHLETE, "Bob", "Jogger", sex="M")
    return strava_double


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def api_get(double: StravaDouble, path: str, token: str, **params: Any) -> requests.Response:
    return requests.get(double.api_url + path, headers=bearer(token), params=params, timeout=5)


def token_post(double: StravaDouble, **form: Any) -> requests.Response:
    fields = {"client_id": double.client_id, "client_secret": double.client_secret, **form}
    return requests.post(double.oauth_url + "/token", data=fields, timeout=5)


def add_runs(double: StravaDouble, count: int, first: datetime, athlete: int = ATHLETE) -> list[int]:
    ids = []
    for day in range(count):
        start = first + timedelta(days=day)
        ids.append(double.add_activity(athlete, start_date=start, distance=8000, moving_time=2600)["id"])
    return ids


def fault_of(response: requests.Response) -> tuple[str, str, str]:
    error = response.json()["errors"][0]
    return error["resource"], error["field"], error["code"]


def varied_activities(double: StravaDouble) -> list[int]:
    """Activities covering the shapes that matter: HR or not, GPS or not, workout types, private, laps."""
    start = NOW - timedelta(days=10)
    race = strava_data.summary_activity(
        1001, ATHLETE, "Spring 10K", start, 10000, 2400, 2460,
        workout_type=1, average_heartrate=176.4, max_heartrate=189, total_elevation_gain=35.2,
        suffer_score=180,
    )  # fmt: skip
    intervals = strava_data.interval_lap_specs(6, 800, 170, 120)
    distance, moving, elapsed = strava_data.lap_totals(intervals)
    workout = strava_data.summary_activity(
        1002, ATHLETE, "6x800", start + timedelta(days=2), distance, moving, elapsed,
        workout_type=3, average_heartrate=158.0, max_heartrate=181, gear_id="g1011",
    )  # fmt: skip
    treadmill = strava_data.summary_activity(
        1003,
        ATHLETE,
        "Treadmill",
        start + timedelta(days=3),
        5000,
        1800,
        trainer=True,
        sport_type="VirtualRun",
    )
    manual = strava_data.summary_activity(
        1004, ATHLETE, "Logged run", start + timedelta(days=4), 6000, 2100, manual=True
    )
    private = strava_data.summary_activity(
        1005, ATHLETE, "Secret trail", start + timedelta(days=5), 21100, 7800, 8100,
        sport_type="TrailRun", workout_type=2, private=True, average_heartrate=141.2, max_heartrate=163,
    )  # fmt: skip
    ride = strava_data.summary_activity(1006, ATHLETE, "Commute", start + timedelta(days=6), 12000, 2400,
                                        sport_type="Ride", commute=True)  # fmt: skip
    double.add_activity(ATHLETE, strava_data.detailed_activity(race, description=None, perceived_exertion=9))
    double.add_activity(ATHLETE, strava_data.detailed_activity(workout, laps=intervals, description="hard"))
    for summary in (treadmill, manual, private, ride):
        double.add_activity(ATHLETE, summary)
    return [1001, 1002, 1003, 1004, 1005, 1006]


# ---- responses validate against the swagger --------------------------------------------------------


def test_list_and_detail_bodies_validate_against_the_swagger(
    double: StravaDouble, definitions: dict[str, Any]
) -> None:
    ids = varied_activities(double)
    token = double.grant_tokens(ATHLETE)["access_token"]

    listed = api_get(double, "/athlete/activities", token).json()
    assert sorted(activity["id"] for activity in listed) == ids
    assert schema_errors(definitions, "summaryActivity", listed, array=True) == []
    assert all("laps" not in activity and "description" not in activity for activity in listed)

    for activity_id in ids:
        detailed = api_get(double, f"/activities/{activity_id}", token).json()
        assert detailed["resource_state"] == 3
        assert schema_errors(definitions, "detailedActivity", detailed) == [], activity_id
        for lap in detailed["laps"]:
            assert schema_errors(definitions, "lap", lap) == []
        assert schema_errors(definitions, "split", detailed["splits_metric"], array=True) == []
        laps = api_get(double, f"/activities/{activity_id}/laps", token).json()
        assert schema_errors(definitions, "lap", laps, array=True) == []
        assert laps == detailed["laps"]


def test_athlete_bodies_validate_against_the_swagger(
    double: StravaDouble, definitions: dict[str, Any]
) -> None:
    granted = double.grant_tokens(ATHLETE)
    assert schema_errors(definitions, "summaryAthlete", granted["athlete"]) == []
    athlete = api_get(double, "/athlete", granted["access_token"]).json()
    assert athlete["id"] == ATHLETE and athlete["resource_state"] == 3
    assert schema_errors(definitions, "detailedAthlete", athlete) == []


def test_error_bodies_are_swagger_faults(double: StravaDouble, definitions: dict[str, Any]) -> None:
    token = double.grant_tokens(ATHLETE)["access_token"]
    double.set_rate_limits(read_15min=2)
    responses = [
        api_get(double, "/athlete", "not-a-token"),
        api_get(double, "/activities/999", token),
        token_post(double, grant_type="refresh_token", refresh_token="nope"),
        api_get(double, "/athlete", token),
    ]
    double.set_inactive()
    responses.append(api_get(double, "/athlete", token))
    assert [r.status_code for r in responses] == [401, 404, 400, 429, 403]
    for response in responses:
        assert schema_errors(definitions, "fault", response.json()) == []


def test_the_validator_is_strict_where_strava_is(double: StravaDouble, definitions: dict[str, Any]) -> None:
    good = strava_data.summary_activity(
        7, ATHLETE, "Run", NOW, 5000, 1500, average_heartrate=150, max_heartrate=170
    )
    assert schema_errors(definitions, "summaryActivity", good) == []
    broken = [
        {**good, "elapsed_time": 1500.5},
        {**good, "start_date": "2026-05-04 12:00:30"},
        {**good, "sport_type": "Jog"},
        {**good, "start_latlng": [43.6]},
        {**good, "distance": None},
    ]
    for activity in broken:
        assert schema_errors(definitions, "summaryActivity", activity) != [], activity
    with pytest.raises(ValueError, match="integral"):
        strava_data.summary_activity(
            8, ATHLETE, "Run", NOW, 5000, 1500, average_heartrate=150, max_heartrate=171.5
        )


def test_the_domain_parser_reads_what_the_double_serves(double: StravaDouble) -> None:
    varied_activities(double)
    token = double.grant_tokens(ATHLETE)["access_token"]
    for summary in api_get(double, "/athlete/activities", token).json():
        parsed = parse_activity(summary)
        detailed = parse_activity(api_get(double, f"/activities/{summary['id']}", token).json())
        assert parsed.start_date == detailed.start_date and parsed.timezone == "America/Toronto"
        assert parsed.has_heartrate == summary["has_heartrate"] and parsed.laps == ()
        assert len(detailed.laps) == len(double.activity(summary["id"])["laps"])
    workout = parse_activity(double.activity(1002))
    assert workout.workout_type == 3 and workout.laps[1].average_heartrate == 172.0


# ---- OAuth -----------------------------------------------------------------------------------------


def test_code_exchange_returns_tokens_and_athlete_and_codes_are_single_use(double: StravaDouble) -> None:
    code = double.issue_code(ATHLETE)
    response = token_post(double, grant_type="authorization_code", code=code)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 21600 and body["expires_at"] == int(NOW.timestamp()) + 21600
    assert body["athlete"]["id"] == ATHLETE and "scope" not in body
    assert api_get(double, "/athlete", body["access_token"]).status_code == 200

    reused = token_post(double, grant_type="authorization_code", code=code)
    assert reused.status_code == 400
    assert reused.json() == {
        "message": "Bad Request",
        "errors": [{"resource": "AuthorizationCode", "field": "code", "code": "invalid"}],
    }
    late = double.issue_code(ATHLETE)
    double.advance(timedelta(minutes=11))
    assert fault_of(token_post(double, grant_type="authorization_code", code=late)) == (
        "AuthorizationCode",
        "code",
        "invalid",
    )


def test_token_endpoint_checks_the_application_credentials(double: StravaDouble) -> None:
    code = double.issue_code(ATHLETE)
    wrong_secret = token_post(double, grant_type="authorization_code", code=code, client_secret="guess")
    assert wrong_secret.status_code == 401
    assert fault_of(wrong_secret) == ("Application", "client_secret", "invalid")
    wrong_id = token_post(double, grant_type="authorization_code", code=code, client_id=1)
    assert wrong_id.status_code == 400
    assert fault_of(wrong_id) == ("Application", "client_id", "invalid")
    assert token_post(double, grant_type="authorization_code", code=code).status_code == 200


def test_refresh_keeps_a_fresh_access_token_and_rotation_kills_the_old_refresh_token(
    double: StravaDouble,
) -> None:
    first = double.grant_tokens(ATHLETE)
    same = token_post(double, grant_type="refresh_token", refresh_token=first["refresh_token"]).json()
    assert same["access_token"] == first["access_token"] and "athlete" not in same
    assert same["refresh_token"] == first["refresh_token"]

    double.advance(timedelta(hours=5, minutes=30))  # 30 min left: a new access token comes back
    renewed = token_post(double, grant_type="refresh_token", refresh_token=first["refresh_token"]).json()
    assert renewed["access_token"] != first["access_token"]
    assert renewed["expires_in"] == 21600

    double.rotate_refresh_tokens(True)
    rotated = token_post(double, grant_type="refresh_token", refresh_token=first["refresh_token"]).json()
    assert rotated["refresh_token"] != first["refresh_token"]
    stale = token_post(double, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert stale.status_code == 400
    assert stale.json() == {
        "message": "Bad Request",
        "errors": [{"resource": "RefreshToken", "field": "refresh_token", "code": "invalid"}],
    }
    assert double.current_tokens(ATHLETE) == (rotated["access_token"], rotated["refresh_token"])


def test_expired_revoked_and_deauthorized_tokens_get_401(double: StravaDouble) -> None:
    granted = double.grant_tokens(ATHLETE)
    double.expire_access_token(ATHLETE)
    expired = api_get(double, "/athlete", granted["access_token"])
    assert expired.status_code == 401
    assert expired.json() == {
        "message": "Authorization Error",
        "errors": [{"resource": "Athlete", "field": "access_token", "code": "invalid"}],
    }
    renewed = token_post(double, grant_type="refresh_token", refresh_token=granted["refresh_token"]).json()
    # Old clients pass the token as a query parameter; Strava still accepts it.
    by_param = requests.get(
        double.api_url + "/athlete", params={"access_token": renewed["access_token"]}, timeout=5
    )
    assert by_param.status_code == 200

    double.revoke(ATHLETE)
    assert api_get(double, "/athlete", renewed["access_token"]).status_code == 401
    assert (
        token_post(double, grant_type="refresh_token", refresh_token=renewed["refresh_token"]).status_code
        == 400
    )

    other = double.grant_tokens(OTHER_ATHLETE)
    gone = requests.post(double.oauth_url + "/deauthorize", headers=bearer(other["access_token"]), timeout=5)
    assert gone.status_code == 200 and gone.json() == {"access_token": other["access_token"]}
    assert api_get(double, "/athlete", other["access_token"]).status_code == 401


def _authorize(
    double: StravaDouble, redirect_uri: str, scope: str = "read,activity:read_all"
) -> requests.Response:
    params: dict[str, Any] = {
        "client_id": double.client_id,
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "approval_prompt": "auto",
        "scope": scope,
        "state": "xyz",
    }
    return requests.get(double.oauth_url + "/authorize", params=params, allow_redirects=False, timeout=5)


def test_authorize_redirects_with_code_state_and_the_scope_the_user_left_ticked(double: StravaDouble) -> None:
    double.authorize_as(ATHLETE)
    response = _authorize(double, "http://127.0.0.1:8788/callback")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert (location.hostname, location.port, location.path) == ("127.0.0.1", 8788, "/callback")
    query = parse_qs(location.query)
    assert query["state"] == ["xyz"] and query["scope"] == ["read,activity:read_all"]
    assert token_post(double, grant_type="authorization_code", code=query["code"][0]).status_code == 200

    double.authorize_as(ATHLETE, grant="read,activity:read")  # the user unticked "private activities"
    narrowed = parse_qs(urlsplit(_authorize(double, "http://localhost:9/cb").headers["Location"]).query)
    assert narrowed["scope"] == ["read"]

    double.authorize_as(ATHLETE, deny=True)
    denied = parse_qs(urlsplit(_authorize(double, "http://localhost:9/cb").headers["Location"]).query)
    assert denied["error"] == ["access_denied"] and "code" not in denied

    refused = _authorize(double, "https://evil.example.com/cb")
    assert refused.status_code == 400
    assert fault_of(refused) == ("Application", "redirect_uri", "invalid")


def test_authorize_lands_on_a_local_redirect_listener(double: StravaDouble) -> None:
    """What `recovery auth` relies on: the browser follows Strava's redirect to a loopback listener."""
    caught: list[dict[str, list[str]]] = []

    class Listener(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            caught.append(parse_qs(urlsplit(self.path).query))
            body = b"You can close this tab."
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Listener)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        double.authorize_as(ATHLETE)
        params: dict[str, Any] = {
            "client_id": double.client_id,
            "redirect_uri": f"http://127.0.0.1:{server.server_address[1]}/exchange_token",
            "response_type": "code",
            "approval_prompt": "auto",
            "scope": "read,activity:read_all",
            "state": "s1",
        }
        browser = requests.get(double.oauth_url + "/authorize", params=params, timeout=5)
        assert browser.status_code == 200 and browser.text == "You can close this tab."
    finally:
        server.shutdown()
        server.server_close()
    assert caught[0]["state"] == ["s1"] and caught[0]["scope"] == ["read,activity:read_all"]
    exchanged = token_post(double, grant_type="authorization_code", code=caught[0]["code"][0])
    assert exchanged.json()["athlete"]["id"] == ATHLETE


# ---- activities ------------------------------------------------------------------------------------


def test_list_is_newest_first_but_oldest_first_with_after(double: StravaDouble) -> None:
    ids = add_runs(double, 5, NOW - timedelta(days=5))
    add_runs(double, 2, NOW - timedelta(days=3), athlete=OTHER_ATHLETE)
    token = double.grant_tokens(ATHLETE)["access_token"]
    newest_first = [a["id"] for a in api_get(double, "/athlete/activities", token).json()]
    assert newest_first == ids[::-1]
    after = int((NOW - timedelta(days=3, hours=1)).timestamp())
    assert [a["id"] for a in api_get(double, "/athlete/activities", token, after=after).json()] == ids[2:]
    before = int((NOW - timedelta(days=3, hours=1)).timestamp())
    assert [a["id"] for a in api_get(double, "/athlete/activities", token, before=before).json()] == ids[
        1::-1
    ]


def test_after_filters_on_start_so_a_late_upload_is_missed_by_last_poll_time(double: StravaDouble) -> None:
    token = double.grant_tokens(ATHLETE)["access_token"]
    start = NOW - timedelta(hours=3)
    late = double.add_activity(
        ATHLETE, start_date=start, distance=10000, moving_time=3000, uploaded_at=NOW + timedelta(hours=2)
    )
    last_poll = int(NOW.timestamp())
    assert api_get(double, "/athlete/activities", token).json() == []
    assert api_get(double, f"/activities/{late['id']}", token).status_code == 404  # not there yet

    double.advance(timedelta(hours=2, minutes=1))
    assert api_get(double, "/athlete/activities", token, after=last_poll).json() == []
    overlap = int((start - timedelta(hours=1)).timestamp())
    assert [a["id"] for a in api_get(double, "/athlete/activities", token, after=overlap).json()] == [
        late["id"]
    ]


def test_milliseconds_and_bad_numbers_are_refused(double: StravaDouble) -> None:
    token = double.grant_tokens(ATHLETE)["access_token"]
    in_ms = api_get(double, "/athlete/activities", token, after=int(NOW.timestamp() * 1000))
    assert in_ms.status_code == 400 and fault_of(in_ms) == ("Activity", "after", "future")
    assert api_get(double, "/athlete/activities", token, page="two").status_code == 400


def test_per_page_defaults_to_30_and_is_capped_at_200(double: StravaDouble) -> None:
    add_runs(double, 230, NOW - timedelta(days=240))
    token = double.grant_tokens(ATHLETE)["access_token"]
    assert len(api_get(double, "/athlete/activities", token).json()) == 30
    assert len(api_get(double, "/athlete/activities", token, per_page=500).json()) == 200
    assert len(api_get(double, "/athlete/activities", token, per_page=200, page=2).json()) == 30
    assert api_get(double, "/athlete/activities", token, per_page=200, page=3).json() == []


def test_private_activities_need_activity_read_all(double: StravaDouble) -> None:
    public = double.add_activity(ATHLETE, start_date=NOW - timedelta(days=1), distance=5000, moving_time=1500)
    hidden = double.add_activity(
        ATHLETE, start_date=NOW - timedelta(hours=5), distance=5000, moving_time=1500, private=True
    )
    narrow = double.grant_tokens(ATHLETE, scope="read,activity:read")["access_token"]
    assert [a["id"] for a in api_get(double, "/athlete/activities", narrow).json()] == [public["id"]]
    assert api_get(double, f"/activities/{hidden['id']}", narrow).status_code == 404
    wide = double.grant_tokens(ATHLETE, scope="read,activity:read_all")["access_token"]
    assert [a["id"] for a in api_get(double, "/athlete/activities", wide).json()] == [
        hidden["id"],
        public["id"],
    ]

    profile_only = double.grant_tokens(ATHLETE, scope="read")["access_token"]
    refused = api_get(double, "/athlete/activities", profile_only)
    assert refused.status_code == 401
    assert fault_of(refused) == ("AccessToken", "activity:read_permission", "missing")


def test_detail_of_a_missing_or_foreign_activity_is_record_not_found(double: StravaDouble) -> None:
    foreign = double.add_activity(OTHER_ATHLETE, start_date=NOW, distance=5000, moving_time=1500)
    token = double.grant_tokens(ATHLETE)["access_token"]
    for activity_id in (foreign["id"], 4242):
        response = api_get(double, f"/activities/{activity_id}", token)
        assert response.status_code == 404
        assert response.json() == {
            "message": "Record Not Found",
            "errors": [{"resource": "Activity", "field": "id", "code": "invalid"}],
        }


def test_a_just_created_activity_is_processing_then_detailed(double: StravaDouble) -> None:
    token = double.grant_tokens(ATHLETE)["access_token"]
    fresh = double.add_activity(
        ATHLETE, start_date=NOW - timedelta(hours=1), distance=5000, moving_time=1500,
        processing_until=NOW + timedelta(seconds=30),
    )  # fmt: skip
    assert api_get(double, f"/activities/{fresh['id']}", token).json()["resource_state"] == -1
    double.advance(31)
    detailed = api_get(double, f"/activities/{fresh['id']}", token).json()
    assert detailed["resource_state"] == 3 and len(detailed["laps"]) == 5


def test_updates_and_deletes_show_through(double: StravaDouble) -> None:
    token = double.grant_tokens(ATHLETE)["access_token"]
    run = double.add_activity(ATHLETE, start_date=NOW, distance=5000, moving_time=1500)
    double.update_activity(run["id"], name="Parkrun PB", workout_type=1)
    listed = api_get(double, "/athlete/activities", token).json()
    assert (listed[0]["name"], listed[0]["workout_type"]) == ("Parkrun PB", 1)
    double.delete_activity(run["id"])
    assert api_get(double, f"/activities/{run['id']}", token).status_code == 404


def test_a_short_page_before_the_end_loses_nothing_for_a_client_that_reads_until_empty(
    double: StravaDouble,
) -> None:
    ids = add_runs(double, 12, NOW - timedelta(days=20))
    token = double.grant_tokens(ATHLETE)["access_token"]
    double.set_short_page(2, missing=2)
    after = int((NOW - timedelta(days=30)).timestamp())
    pages = []
    for page in range(1, 10):
        got = [
            a["id"]
            for a in api_get(double, "/athlete/activities", token, after=after, page=page, per_page=5).json()
        ]
        if not got:
            break
        pages.append(got)
    assert [len(p) for p in pages] == [5, 3, 4]
    assert [i for p in pages for i in p] == ids


# ---- rate limits, faults, inactive app -------------------------------------------------------------


def test_every_api_response_carries_rate_limit_headers(double: StravaDouble) -> None:
    token = double.grant_tokens(ATHLETE)["access_token"]
    api_get(double, "/athlete", token)
    response = api_get(double, "/athlete/activities", token)
    assert response.headers["X-RateLimit-Limit"] == "200,2000"
    assert response.headers["X-RateLimit-Usage"] == "2,2"
    assert response.headers["X-ReadRateLimit-Limit"] == "100,1000"
    assert response.headers["X-ReadRateLimit-Usage"] == "2,2"
    assert double.reads_count == 2 and double.count_requests("GET", "/api/v3/athlete/activities") == 1
    assert [r.athlete_id for r in double.requests] == [ATHLETE, ATHLETE]


def test_over_the_read_limit_is_429_without_retry_after_and_still_counts(double: StravaDouble) -> None:
    double.now = datetime(2026, 5, 4, 10, 14, 50, tzinfo=UTC)
    token = double.grant_tokens(ATHLETE)["access_token"]
    double.set_rate_limits(read_15min=2)
    statuses = [api_get(double, "/athlete", token).status_code for _ in range(2)]
    limited = api_get(double, "/athlete", token)
    again = api_get(double, "/athlete", token)
    assert statuses == [200, 200] and limited.status_code == 429 == again.status_code
    assert limited.json() == {
        "message": "Rate Limit Exceeded",
        "errors": [{"resource": "Application", "field": "read rate limit", "code": "exceeded"}],
    }
    assert "Retry-After" not in limited.headers
    assert again.headers["X-ReadRateLimit-Usage"] == "4,4"

    double.advance(15)  # 10:15:05, a new quarter hour
    fresh = api_get(double, "/athlete", token)
    assert fresh.status_code == 200 and fresh.headers["X-ReadRateLimit-Usage"] == "1,5"


def test_the_daily_window_resets_at_utc_midnight(double: StravaDouble) -> None:
    double.now = datetime(2026, 5, 4, 23, 50, tzinfo=UTC)
    token = double.grant_tokens(ATHLETE)["access_token"]
    double.set_rate_limits(read_daily=1, overall_daily=1)
    assert api_get(double, "/athlete", token).status_code == 200
    double.advance(timedelta(minutes=6))  # 23:56, still the same UTC day
    assert api_get(double, "/athlete", token).status_code == 429
    double.advance(timedelta(minutes=5))  # 00:01 UTC
    assert api_get(double, "/athlete", token).status_code == 200
    assert double.usage.read_daily == 1


def test_concurrent_requests_are_each_counted_once(double: StravaDouble) -> None:
    token = double.grant_tokens(ATHLETE)["access_token"]
    seen: list[int] = []
    seen_lock = threading.Lock()

    def reader() -> None:
        with requests.Session() as session:
            for _ in range(20):
                response = session.get(double.api_url + "/athlete", headers=bearer(token), timeout=5)
                with seen_lock:
                    seen.append(int(response.headers["X-ReadRateLimit-Usage"].split(",")[0]))

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert sorted(seen) == list(range(1, 81))
    assert double.usage.read_15min == 80 == double.reads_count


def test_an_inactive_application_gets_403_on_every_call(double: StravaDouble) -> None:
    granted = double.grant_tokens(ATHLETE)
    double.set_inactive()
    inactive = {
        "message": "Forbidden",
        "errors": [{"resource": "Application", "field": "Status", "code": "Inactive"}],
    }
    for response in (
        api_get(double, "/athlete/activities", granted["access_token"]),
        token_post(double, grant_type="refresh_token", refresh_token=granted["refresh_token"]),
    ):
        assert response.status_code == 403 and response.json() == inactive
    double.set_inactive(False)
    assert api_get(double, "/athlete", granted["access_token"]).status_code == 200


def test_injected_failures_and_delays_hit_only_the_next_matching_requests(double: StravaDouble) -> None:
    token = double.grant_tokens(ATHLETE)["access_token"]
    double.fail_next(2, status=503, path="/api/v3/athlete/activities")
    assert api_get(double, "/athlete", token).status_code == 200
    assert [api_get(double, "/athlete/activities", token).status_code for _ in range(3)] == [503, 503, 200]

    # A delay of minutes: the slowed request times out (a floor, it cannot flake on a loaded machine) and
    # the one after it is answered well before the deadline, so the delay hit only that one request.
    double.slow_next(1, 600)
    with pytest.raises(requests.Timeout):
        requests.get(double.api_url + "/athlete", headers=bearer(token), timeout=0.3)
    reply = finishes_within(GENEROUS, lambda: api_get(double, "/athlete", token), "the request after it")
    assert reply.status_code == 200


# ---- push subscriptions ----------------------------------------------------------------------------


class CallbackReceiver:
    """A webhook endpoint as the app should write it: checks the verify token, echoes the challenge."""

    def __init__(self, verify_token: str) -> None:
        self.verify_token = verify_token
        self.challenges: list[dict[str, str]] = []
        self.events: list[dict[str, Any]] = []
        self.event_status = 200
        self.echo_wrong = False
        self.stall = False
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
                receiver.challenges.append(query)
                if receiver.stall:
                    receiver.release.wait(2)
                if query.get("hub.verify_token") != receiver.verify_token:
                    self._reply(403, {"error": "bad verify token"})
                    return
                challenge = "wrong" if receiver.echo_wrong else query["hub.challenge"]
                self._reply(200, {"hub.challenge": challenge})

            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                receiver.events.append(json.loads(self.rfile.read(length)))
                self._reply(receiver.event_status, {})

            def _reply(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/strava/webhook"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    endpoint = CallbackReceiver("s3cret")
    yield endpoint
    endpoint.close()


def subscribe(double: StravaDouble, callback_url: str, verify_token: str = "s3cret") -> requests.Response:
    form = {
        "client_id": double.client_id,
        "client_secret": double.client_secret,
        "callback_url": callback_url,
        "verify_token": verify_token,
    }
    return requests.post(double.api_url + "/push_subscriptions", data=form, timeout=10)


def test_subscription_is_verified_then_unique_listed_and_deleted(
    double: StravaDouble, receiver: CallbackReceiver
) -> None:
    created = subscribe(double, receiver.url)
    assert created.status_code == 201
    subscription_id = created.json()["id"]
    assert receiver.challenges[0]["hub.mode"] == "subscribe"
    assert receiver.challenges[0]["hub.verify_token"] == "s3cret"

    again = subscribe(double, receiver.url)
    assert again.status_code == 400 and fault_of(again) == ("PushSubscription", "", "already exists")

    credentials: dict[str, Any] = {"client_id": double.client_id, "client_secret": double.client_secret}
    listed = requests.get(double.api_url + "/push_subscriptions", params=credentials, timeout=5).json()
    assert [(s["id"], s["callback_url"], s["application_id"]) for s in listed] == [
        (subscription_id, receiver.url, double.client_id)
    ]
    wrong = requests.get(
        double.api_url + "/push_subscriptions", params={**credentials, "client_secret": "x"}, timeout=5
    )
    assert wrong.status_code == 401

    deleted = requests.delete(
        f"{double.api_url}/push_subscriptions/{subscription_id}", data=credentials, timeout=5
    )
    assert deleted.status_code == 204 and deleted.content == b""
    assert requests.get(double.api_url + "/push_subscriptions", params=credentials, timeout=5).json() == []


def test_an_unverifiable_callback_is_refused(double: StravaDouble, receiver: CallbackReceiver) -> None:
    wrong_token = subscribe(double, receiver.url, verify_token="other")
    assert wrong_token.status_code == 400
    assert fault_of(wrong_token) == ("PushSubscription", "callback url", "not verifiable")
    receiver.echo_wrong = True
    assert subscribe(double, receiver.url).status_code == 400
    receiver.echo_wrong, receiver.stall = False, True
    double.callback_timeout = 0.2  # Strava allows 2 s; shortened to keep the test fast
    assert subscribe(double, receiver.url).status_code == 400
    assert double.subscription is None


def test_events_are_posted_retried_and_duplicated_as_strava_does(
    double: StravaDouble, receiver: CallbackReceiver
) -> None:
    subscription_id = subscribe(double, receiver.url).json()["id"]
    delivered = double.send_event("activity", 1001, "create", ATHLETE, repeat=2)
    assert [d.acknowledged for d in delivered] == [True, True]
    assert (
        receiver.events
        == [
            {
                "aspect_type": "create",
                "event_time": int(NOW.timestamp()),
                "object_id": 1001,
                "object_type": "activity",
                "owner_id": ATHLETE,
                "subscription_id": subscription_id,
                "updates": {},
            }
        ]
        * 2
    )

    receiver.event_status = 500
    failed = double.send_event("athlete", ATHLETE, "update", ATHLETE, {"authorized": "false"})
    assert [(d.attempt, d.status, d.acknowledged) for d in failed] == [
        (1, 500, False),
        (2, 500, False),
        (3, 500, False),
    ]
    assert receiver.events[-1]["updates"] == {"authorized": "false"}
    assert len(double.deliveries) == 5


# ---- the real stravalib client ---------------------------------------------------------------------


class DoubleApiV3(ApiV3):
    """stravalib's protocol with Strava's hosts replaced by configured URLs: the redirect the adapter uses."""

    def __init__(self, api_url: str, oauth_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.api_url = api_url.rstrip("/")
        self.oauth_url = oauth_url.rstrip("/")

    def resolve_url(self, url: str) -> str:
        strava_oauth = f"https://{self.server}/oauth/"
        if url.startswith(strava_oauth):  # token calls arrive as absolute www.strava.com URLs
            return f"{self.oauth_url}/{url.removeprefix(strava_oauth)}"
        if url.startswith("http"):
            return url
        path = url.strip("/")
        if path.startswith("oauth/"):  # Client.deauthorize posts "oauth/deauthorize" relative to the API
            return f"{self.oauth_url}/{path.removeprefix('oauth/')}"
        return f"{self.api_url}/{path}"


def stravalib_client(double: StravaDouble, access_token: str | None = None) -> Client:
    client = Client(access_token=access_token, rate_limit_requests=False)
    client.protocol = DoubleApiV3(double.api_url, double.oauth_url, access_token=access_token)
    return client


def test_stravalib_exchanges_a_code_and_refreshes_with_rotation(double: StravaDouble) -> None:
    client = stravalib_client(double)
    exchanged = client.exchange_code_for_token(
        double.client_id, double.client_secret, double.issue_code(ATHLETE), return_athlete=True
    )
    assert isinstance(exchanged, tuple)
    access, athlete = exchanged
    assert athlete is not None and athlete.id == ATHLETE and athlete.firstname == "Ada"
    assert client.get_athlete().lastname == "Runner"

    double.rotate_refresh_tokens(True)
    refreshed = client.refresh_access_token(double.client_id, double.client_secret, access["refresh_token"])
    assert refreshed["refresh_token"] != access["refresh_token"]
    with pytest.raises(exc.Fault, match="RefreshToken"):
        client.refresh_access_token(double.client_id, double.client_secret, access["refresh_token"])
    client.deauthorize()
    with pytest.raises(exc.AccessUnauthorized):
        client.get_athlete()


def test_stravalib_pages_through_more_than_200_activities_after_a_date(double: StravaDouble) -> None:
    ids = add_runs(double, 450, NOW - timedelta(days=460))
    client = stravalib_client(double, double.grant_tokens(ATHLETE)["access_token"])
    after = NOW - timedelta(days=500)

    assert [activity.id for activity in client.get_activities(after=after)] == ids

    # Strava's short page ends stravalib's iterator early; reading until an empty page gets everything.
    double.set_short_page(2, missing=1)
    assert len(list(client.get_activities(after=after))) == 399
    seen: list[int] = []
    for page in range(1, 10):
        raw = client.protocol.get(
            "/athlete/activities", after=int(after.timestamp()), page=page, per_page=200
        )
        if not raw:
            break
        activities = [model.SummaryActivity.model_validate(item) for item in raw]
        seen.extend(activity.id for activity in activities if activity.id is not None)
    assert seen == ids and double.count_requests("GET", "/api/v3/athlete/activities") == 3 + 2 + 4


def test_stravalib_reads_a_detailed_activity_with_laps(double: StravaDouble) -> None:
    varied_activities(double)
    client = stravalib_client(double, double.grant_tokens(ATHLETE)["access_token"])
    workout = client.get_activity(1002)
    assert workout.workout_type == 3 and workout.description == "hard"
    assert workout.laps is not None and len(workout.laps) == 13
    assert [lap.lap_index for lap in workout.laps][:3] == [1, 2, 3]
    assert workout.laps[1].average_heartrate == 172.0 and workout.laps[1].max_heartrate == 180
    race = next(iter(client.get_activities(limit=10, after=NOW - timedelta(days=30))))
    assert race.id == 1001 and race.max_heartrate == 189 and race.workout_type == 1
    with pytest.raises(exc.ObjectNotFound):
        client.get_activity(4242)


def test_stravalib_raises_on_429_at_once_and_on_an_inactive_application(double: StravaDouble) -> None:
    client = stravalib_client(double, double.grant_tokens(ATHLETE)["access_token"])
    double.set_rate_limits(read_15min=0)
    with pytest.raises(exc.Fault) as limited:
        # rate_limit_requests=False: no sleeping in the client until the 15-minute window resets
        finishes_within(GENEROUS, client.get_athlete, "a read answered 429")
    assert limited.value.response is not None and limited.value.response.status_code == 429

    double.set_rate_limits(read_15min=100)
    double.set_inactive()
    with pytest.raises(exc.ApplicationInactive):
        client.get_athlete()


def test_stravalib_manages_the_push_subscription(double: StravaDouble, receiver: CallbackReceiver) -> None:
    client = stravalib_client(double)
    created = client.create_subscription(double.client_id, double.client_secret, receiver.url, "s3cret")
    listed = list(client.list_subscriptions(double.client_id, double.client_secret))
    assert [s.id for s in listed] == [created.id] and listed[0].callback_url == receiver.url
    assert created.id is not None
    client.delete_subscription(created.id, double.client_id, double.client_secret)
    assert double.subscription is None


def test_a_stopped_double_answers_nothing(strava_double: StravaDouble) -> None:  # noqa: F811
    url = strava_double.api_url + "/athlete"
    assert requests.get(url, timeout=5).status_code == 401
    strava_double.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(url, timeout=5)
