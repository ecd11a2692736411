"""The token only ever travels in the Authorization header; TLS verifies when asked; redirects to
another host lose the Authorization header."""

from __future__ import annotations

import base64
import logging
import ssl
import threading
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List

import pytest
import requests
import trustme

import influx_compat
from influx_compat import _transport
from influx_compat.exceptions import InfluxDBClientError


def test_token_appears_only_in_the_authorization_header(v2_server, caplog):
    caplog.set_level(logging.DEBUG)  # influx_compat's and urllib3's debug logs too
    token = v2_server.token
    texts: List[str] = []
    client = influx_compat.InfluxDBClient(url=v2_server.url, token=token, org=v2_server.org, database="sec")
    texts.append(repr(client))
    client.create_database("sec")
    client.write_points([{"measurement": "m", "fields": {"v": 1}, "time": 1}])
    client.query("SELECT * FROM m")
    client.create_retention_policy("week", "7d", 1, "sec")
    client.create_user("someone", "p-secret-1")
    client.grant_privilege("read", "sec", "someone")
    client.get_list_series()
    client.delete_series(measurement="m")
    failing = [
        lambda: client.write_points([{"measurement": "m", "fields": {"v": float("nan")}}]),
        lambda: client.write_points(["not line protocol"], protocol="line"),
        lambda: client.query("SELECT * FROM m", database="missing"),
        lambda: client.query("SELEKT nonsense"),
        lambda: client.create_continuous_query("cq", "SELECT mean(v) INTO x FROM m GROUP BY time(1h)"),
        lambda: client.drop_user("nobody"),
        lambda: influx_compat.InfluxDBClient(
            url=v2_server.url, token=token + "x", org=v2_server.org, database="sec"
        ).query("SELECT * FROM m"),
    ]
    for call in failing:
        with pytest.raises(Exception) as info:
            call()
        texts.append(str(info.value))
        texts.append(repr(info.value))
    texts.append(caplog.text)
    for record in v2_server.requests:
        texts.append(record.path + " " + str(record.query) + " " + record.body.decode("utf-8", "replace"))
        # the user's own credentials when a grant checks the password it keeps (never the token)
        user = "Basic " + base64.b64encode(b"someone:p-secret-1").decode()
        assert record.headers.get("Authorization") in (None, "Token " + token, "Token " + token + "x", user)
    leaks = [t for t in texts if token in t]
    assert not leaks, leaks[:3]
    assert any(r.headers.get("Authorization") == "Token " + token for r in v2_server.requests)


def test_a_401_says_what_was_tried_and_how_to_give_a_token(v2_server):
    client = influx_compat.InfluxDBClient(
        url=v2_server.url, token="wrong-token", org=v2_server.org, database="sec"
    )
    with pytest.raises(InfluxDBClientError) as info:
        client.query("SELECT * FROM m")
    text = str(info.value)
    assert info.value.code == 401 and "token" in text.lower() and "INFLUX_TOKEN" in text
    assert "wrong-token" not in text


# -- TLS -----------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: List[Dict[str, str]] = []

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        type(self).seen.append(dict(self.headers.items()))
        if self.path.startswith("/ping"):
            self.send_response(204)
            self.send_header("X-Influxdb-Version", "v2.7.10")
            self.end_headers()
            return
        body = b'{"results":[{"statement_id":0}]}\n'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def tls_server(tmp_path):
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(context)
    ca.configure_trust(context)  # client certificates, when required, must come from this CA
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    ca_path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    client_cert = ca.issue_cert("client@example")
    cert_path = tmp_path / "client.pem"
    client_cert.private_key_and_cert_chain_pem.write_to_path(str(cert_path))
    yield {"port": server.server_address[1], "ca": str(ca_path), "context": context, "cert": str(cert_path)}
    server.shutdown()
    server.server_close()


def _client(tls: Dict[str, Any], **kwargs: Any) -> influx_compat.InfluxDBClient:
    return influx_compat.InfluxDBClient(
        host="127.0.0.1", port=tls["port"], ssl=True, token="t", org="o", database="db", **kwargs
    )


def test_tls_verifies_against_a_ca_bundle(tls_server):
    assert _client(tls_server, verify_ssl=tls_server["ca"]).ping() == "v2.7.10"


def test_tls_verification_fails_clearly_without_the_ca(tls_server):
    with pytest.raises(requests.exceptions.SSLError, match="CERTIFICATE_VERIFY_FAILED"):
        _client(tls_server, verify_ssl=True, retries=1).ping()


def test_unverified_tls_warns_once_and_the_environment_turns_verification_on(tls_server, monkeypatch):
    _transport._unverified_warned = False
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert _client(tls_server).ping() == "v2.7.10"  # 5.3.2's default verify_ssl=False
        assert _client(tls_server).ping() == "v2.7.10"
    ours = [w for w in caught if "are not verified" in str(w.message)]
    assert len(ours) == 1 and "INFLUX_COMPAT_VERIFY_SSL=1" in str(ours[0].message)
    monkeypatch.setenv("INFLUX_COMPAT_VERIFY_SSL", "1")
    with pytest.raises(requests.exceptions.SSLError):
        _client(tls_server, retries=1).ping()


def test_client_certificates(tls_server):
    tls_server["context"].verify_mode = ssl.CERT_REQUIRED
    assert _client(tls_server, verify_ssl=tls_server["ca"], cert=tls_server["cert"]).ping() == "v2.7.10"
    with pytest.raises(requests.exceptions.RequestException):
        _client(tls_server, verify_ssl=tls_server["ca"], retries=1).ping()


# -- redirects ------------------------------------------------------------------------


def test_redirects_to_another_host_lose_the_authorization_header():
    other = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    other.daemon_threads = True
    threading.Thread(target=other.serve_forever, daemon=True).start()
    target = f"http://localhost:{other.server_address[1]}/query"

    class Redirect(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(307)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()

    first = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    first.daemon_threads = True
    threading.Thread(target=first.serve_forever, daemon=True).start()
    _Handler.seen = []
    try:
        client = influx_compat.InfluxDBClient(
            url=f"http://127.0.0.1:{first.server_address[1]}", token="secret-token", org="o", database="db"
        )
        client.query("SELECT * FROM m")
    finally:
        first.shutdown()
        other.shutdown()
        first.server_close()
        other.server_close()
    assert _Handler.seen, "the redirect was not followed"
    assert all("Authorization" not in h and "secret-token" not in str(h) for h in _Handler.seen)


def test_bind_params_travel_as_parameters_never_in_the_query_text(v2_server):
    client = influx_compat.InfluxDBClient(
        url=v2_server.url, token=v2_server.token, org=v2_server.org, database="binds"
    )
    client.create_database("binds")
    client.write_points([{"measurement": "m", "tags": {"host": "a'b"}, "fields": {"v": 1}, "time": 10**9}])
    evil = 'x\' ; DROP DATABASE "binds" ; --'
    rs = client.query('SELECT * FROM "m" WHERE "host" = $host', bind_params={"host": evil})
    assert list(rs.get_points()) == []
    rs = client.query('SELECT * FROM "m" WHERE "host" = $host', bind_params={"host": "a'b"}, epoch="s")
    assert list(rs.get_points()) == [{"time": 1, "host": "a'b", "v": 1}]
    sent = [r for r in v2_server.requests if r.path == "/query"]
    assert all(evil not in r.query.get("q", [""])[0] for r in sent)
    assert {"name": "binds"} in client.get_list_database()
