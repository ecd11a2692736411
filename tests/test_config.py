"""Configuration and credential resolution (influx_compat._config)."""

import pytest

from influx_compat._config import resolve_settings


def test_defaults_without_anything():
    s = resolve_settings(env={"HOME": "/nonexistent"})
    assert s.base_url == "http://localhost:8086"
    assert s.credentials.token is None
    assert not s.credentials.has_legacy  # root/root is not a credential on 2.x
    assert s.org is None


def test_explicit_arguments_win_over_environment():
    env = {"INFLUX_TOKEN": "env-token", "INFLUX_ORG": "env-org", "INFLUX_HOST": "http://h:1"}
    s = resolve_settings(host="other", port=9999, token="arg-token", org="arg-org", env=env)
    assert s.base_url == "http://other:9999"
    assert s.credentials.token == "arg-token"
    assert s.credentials.token_source == "the token= argument"
    assert s.org == "arg-org"


def test_influx_names_before_official_client_names():
    env = {
        "INFLUX_TOKEN": "a",
        "INFLUXDB_V2_TOKEN": "b",
        "INFLUXDB_V2_ORG": "o2",
        "INFLUXDB_V2_URL": "https://srv:8443/",
        "HOME": "/nonexistent",
    }
    s = resolve_settings(env=env)
    assert s.credentials.token == "a"
    assert s.org == "o2"
    assert s.base_url == "https://srv:8443"


def test_env_url_used_only_with_default_host_and_port():
    env = {"INFLUX_HOST": "http://127.0.0.1:12345", "HOME": "/nonexistent"}
    assert resolve_settings(host="localhost", port=8086, env=env).base_url == "http://127.0.0.1:12345"
    assert resolve_settings(host="db", port=8086, env=env).base_url == "http://db:8086"


def test_path_and_ssl_shape_the_url():
    s = resolve_settings(host="h", port=1, ssl=True, path="somepath", env={"HOME": "/x"})
    assert s.base_url == "https://h:1/somepath"


def test_invalid_port_raises_value_error():
    with pytest.raises(ValueError):
        resolve_settings(port="80/redir", env={})


def test_cli_config_active_profile(tmp_path):
    cfg = tmp_path / "configs"
    cfg.write_text(
        '[other]\n  url = "http://other:8086"\n  token = "t-other"\n  org = "o-other"\n'
        "  active = false\n\n"
        '[default]\n  url = "http://cli-host:8086"\n  token = "t-cli"\n  org = "o-cli"\n'
        "  active = true\n"
    )
    s = resolve_settings(env={"INFLUX_CONFIGS_PATH": str(cfg)})
    assert s.base_url == "http://cli-host:8086"
    assert s.credentials.token == "t-cli"
    assert "influx CLI config profile 'default'" in s.credentials.token_source
    assert s.org == "o-cli"
    # the environment still wins over the file
    s = resolve_settings(env={"INFLUX_CONFIGS_PATH": str(cfg), "INFLUX_TOKEN": "env"})
    assert s.credentials.token == "env"


def test_cli_config_in_home(tmp_path):
    (tmp_path / ".influxdbv2").mkdir()
    (tmp_path / ".influxdbv2" / "configs").write_text(
        '[default]\nurl = "http://x:1"\ntoken = "tok"\norg = "org"\nactive = true\n'
    )
    s = resolve_settings(env={"HOME": str(tmp_path)})
    assert s.credentials.token == "tok"


def test_legacy_credentials():
    s = resolve_settings(username="bob", password="secret", env={"HOME": "/x"})
    assert s.credentials.has_legacy
    assert "bob" in s.credentials.describe()
    assert "secret" not in s.credentials.describe()


def test_token_not_in_repr():
    s = resolve_settings(token="supersecret-token", password="pw-secret", env={})
    assert "supersecret-token" not in repr(s)
    assert "pw-secret" not in repr(s)


def test_bucket_map_forms():
    s = resolve_settings(bucket_map={"db1": "b1", "db2/rp2": "b2", ("db3", "rp3"): "b3"}, env={})
    assert s.bucket_map == {("db1", None): "b1", ("db2", "rp2"): "b2", ("db3", "rp3"): "b3"}
    with pytest.raises(TypeError):
        resolve_settings(bucket_map={1: "x"}, env={})


def test_base_url_source_names_the_setting_that_chose_the_server(tmp_path):
    """Errors about an unreachable server quote it: each way of giving the URL says its own name."""
    cfg = tmp_path / "configs"
    cfg.write_text('[prod]\n  url = "http://cli:8086"\n  active = true\n')
    home = {"HOME": "/nonexistent"}
    cases = [
        (resolve_settings(env=home), "influxdb-python's default host and port"),
        (resolve_settings(host="db", env=home), "the host= and port= arguments"),
        (resolve_settings(url="http://u:1", env=home), "the url= argument"),
        (resolve_settings(env=dict(home, INFLUX_HOST="http://e:1")), "the environment variable INFLUX_HOST"),
        (
            resolve_settings(env=dict(home, INFLUXDB_V2_URL="http://e:2")),
            "the environment variable INFLUXDB_V2_URL",
        ),
        (
            resolve_settings(env={"INFLUX_CONFIGS_PATH": str(cfg)}),
            f"the influx CLI config profile 'prod' in {cfg}",
        ),
    ]
    assert [s.base_url_source for s, _ in cases] == [source for _, source in cases]
    assert [s.base_url for s, _ in cases] == [
        "http://localhost:8086",
        "http://db:8086",
        "http://u:1",
        "http://e:1",
        "http://e:2",
        "http://cli:8086",
    ]


def test_org_source_names_the_setting_that_chose_the_org():
    assert resolve_settings(org="a", env={}).org_source == "the org= argument"
    assert resolve_settings(env={"INFLUX_ORG": "b"}).org_source == "the environment variable INFLUX_ORG"
