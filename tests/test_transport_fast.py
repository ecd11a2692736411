"""The direct write path of the transport: the same request on the wire as through the session.

A loopback HTTP server records what arrives and answers from a script, so
the bytes the direct path sends can be held against the ones
``session.request`` sends for the same call.
"""

from __future__ import annotations

import gzip
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest
import requests
import requests_mock
import urllib3

from influx_compat._config import resolve_settings
from influx_compat._transport import Auth, Transport
from influx_compat.exceptions import InfluxDBServerError

BODY = b"m1,host=a x=1i 1\nm1,host=b x=2i 2\n"
PARAMS = {"org": "my org", "bucket": "b/1", "precision": "ms"}
TEXT = {"Content-Type": "text/plain; charset=utf-8"}

Answer = Tuple[int, Dict[str, str]]


class Recorder:
    """Records each request (method, target, headers, body); answers the next of ``answers`` (else 204)."""

    def __init__(self) -> None:
        self.seen: List[Dict[str, Any]] = []
        self.answers: List[Answer] = []
        self.lock = threading.Lock()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with recorder.lock:
                    recorder.seen.append(
                        {
                            "method": self.command,
                            "target": self.path,
                            "headers": dict(self.headers),
                            "body": body,
                        }
                    )
                    status, headers = recorder.answers.pop(0) if recorder.answers else (204, {})
                if "X-Delay" in headers:  # answer late (past the client's timeout)
                    time.sleep(float(headers["X-Delay"]))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                text = b"" if status == 204 else b'{"code":"x","message":"status %d"}' % status
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)

            do_GET = do_POST = _any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    r = Recorder()
    yield r
    r.close()


@pytest.fixture
def direct_calls(monkeypatch: pytest.MonkeyPatch) -> List[str]:
    """The URLs sent by the direct path (the session's own path is not counted)."""
    calls: List[str] = []
    original = Transport._send_direct

    def spy(self: Transport, adapter: Any, method: str, url: str, *args: Any) -> Any:
        calls.append(url)
        return original(self, adapter, method, url, *args)

    monkeypatch.setattr(Transport, "_send_direct", spy)
    return calls


def transport(url: str, **kw: Any) -> Transport:
    t = Transport(resolve_settings(url=url, env={}), **kw)
    t.auth = Auth(token="s3cret")
    return t


def write(t: Transport, **kw: Any) -> requests.Response:
    return t.request(
        "POST", "api/v2/write", params=PARAMS, data=BODY, headers=TEXT, raw=True, write=True, **kw
    )


def same_request(a: Dict[str, Any], b: Dict[str, Any]) -> None:
    assert (a["method"], a["target"], a["body"]) == (b["method"], b["target"], b["body"])
    assert {k.lower(): v for k, v in a["headers"].items()} == {k.lower(): v for k, v in b["headers"].items()}


def test_a_write_goes_direct_and_sends_what_the_session_sends(recorder, direct_calls):
    t = transport(recorder.url, headers={"X-Mine": "1"})
    response = write(t)
    assert response.status_code == 204 and response.request.method == "POST"
    assert len(direct_calls) == 1
    t.request("POST", "api/v2/write", params=PARAMS, data=BODY, headers=TEXT, raw=True)  # through the session
    assert len(direct_calls) == 1
    direct, session = recorder.seen
    same_request(direct, session)
    assert direct["target"] == "/api/v2/write?org=my+org&bucket=b%2F1&precision=ms"
    assert direct["headers"]["Authorization"] == "Token s3cret" and direct["headers"]["X-Mine"] == "1"
    # Straight to the adapter's own urllib3 pool: no session, no adapter.send.
    assert isinstance(response.raw, urllib3.HTTPResponse) and response.connection is t._adapter
    assert len(t._adapter.poolmanager.pools) == 1  # the session's pool, shared


@pytest.mark.parametrize("direct", [True, False])
def test_a_read_timeout_is_the_same_error_on_both_paths(recorder, direct):
    recorder.answers = [(204, {"X-Delay": "1.5"})] * 2
    t = transport(recorder.url, timeout=0.5, retries=1, direct=direct)
    with pytest.raises(requests.exceptions.ConnectionError) as info:
        write(t)
    assert type(info.value) is requests.exceptions.ConnectionError  # what requests raises for it
    assert "did not answer within the timeout (0.5s)" in str(info.value)


@pytest.mark.parametrize("direct", [True, False])
def test_a_refused_connection_is_the_same_error_on_both_paths(direct):
    from influx_compat.testing._engine import free_port

    t = transport(f"http://127.0.0.1:{free_port()}", retries=1, direct=direct)
    with pytest.raises(requests.exceptions.ConnectionError) as info:
        write(t)
    assert type(info.value) is requests.exceptions.ConnectionError
    assert "could not reach the InfluxDB server at http://127.0.0.1:" in str(info.value)
    assert "Connection refused" in str(info.value)


def test_basic_credentials_and_gzip_are_the_same_on_the_direct_path(recorder, direct_calls):
    t = transport(recorder.url, gzip=True)
    t.auth = Auth(basic=("joe", "pw"))
    write(t)
    t.request("POST", "api/v2/write", params=PARAMS, data=BODY, headers=TEXT, raw=True)
    assert len(direct_calls) == 1
    direct, session = recorder.seen
    same_request(direct, session)
    assert direct["headers"]["Authorization"].startswith("Basic ")
    assert gzip.decompress(direct["body"]) == BODY


def test_the_observer_sees_the_direct_answer(recorder, direct_calls):
    recorder.answers = [(204, {"X-Influxdb-Build": "OSS"})]
    t = transport(recorder.url)
    seen: List[Tuple[str, str]] = []
    t.observer = lambda r: seen.append((r.headers["X-Influxdb-Build"], r.request.method or ""))
    write(t)
    assert direct_calls and seen == [("OSS", "POST")]


def test_a_session_with_something_of_its_own_gets_every_request(recorder, direct_calls):
    hooked: List[int] = []
    session = requests.Session()
    session.hooks["response"].append(lambda r, **kw: hooked.append(r.status_code))
    write(transport(recorder.url, session=session))
    assert hooked == [204] and not direct_calls

    session = requests.Session()
    session.cookies.set("sid", "abc")
    write(transport(recorder.url, session=session))
    assert recorder.seen[-1]["headers"]["Cookie"] == "sid=abc" and not direct_calls

    class Mine(requests.Session):
        pass

    write(transport(recorder.url, session=Mine()))
    assert not direct_calls


def test_an_adapter_the_user_mounted_is_used(recorder, direct_calls):
    used: List[str] = []

    class Counting(requests.adapters.HTTPAdapter):
        def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
            used.append(request.url)
            return super().send(request, *args, **kwargs)

    session = requests.Session()
    t = transport(recorder.url, session=session)
    session.mount(recorder.url, Counting())
    write(t)
    assert len(used) == 1 and not direct_calls


def test_a_patched_session_gets_every_request(direct_calls):
    with requests_mock.Mocker() as mock:
        mock.post("http://db.example:8086/api/v2/write", status_code=204)
        assert write(transport("http://db.example:8086")).status_code == 204
        assert mock.call_count == 1
    assert not direct_calls


def test_a_patched_adapter_gets_every_request(recorder, direct_calls):
    t = transport(recorder.url)
    sent: List[str] = []
    original = t._adapter.send

    def send(request: Any, **kwargs: Any) -> Any:
        sent.append(request.url)
        return original(request, **kwargs)

    t._adapter.send = send  # type: ignore[method-assign]
    write(t)
    assert len(sent) == 1 and not direct_calls


def test_proxies_from_the_environment_send_writes_through_the_session(recorder, direct_calls, monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # bypassed by NO_PROXY: the write still lands
    write(transport(recorder.url))
    assert not direct_calls and len(recorder.seen) == 1


def test_a_cookie_the_server_sets_is_kept_and_sent_back(recorder, direct_calls):
    recorder.answers = [(204, {"Set-Cookie": "sid=xyz; Path=/"})]
    t = transport(recorder.url)
    write(t)
    write(t)
    assert len(direct_calls) == 1  # the second goes through the session, which sends the cookie
    assert recorder.seen[1]["headers"]["Cookie"] == "sid=xyz"


def test_a_redirect_is_followed_by_the_session(recorder, direct_calls):
    moved = (307, {"Location": recorder.url + "/api/v2/write?org=o&bucket=b"})
    recorder.answers = [moved, moved]  # the direct path's answer, then the session's, which it follows
    response = write(transport(recorder.url))
    assert response.status_code == 204 and [r.status_code for r in response.history] == [307]
    assert [s["target"] for s in recorder.seen][-1] == "/api/v2/write?org=o&bucket=b"
    assert recorder.seen[-1]["body"] == BODY and len(direct_calls) == 1


def test_a_write_answered_500_is_sent_again(recorder, direct_calls, monkeypatch):
    monkeypatch.setattr("influx_compat._transport.time.sleep", lambda s: None)
    recorder.answers = [(500, {}), (500, {"Retry-After": "0"}), (204, {})]
    assert write(transport(recorder.url)).status_code == 204
    assert len(recorder.seen) == 3


def test_a_write_answered_500_more_often_than_503_is_retried_raises(recorder, monkeypatch):
    monkeypatch.setattr("influx_compat._transport.time.sleep", lambda s: None)
    recorder.answers = [(500, {})] * 10
    t = transport(recorder.url)
    with pytest.raises(InfluxDBServerError, match="500"):
        t.request("POST", "api/v2/write", params=PARAMS, data=BODY, headers=TEXT, write=True, expected=204)
    assert len(recorder.seen) == 1 + t.status_retries == 4


def test_only_writes_are_retried_on_500(recorder, monkeypatch):
    monkeypatch.setattr("influx_compat._transport.time.sleep", lambda s: None)
    recorder.answers = [(500, {}), (204, {})]
    with pytest.raises(InfluxDBServerError):
        transport(recorder.url).request("GET", "query", params={"q": "SHOW DATABASES"})
    assert len(recorder.seen) == 1


def test_a_503_on_the_direct_path_is_retried_by_the_adapter(recorder, direct_calls):
    recorder.answers = [(503, {"Retry-After": "0"}), (204, {})]
    assert write(transport(recorder.url)).status_code == 204
    assert len(direct_calls) == 1 and len(recorder.seen) == 2


def test_direct_false_sends_everything_through_the_session(recorder, direct_calls):
    write(transport(recorder.url, direct=False))
    assert not direct_calls and len(recorder.seen) == 1


def _retry_after(value: Optional[str]) -> float:
    from influx_compat._transport import _status_delay

    response = requests.Response()
    if value is not None:
        response.headers["Retry-After"] = value
    return _status_delay(response, 1)


def test_the_500_backoff_is_the_503_one():
    assert _retry_after("2") == 2.0
    assert 0 <= _retry_after(None) <= 0.2  # urllib3: no backoff before the first retry, plus jitter
    assert _retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # a date in the past
