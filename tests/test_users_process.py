"""v1 users across clients and processes on the v2 test server, and the passwords 2.x refuses.

A long-running service creates a user with one client and grants it with the
next: 2.x re-creates the v1 authorization on a grant and needs the password,
which the process keeps in memory (never on disk, in a log, a repr or an
error).  Another process does not know it and is told what to do.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from typing import Any

import pytest

import influx_compat
from influx_compat import _users
from influx_compat.exceptions import PasswordRejectedError, UnsupportedOperationError

PASSWORD = "service-secret-1"


def _client(server: Any, **kw: Any) -> Any:
    return influx_compat.InfluxDBClient(
        host=server.host, port=server.port, token=server.token, org=server.org, **kw
    )


def _as_user(server: Any, username: str, password: str) -> Any:
    return influx_compat.InfluxDBClient(
        host=server.host, port=server.port, database="db", username=username, password=password
    )


def test_a_new_client_per_call_creates_then_grants_then_revokes(v2_server: Any) -> None:
    _client(v2_server).create_database("db")
    _client(v2_server).create_user("svc", PASSWORD)
    _client(v2_server).grant_privilege("all", "db", "svc")
    assert _client(v2_server).get_list_privileges("svc") == [
        {"database": "db", "privilege": "ALL PRIVILEGES"}
    ]
    writer = _as_user(v2_server, "svc", PASSWORD)  # the password survived the re-creation
    assert writer.write_points([{"measurement": "m", "fields": {"x": 1.0}, "time": 0}])
    _client(v2_server).revoke_privilege("write", "db", "svc")
    _client(v2_server).grant_admin_privileges("svc")
    _client(v2_server).revoke_admin_privileges("svc")
    assert _client(v2_server).get_list_privileges("svc") == [{"database": "db", "privilege": "READ"}]
    assert len(list(writer.query("SELECT * FROM m").get_points())) == 1


def test_a_password_set_by_another_client_is_the_one_used(v2_server: Any) -> None:
    _client(v2_server).create_database("db")
    _client(v2_server).query("CREATE USER \"svc\" WITH PASSWORD 'first-secret'")
    _client(v2_server).set_user_password("svc", "second-secret")
    _client(v2_server).query('GRANT READ ON "db" TO "svc"')
    assert _client(v2_server).get_list_privileges("svc") == [{"database": "db", "privilege": "READ"}]
    assert list(_as_user(v2_server, "svc", "second-secret").query("SHOW MEASUREMENTS")) == []


def test_another_process_is_told_what_to_do(v2_server: Any) -> None:
    """The child process creates the user; this process never saw the password."""
    child = textwrap.dedent(
        f"""
        import influx_compat
        c = influx_compat.InfluxDBClient(host={v2_server.host!r}, port={v2_server.port},
                                         token={v2_server.token!r}, org={v2_server.org!r})
        c.create_database("db")
        c.create_user("elsewhere", "child-secret-1")
        """
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    subprocess.run([sys.executable, "-c", child], check=True, timeout=60, env=env)
    client = _client(v2_server)
    with pytest.raises(
        UnsupportedOperationError, match=r"set_user_password\('elsewhere', password\)"
    ) as info:
        client.grant_privilege("read", "db", "elsewhere")
    assert "this process" in str(info.value) and "child-secret-1" not in str(info.value)
    client.set_user_password("elsewhere", "parent-secret-1")
    client.grant_privilege("read", "db", "elsewhere")
    assert client.get_list_privileges("elsewhere") == [{"database": "db", "privilege": "READ"}]


def test_the_passwords_are_in_no_repr_log_or_error(v2_server: Any, caplog: Any) -> None:
    caplog.set_level(logging.DEBUG)
    client = _client(v2_server)
    client.create_database("db")
    client.create_user("quiet", PASSWORD)
    client.grant_privilege("read", "db", "quiet")
    with pytest.raises(influx_compat.InfluxDBClientError) as info:
        client.create_user("quiet", "another-secret-9")
    shown = [repr(client), repr(client._core), repr(_users._PASSWORDS), str(info.value), caplog.text]
    assert not any(PASSWORD in text or "another-secret-9" in text for text in shown)
    assert repr(_users._PASSWORDS).startswith("<v1 passwords set by this process: ")


@pytest.mark.parametrize(
    "password, why",
    [
        ("test", "shorter"),  # influxdb-python's own tests use it; 1.x took it
        ("", "shorter"),
        ("x" * 73, "longer"),
        ("\u00e9" * 37, "longer"),  # 37 characters, 74 bytes: 2.x counts bytes
    ],
)
def test_passwords_2x_refuses_raise_before_anything_is_created(
    v2_server: Any, password: str, why: str
) -> None:
    client = _client(v2_server)
    before = client.get_list_users()
    with pytest.raises(PasswordRejectedError, match=f"between 8 and 72 characters.*is {why}") as info:
        client.create_user("weak", password)
    assert isinstance(info.value, influx_compat.InfluxDBClientError) and info.value.username == "weak"
    assert (password or "\0") not in str(info.value).replace("weak", "")
    with pytest.raises(PasswordRejectedError):
        client.query(f"CREATE USER weak WITH PASSWORD '{password}'")
    assert client.get_list_users() == before
    assert not [
        r
        for r in v2_server.requests
        if r.path.startswith("/private/legacy/authorizations") and r.method == "POST"
    ]


def test_a_password_of_8_and_of_72_bytes_is_taken(v2_server: Any) -> None:
    client = _client(v2_server)
    client.create_user("short", "12345678")
    client.create_user("long", "\u00e9" * 36)  # 72 bytes
    assert sorted(u["user"] for u in client.get_list_users()) == ["long", "short"]


def test_set_password_2x_refuses_leaves_the_old_one(v2_server: Any) -> None:
    client = _client(v2_server)
    client.create_database("db")
    client.create_user("keeper", PASSWORD)
    with pytest.raises(PasswordRejectedError, match="SET PASSWORD|between 8 and 72"):
        client.set_user_password("keeper", "short")
    with pytest.raises(influx_compat.InfluxDBClientError, match="user not found"):
        client.set_user_password("nobody", "short")  # 1.x names the missing user first
    client.grant_privilege("read", "db", "keeper")  # the remembered password is still the right one
    assert list(_as_user(v2_server, "keeper", PASSWORD).query("SHOW MEASUREMENTS")) == []
