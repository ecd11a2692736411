"""The public surface of influx_compat against influxdb-python 5.3.2's.

Every public function, class and method of 5.3.2's modules exists here with
the same parameter names, order, kinds and defaults.  influx_compat's new
settings are keyword-only parameters placed after 5.3.2's.
"""

import importlib
import inspect

import pytest

try:
    import influxdb  # influxdb-python 5.3.2, a test dependency
except ImportError as exc:  # pragma: no cover
    raise RuntimeError("install influxdb-python: pip install influxdb==5.3.2") from exc

import influx_compat

MODULES = ["client", "exceptions", "resultset", "line_protocol", "helper", "chunked_json"]
CLASSES = {
    "client": ["InfluxDBClient"],
    "exceptions": ["InfluxDBClientError", "InfluxDBServerError"],
    "resultset": ["ResultSet"],
    "helper": ["SeriesHelper"],
}
FUNCTIONS = {
    "line_protocol": ["make_lines", "make_line", "quote_ident", "quote_literal"],
    "chunked_json": ["loads"],
}


def _legacy_params(sig):
    return [
        (p.name, p.kind, p.default)
        for p in sig.parameters.values()
        if p.kind is not inspect.Parameter.KEYWORD_ONLY
    ]


def _assert_same(ours, theirs, where):
    a, b = inspect.signature(ours), inspect.signature(theirs)
    assert _legacy_params(a) == _legacy_params(b), f"{where}: {a} != {b}"


def test_version_matches():
    assert influxdb.__version__ == "5.3.2"
    assert influx_compat.__version__ == "5.3.2"


def test_top_level_names():
    for name in influxdb.__all__:
        assert hasattr(influx_compat, name), name


@pytest.mark.parametrize("module", MODULES)
def test_submodules_importable(module):
    importlib.import_module("influx_compat." + module)


@pytest.mark.parametrize("module, func", [(m, f) for m, fs in FUNCTIONS.items() for f in fs])
def test_function_signatures(module, func):
    ours = getattr(importlib.import_module("influx_compat." + module), func)
    theirs = getattr(importlib.import_module("influxdb." + module), func)
    _assert_same(ours, theirs, f"{module}.{func}")


def _public_methods(cls):
    """Public methods written in Python (builtins inherited from Exception are not 5.3.2's)."""
    for name, member in inspect.getmembers(cls):
        if name.startswith("_") and name != "__init__":
            continue
        if not callable(member) or not (inspect.isfunction(member) or inspect.ismethod(member)):
            continue
        yield name


@pytest.mark.parametrize("module, cls", [(m, c) for m, cs in CLASSES.items() for c in cs])
def test_class_methods(module, cls):
    ours = getattr(importlib.import_module("influx_compat." + module), cls)
    theirs = getattr(importlib.import_module("influxdb." + module), cls)
    missing = []
    for name in _public_methods(theirs):
        if not hasattr(ours, name):
            missing.append(name)
            continue
        if name == "__init__" and module == "exceptions":
            _assert_same(getattr(ours, name), getattr(theirs, name), f"{cls}.{name}")
            continue
        _assert_same(getattr(ours, name), getattr(theirs, name), f"{cls}.{name}")
    assert not missing, f"{cls} lacks {missing}"


def test_client_keyword_only_extras_follow_legacy_parameters():
    sig = inspect.signature(influx_compat.InfluxDBClient.__init__)
    kinds = [p.kind for p in sig.parameters.values()]
    extras = [p.name for p in sig.parameters.values() if p.kind is inspect.Parameter.KEYWORD_ONLY]
    assert {"token", "org"} <= set(extras)
    first_kw = kinds.index(inspect.Parameter.KEYWORD_ONLY)
    assert all(k is inspect.Parameter.KEYWORD_ONLY for k in kinds[first_kw:])


def test_exceptions_keep_legacy_shape():
    from influx_compat.exceptions import InfluxDBClientError, InfluxDBServerError

    e = InfluxDBClientError('{"error":"x"}', 400)
    assert str(e) == '400: {"error":"x"}' and e.code == 400 and e.content == '{"error":"x"}'
    e = InfluxDBClientError(b"bytes", None)
    assert str(e) == "bytes" and e.content == "bytes" and e.code is None
    assert not issubclass(InfluxDBClientError, InfluxDBServerError)
    assert not issubclass(InfluxDBServerError, InfluxDBClientError)
