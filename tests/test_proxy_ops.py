"""The proxy for its operator: start-up, access log, errors, limits, large bodies, many clients."""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import subprocess
import sys
import threading
import time
import tracemalloc
import zlib

import pytest
import requests
import waitress

from influx_compat._proxy_body import RequestBody, inflate, line_batches
from influx_compat.proxy import Limits, ProxyApp, ProxyConfigError, build
from influx_compat.testing._engine import free_port
from tests.faultproxy import FaultProxy

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


_RUNNING = []


@pytest.fixture
def proxy(v2_server):
    """Start a proxy in front of the v2 test server (or ``url=``); returns its URL."""

    def start(threads=4, **kwargs):
        kwargs.setdefault("url", v2_server.url)
        kwargs.setdefault("token", v2_server.token)
        kwargs.setdefault("org", v2_server.org)
        app = ProxyApp(**kwargs)
        server = waitress.create_server(app, host="127.0.0.1", port=0, threads=threads)
        threading.Thread(target=server.run, daemon=True).start()
        started.append((server, app))
        return f"http://127.0.0.1:{server.effective_port}"

    started = []
    yield start
    # waitress's run loop has no clean stop from another thread (closing its trigger under a busy worker
    # fails): the running servers stay referenced, so never collected half-open, and end with the tests.
    _RUNNING.extend(started)


def _close(server):
    server.close()
    server.task_dispatcher.shutdown()


def _count(url, db, measurement="m"):
    r = requests.get(url + "/query", params={"q": f'SELECT count(*) FROM "{measurement}"', "db": db})
    assert r.status_code == 200, r.text
    series = r.json()["results"][0].get("series")
    return series[0]["values"][0][1] if series else 0


def _create(url, db):
    r = requests.post(url + "/query", data={"q": f'CREATE DATABASE "{db}"'})
    assert r.status_code == 200 and "error" not in r.json()["results"][0], r.text


def _lines(n, start=0, tag="a"):
    return b"".join(
        b"m,t=%s v=%d %d\n" % (tag.encode(), i, 1_600_000_000 + i) for i in range(start, start + n)
    )


def _clean_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INFLUX", "INFLUXDB_V2"))}
    env["INFLUX_CONFIGS_PATH"] = os.devnull
    env["PYTHONPATH"] = ROOT
    return env


# -- start-up ----------------------------------------------------------------------


def test_no_token_refuses_to_start_with_a_clear_message_and_a_non_zero_exit(tmp_path):
    env = _clean_env()
    env["HOME"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "influx_compat.proxy", "--listen", "127.0.0.1:0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "no token for the upstream" in done.stderr and "INFLUX_TOKEN" in done.stderr
    assert "Traceback" not in done.stderr
    with pytest.raises(ProxyConfigError, match="--without-token"):
        ProxyApp(url="http://127.0.0.1:9", env={}, username=None, password=None)
    assert ProxyApp(url="http://127.0.0.1:9", env={}, allow_no_token=True).core.credentials.token is None


def test_an_open_proxy_on_a_network_address_is_refused_unless_asked_for(v2_server):
    options = dict(url=v2_server.url, token=v2_server.token, org=v2_server.org, threads=1)
    with pytest.raises(ProxyConfigError, match="without --user"):
        build("0.0.0.0:0", **options)
    for server, _, line in (
        build("0.0.0.0:0", open_network=True, **options),
        build("0.0.0.0:0", user=("alice", "a-secret-1"), **options),
    ):
        _close(server)
        assert line.startswith("influx_compat proxy listening on http://0.0.0.0:")
    busy = free_port()
    server, _, _ = build(f"127.0.0.1:{busy}", **options)
    try:
        with pytest.raises(ProxyConfigError, match=f"cannot listen on 127.0.0.1:{busy}"):
            build(f"127.0.0.1:{busy}", **options)
    finally:
        _close(server)


def test_the_start_up_line_names_address_upstream_org_flavour_callers_and_limits(v2_server, tmp_path):
    env = _clean_env()
    env.update(v2_server.env(), HOME=str(tmp_path), INFLUX_COMPAT_PROXY_USER="alice:a-secret-1")
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "influx_compat.proxy",
            "--listen",
            "127.0.0.1:0",
            "--max-body-size",
            "1000000",
        ],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = child.stderr.readline()
        assert line.startswith("influx_compat proxy listening on "), line
        match = re.search(r"listening on (http://127\.0\.0\.1:\d+) ", line)
        assert match, line
        assert f"upstream {v2_server.url} (from the environment variable INFLUX_HOST)" in line
        assert "InfluxDB 2.x v2." in line and "(from its answer to GET /ping (X-Influxdb-Build: OSS" in line
        assert f"org {v2_server.org!r} (from the environment variable INFLUX_ORG)" in line
        assert "token from the environment variable INFLUX_TOKEN" in line
        assert "callers must give user 'alice'" in line and "a-secret-1" not in line
        assert "max-body-size 1,000,000 bytes after decompression" in line
        assert "writes 8 at once, 4 waiting (30 s)" in line and "access log: stderr" in line
        assert v2_server.token not in line
        url = match.group(1)
        r = requests.get(url + "/query", params={"q": "SHOW DATABASES", "u": "alice", "p": "a-secret-1"})
        assert r.status_code == 200
        assert requests.get(url + "/query", params={"q": "SHOW DATABASES"}).status_code == 401
        access = child.stderr.readline()
        assert '"GET /query?q=SHOW+DATABASES&u=[REDACTED]&p=[REDACTED] HTTP/1.1" 200 ' in access
        assert " - alice [" in access and "a-secret-1" not in access
    finally:
        child.terminate()
        child.wait(timeout=30)
        child.stderr.close()


# -- the access log ----------------------------------------------------------------------

LINE = re.compile(
    r'^(?P<client>\S+) - (?P<user>\S+) \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d \+0000\] "(?P<request>[^"]*)" '
    r'(?P<status>\d{3}) (?P<bytes>\d+) "(?P<referer>[^"]*)" "(?P<agent>[^"]*)" (?P<id>\S+) (?P<micros>\d+)$'
)


def test_the_access_log_is_1x_combined_format_and_never_holds_a_secret(proxy, v2_server, caplog):
    url = proxy(user=("alice", "a-secret-1"))
    caplog.set_level("INFO", logger="influx_compat.proxy.access")
    auth = {"u": "alice", "p": "a-secret-1"}
    _create_as = requests.post(url + "/query", params=auth, data={"q": 'CREATE DATABASE "logs"'})
    assert _create_as.status_code == 200
    r = requests.post(url + "/write", params=dict(auth, db="logs"), data=b"m v=1 1\n")
    assert r.status_code == 204
    requests.get(
        url + "/query",
        params={"q": "CREATE USER bob WITH PASSWORD 'b-secret-2'"},
        auth=("alice", "a-secret-1"),
    )
    requests.get(
        url + "/query", params={"q": "SET PASSWORD FOR bob = 'b-secret-3'", "u": "alice", "p": "a-secret-1"}
    )
    requests.get(
        url + "/query", params={"q": "SHOW DATABASES"}, headers={"Authorization": "Token alice:wrong-4"}
    )
    requests.get(url + "/query", params={"q": "SHOW DATABASES", "u": "mallory", "p": "guess-5"})
    lines = [rec.getMessage() for rec in caplog.records if rec.name == "influx_compat.proxy.access"]
    assert len(lines) == 6
    for text in lines:
        for secret in (
            "a-secret-1",
            "b-secret-2",
            "b-secret-3",
            "wrong-4",
            "guess-5",
            "mallory",
            v2_server.token,
        ):
            assert secret not in text
        match = LINE.match(text)
        assert match, text
        assert match["client"] == "127.0.0.1" and match["agent"].startswith("python-requests/")
    parsed = [LINE.match(text) for text in lines]
    assert parsed[1]["request"] == "POST /write?u=[REDACTED]&p=[REDACTED]&db=logs HTTP/1.1"
    assert (parsed[1]["status"], parsed[1]["bytes"], parsed[1]["user"]) == ("204", "0", "alice")
    assert "WITH+PASSWORD+[REDACTED]" in parsed[2]["request"]
    assert "bob+%3D+[REDACTED]" in parsed[3]["request"]
    assert [p["status"] for p in parsed[4:]] == ["401", "401"] and [p["user"] for p in parsed[4:]] == [
        "-",
        "-",
    ]
    assert int(parsed[0]["bytes"]) == len(_create_as.content)
    assert parsed[0]["id"] == _create_as.headers["X-Request-Id"]


def test_the_access_log_can_be_off(proxy, caplog):
    url = proxy(access_log=False)
    caplog.set_level("INFO", logger="influx_compat.proxy.access")
    assert requests.get(url + "/query", params={"q": "SHOW DATABASES"}).status_code == 200
    assert not [rec for rec in caplog.records if rec.name == "influx_compat.proxy.access"]


# -- errors for the proxy's caller --------------------------------------------------------


def test_an_upstream_that_is_down_is_named_by_its_url(proxy, caplog):
    down = f"http://127.0.0.1:{free_port()}"
    url = proxy(url=down, retries=1)
    r = requests.get(url + "/query", params={"q": "SHOW DATABASES"})
    assert r.status_code == 502 and r.json()["error"] == (
        f"influx_compat proxy: the upstream {down} is unreachable (ConnectionError)"
    )
    r = requests.post(url + "/write", params={"db": "x"}, data=_lines(3))
    assert r.status_code == 502 and down in r.json()["error"]
    assert requests.get(url + "/ping").status_code == 502
    assert any(down in rec.getMessage() for rec in caplog.records if rec.name == "influx_compat.proxy")


def test_a_missing_database_says_to_create_it_through_the_proxy(proxy):
    url = proxy()
    r = requests.post(url + "/write", params={"db": "nowhere"}, data=b"m v=1\n")
    assert r.status_code == 404
    error = r.json()["error"]
    assert error.startswith('database not found: "nowhere"')
    assert 'create it through this proxy: POST /query with q=CREATE DATABASE "nowhere"' in error
    assert "client." not in error and "bucket_map" not in error
    assert r.headers["X-Influxdb-Error"] == error
    _create(url, "there")
    r = requests.post(url + "/write", params={"db": "there", "rp": "week"}, data=b"m v=1\n")
    assert r.status_code == 404
    assert 'q=CREATE RETENTION POLICY "week" ON "there" DURATION 0s REPLICATION 1' in r.json()["error"]
    assert "client." not in r.json()["error"]


def test_a_token_the_upstream_refuses_is_the_operators_problem_not_the_callers(proxy, caplog):
    url = proxy(token="not-the-token")
    r = requests.post(url + "/write", params={"db": "x"}, data=b"m v=1\n")
    assert r.status_code == 502
    assert "refused the proxy's credentials" in r.json()["error"] and "not-the-token" not in r.text
    assert any("refused the proxy's credentials" in rec.getMessage() for rec in caplog.records)


def test_a_query_without_q_gets_1x_answer(proxy):
    r = requests.get(proxy() + "/query")
    assert r.status_code == 400 and r.json() == {"error": 'missing required parameter "q"'}


# -- body limits, measured after decompression ---------------------------------------------


def _gzip_bomb(megabytes, line=b"m,t=bomb v=1 1600000000\n"):
    """A gzip body of about ``megabytes`` MB of line protocol, built without holding them; and its lines."""
    out = io.BytesIO()
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    per_block = 1024 * 1024 // len(line)
    block = line * per_block
    for _ in range(megabytes):
        out.write(packer.compress(block))
    out.write(packer.flush())
    return out.getvalue(), megabytes * per_block


def test_a_gzip_body_inflating_past_max_body_size_gets_1x_413_and_nothing_is_stored(proxy, v2_server):
    url = proxy()
    _create(url, "big")
    bomb, _ = _gzip_bomb(300)
    assert len(bomb) < 2 * 1024 * 1024
    started = time.monotonic()
    r = requests.post(url + "/write", params={"db": "big"}, data=bomb, headers={"Content-Encoding": "gzip"})
    took = time.monotonic() - started
    assert r.status_code == 413 and r.content == b'{"error":"Request Entity Too Large"}\n'
    assert r.headers["X-Influxdb-Error"] == "Request Entity Too Large"
    assert took < 30
    assert not [rec for rec in v2_server.requests if rec.path == "/api/v2/write"]
    assert _count(url, "big") == 0


def test_a_plain_body_past_the_limit_is_refused_before_anything_is_sent(proxy, v2_server):
    url = proxy(limits=Limits(max_body_size=10_000))
    _create(url, "plain")
    body = _lines(1000)
    r = requests.post(url + "/write", params={"db": "plain"}, data=body)
    assert r.status_code == 413 and r.json() == {"error": "Request Entity Too Large"}
    r = requests.post(
        url + "/write", params={"db": "plain"}, data=gzip.compress(body), headers={"Content-Encoding": "gzip"}
    )
    assert r.status_code == 413
    assert not [rec for rec in v2_server.requests if rec.path == "/api/v2/write"]
    r = requests.post(url + "/write", params={"db": "plain"}, data=_lines(100))
    assert r.status_code == 204 and _count(url, "plain") == 100


def test_inflating_a_gzip_bomb_holds_bounded_memory():
    bomb, expected = _gzip_bomb(100)
    environ = {
        "wsgi.input": io.BytesIO(bomb),
        "CONTENT_LENGTH": str(len(bomb)),
        "HTTP_CONTENT_ENCODING": "gzip",
    }
    tracemalloc.start()
    try:
        body = RequestBody(environ, 0)
        lines = batches = 0
        for batch in line_batches(body.chunks(), 10_000, 8 * 1024 * 1024):
            assert batch.endswith(b"\n")
            lines += batch.count(b"\n")
            batches += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert lines == expected
    assert batches == -(-lines // 10_000)
    assert peak < 16 * 1024 * 1024, peak


def test_batches_never_split_a_line_and_keep_every_byte():
    data = b"".join(b"m,i=%d v=%s\n" % (i, b"x" * (i % 37)) for i in range(25_000)) + b"last v=1"
    pieces = [data[i : i + 777] for i in range(0, len(data), 777)]
    batches = list(line_batches(pieces, 1000, 20_000))
    assert b"".join(batches) == data
    assert all(b.endswith(b"\n") for b in batches[:-1]) and batches[-1].endswith(b"last v=1")
    assert all(b.count(b"\n") <= 1000 and (len(b) <= 20_000 or b.count(b"\n") == 1) for b in batches)
    huge = b"m v=" + b"9" * 50_000 + b"\nm v=2\n"
    assert list(line_batches([huge], 1000, 20_000)) == [huge[:-6], b"m v=2\n"]
    two_members = gzip.compress(b"a v=1\n") + gzip.compress(b"b v=2\n")
    assert b"".join(inflate([two_members[:7], two_members[7:]])) == b"a v=1\nb v=2\n"


def test_bad_gzip_bodies_get_1x_style_400(proxy):
    url = proxy()
    _create(url, "gz")
    headers = {"Content-Encoding": "gzip"}
    r = requests.post(url + "/write", params={"db": "gz"}, data=b"m v=1\n", headers=headers)
    assert r.status_code == 400 and r.json() == {"error": "gzip: invalid header"}
    r = requests.post(
        url + "/write", params={"db": "gz"}, data=gzip.compress(_lines(1000))[:-20], headers=headers
    )
    assert r.status_code == 400 and r.json()["error"].startswith("unexpected EOF")
    assert _count(url, "gz") == 0


# -- large bodies, streamed in batches ------------------------------------------------------


def test_a_large_gzip_body_is_written_in_batches_of_whole_lines(proxy, v2_server):
    url = proxy()
    _create(url, "stream")
    body = _lines(45_000)
    r = requests.post(
        url + "/write",
        params={"db": "stream", "precision": "s"},
        data=gzip.compress(body),
        headers={"Content-Encoding": "gzip"},
    )
    assert r.status_code == 204 and r.headers["X-Influx-Compat-Lines-Stored"] == "45000"
    writes = [rec for rec in v2_server.requests if rec.path == "/api/v2/write"]
    sizes = [w.body.count(b"\n") for w in writes]
    assert sizes == [10_000, 10_000, 10_000, 10_000, 5_000]
    assert _count(url, "stream") == 45_000


def test_an_error_in_a_later_batch_says_how_many_lines_were_stored(proxy):
    url = proxy(limits=Limits(batch_lines=1000))
    _create(url, "progress")
    body = _lines(2500) + b"not line protocol\n" + _lines(1000, start=2500)
    r = requests.post(url + "/write", params={"db": "progress", "precision": "s"}, data=body)
    assert r.status_code == 400
    error = r.json()["error"]
    assert "unable to parse" in error
    assert (
        "(influx_compat proxy: lines 1-2000 of this request were stored, nothing after them; "
        "resend from line 2001)" in error
    )
    assert r.headers["X-Influx-Compat-Lines-Stored"] == "2000"
    assert _count(url, "progress") == 2000


# -- concurrent writes ---------------------------------------------------------------------------


def test_writes_beyond_the_limits_get_1x_503_answers(v2_server, proxy):
    slow = FaultProxy(v2_server.url, script=["delay"], delay=3.0)
    try:
        url = proxy(
            url=slow.url,
            threads=6,
            limits=Limits(
                max_concurrent_write_limit=1, max_enqueued_write_limit=1, enqueued_write_timeout=1.0
            ),
        )
        _create(url, "busy")
        answers = {}

        def write(name):
            answers[name] = requests.post(url + "/write", params={"db": "busy"}, data=_lines(10, tag=name))

        first = threading.Thread(target=write, args=("first",))
        first.start()
        deadline = time.monotonic() + 20
        while slow.seen == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        second = threading.Thread(target=write, args=("second",))
        second.start()
        time.sleep(0.3)
        write("third")
        second.join(30)
        first.join(30)
    finally:
        slow.close()
    assert answers["first"].status_code == 204
    for name, text in (
        ("second", b"request throttled, exceeds timeout\n"),
        ("third", b"request throttled, queue full\n"),
    ):
        assert (answers[name].status_code, answers[name].content) == (503, text)
        assert answers[name].headers["Retry-After"] == "1"
    r = requests.get(url + "/query", params={"q": 'SELECT count(*) FROM "m" GROUP BY "t"', "db": "busy"})
    assert [s["tags"]["t"] for s in r.json()["results"][0]["series"]] == ["first"]


WRITER = """
import sys, requests
url, tag, batches, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
statuses = set()
for b in range(batches):
    body = "".join(f"load,writer={tag} v={b * size + i} {1600000000 + b * size + i}\\n" for i in range(size))
    r = requests.post(url + "/write", params={"db": "many", "precision": "s"}, data=body)
    statuses.add(r.status_code)
print(sorted(statuses))
"""


def test_many_1x_clients_at_once_lose_nothing(proxy):
    url = proxy(threads=12)
    _create(url, "many")
    batches, size = 10, 1000
    children = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, url, f"p{n}", str(batches), str(size)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(2)
    ]
    statuses = []

    def thread_writer(tag):
        with requests.Session() as session:
            _thread_writes(session, tag)

    def _thread_writes(session, tag):
        for b in range(batches):
            body = "".join(
                f"load,writer={tag} v={b * size + i} {1600000000 + b * size + i}\n" for i in range(size)
            )
            gz = b % 2 == 1
            data = gzip.compress(body.encode()) if gz else body
            headers = {"Content-Encoding": "gzip"} if gz else {}
            r = session.post(
                url + "/write", params={"db": "many", "precision": "s"}, data=data, headers=headers
            )
            statuses.append(r.status_code)

    threads = [threading.Thread(target=thread_writer, args=(f"t{n}",)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    outputs = [child.communicate(timeout=300)[0].strip() for child in children]
    assert set(statuses) == {204} and len(statuses) == 8 * batches
    assert outputs == ["[204]", "[204]"]
    r = requests.get(
        url + "/query", params={"q": 'SELECT count("v") FROM "load" GROUP BY "writer"', "db": "many"}
    )
    counts = {s["tags"]["writer"]: s["values"][0][1] for s in r.json()["results"][0]["series"]}
    assert counts == {tag: batches * size for tag in [f"t{n}" for n in range(8)] + ["p0", "p1"]}
    r = requests.get(url + "/query", params={"q": 'SELECT count(*) FROM "load"', "db": "many"})
    assert r.json()["results"][0]["series"][0]["values"][0][1] == 10 * batches * size


def test_ping_answers_as_1x_did(proxy):
    url = proxy()
    r = requests.get(url + "/ping")
    assert r.status_code == 204 and r.headers["X-Influxdb-Version"] and r.headers["X-Request-Id"]
    r = requests.get(url + "/ping", params={"verbose": "true"})
    assert r.status_code == 200 and r.json() == {"version": r.headers["X-Influxdb-Version"]}
    assert requests.head(url + "/ping").status_code == 204
    assert json.loads(requests.get(url + "/nowhere").content)["error"].startswith("/nowhere is not served")


def test_a_large_gzip_body_reaches_influxdb_3_core_in_batches(v3_server):
    app = ProxyApp(url=v3_server.url, token=v3_server.token, limits=Limits(batch_lines=5000))
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    url = f"http://127.0.0.1:{server.effective_port}"
    try:
        _create(url, "three")
        body = gzip.compress(_lines(12_000))
        r = requests.post(
            url + "/write",
            params={"db": "three", "precision": "s"},
            data=body,
            headers={"Content-Encoding": "gzip"},
        )
        assert r.status_code == 204 and r.headers["X-Influx-Compat-Lines-Stored"] == "12000"
        writes = [rec for rec in v3_server.requests if "write" in rec.path]
        assert len(writes) == 3
        assert _count(url, "three") == 12_000
    finally:
        _RUNNING.append((server, app))


def test_a_large_body_reads_the_next_batch_while_one_is_sent(proxy, monkeypatch):
    from influx_compat import proxy as proxy_module

    url = proxy(limits=Limits(batch_lines=1000))
    _create(url, "overlap")
    produced = []
    real_batches, real_write = proxy_module.line_batches, proxy_module._writer.write_body
    seen = []  # (thread name, batches read so far) at each send

    def batches(*args, **kwargs):
        for batch in real_batches(*args, **kwargs):
            produced.append(batch.count(b"\n"))
            yield batch

    def write_body(send, batch, *args, **kwargs):
        time.sleep(0.05)
        seen.append((threading.current_thread().name, len(produced)))  # read by the end of this send
        return real_write(send, batch, *args, **kwargs)

    monkeypatch.setattr(proxy_module, "line_batches", batches)
    monkeypatch.setattr(proxy_module._writer, "write_body", write_body)
    r = requests.post(url + "/write", params={"db": "overlap", "precision": "s"}, data=_lines(3500))
    assert r.status_code == 204 and r.headers["X-Influx-Compat-Lines-Stored"] == "3500"
    assert produced == [1000, 1000, 1000, 500]
    assert {name for name, _ in seen} == {"influx_compat-sender"}  # one background sender
    # while batch k is sent, batch k+1 is read, and nothing after it (batch 1 is read before send 0)
    assert [count for _, count in seen] == [2, 3, 4, 4]
    assert _count(url, "overlap") == 3500
    before = len(seen)
    r = requests.post(url + "/write", params={"db": "overlap", "precision": "s"}, data=_lines(10, start=9000))
    assert r.status_code == 204 and seen[before][0] != "influx_compat-sender"  # one batch: no thread
