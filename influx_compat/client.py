"""``InfluxDBClient``: influxdb-python 5.3.2's client, running on InfluxDB 2.x.

Signatures, defaults, return values and exceptions are 5.3.2's.  The
keyword-only arguments after ``socket_options`` are new and configure the 2.x
side: ``token``, ``org``, ``url`` and ``bucket_map``; each can also come from
the environment (``INFLUX_TOKEN``, ``INFLUX_ORG``, ``INFLUX_HOST``) or the
``influx`` CLI's config file (see :mod:`influx_compat._config`).
"""

from __future__ import annotations

import itertools
import json
import random  # noqa: F401  (influxdb-python's tests patch client.random)
import re
import socket  # noqa: F401
import threading
import warnings
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Union, cast
from urllib.parse import urlparse

import requests

from influx_compat import _writer
from influx_compat._config import Credentials, verify_from_env
from influx_compat._core import Core
from influx_compat._influxql import parse_error, quote_ident, quote_literal
from influx_compat.exceptions import InfluxDBClientError
from influx_compat.resultset import ResultSet

__all__ = ["InfluxDBClient"]

_udp_warned = False
_udp_lock = threading.Lock()


class InfluxDBClient:
    """The InfluxDB client of influxdb-python 5.3.2, translated onto InfluxDB 2.x.

    :param host: hostname to connect to InfluxDB, defaults to 'localhost'
    :param port: port to connect to InfluxDB, defaults to 8086
    :param username: legacy user to connect, defaults to 'root'
    :param password: legacy password of the user, defaults to 'root'
    :param database: database name to connect to, defaults to None
    :param ssl: use https instead of http to connect to InfluxDB
    :param verify_ssl: verify SSL certificates for HTTPS requests (bool or CA
        bundle path), defaults to False as in influxdb-python
    :param timeout: number of seconds Requests will wait for your client to
        establish a connection, defaults to None
    :param retries: number of attempts on connection errors; 0 retries until
        success, defaults to 3
    :param use_udp: use UDP to connect to InfluxDB; on 2.x, which has no UDP
        listener, the points are sent over HTTP instead (with one warning)
    :param udp_port: UDP port of influxdb-python, kept for compatibility
    :param proxies: HTTP(S) proxy to use for Requests, defaults to {}
    :param pool_size: urllib3 connection pool size, defaults to 10
    :param path: path of InfluxDB on the server to connect, defaults to ''
    :param cert: path to a client certificate (file, or (cert, key) tuple)
    :param gzip: compress request bodies with gzip, defaults to False
    :param session: a ``requests.Session`` to use, defaults to a new one
    :param headers: headers added to every request (the dict is copied)
    :param socket_options: socket options handed to urllib3
    :param token: InfluxDB 2.x API token (keyword only)
    :param org: InfluxDB 2.x organization name or ID (keyword only)
    :param url: base URL, overriding host, port, ssl and path (keyword only)
    :param bucket_map: ``{'db': 'bucket', 'db/rp': 'bucket', ('db', 'rp'):
        'bucket'}``: buckets for databases and retention policies, overriding
        the server's DBRP mappings (keyword only)
    :param flavour: the server's kind: ``'v2'``, ``'serverless'``, ``'core'``,
        ``'enterprise'``, ``'dedicated'`` or ``'clustered'``; None reads it
        from the server's answers (keyword only; env ``INFLUX_COMPAT_FLAVOUR``)
    :param management_token: Cloud Dedicated / Clustered management token,
        for database management (keyword only; env ``INFLUX_MANAGEMENT_TOKEN``)
    :param account_id: Cloud Dedicated account ID (keyword only)
    :param cluster_id: Cloud Dedicated cluster ID (keyword only)

    On InfluxDB 2.x: credentials are resolved once, in this order: the
    ``token``/``org`` arguments, the environment, the influx CLI's active
    config; without a token, ``username``/``password`` (other than
    ``root``/``root``) are sent as HTTP Basic credentials to the
    1.x-compatible endpoints, which 2.x accepts for v1 authorizations.

    On InfluxDB 3: the token (or a ``password`` holding one) goes in the
    ``Authorization`` header of every request; a retention policy ``rp`` of
    database ``db`` is the database ``db/rp``.
    """

    def __init__(
        self,
        host: str = "localhost",
        port: int = 8086,
        username: Optional[str] = "root",
        password: Optional[str] = "root",
        database: Optional[str] = None,
        ssl: bool = False,
        verify_ssl: Any = False,
        timeout: Any = None,
        retries: int = 3,
        use_udp: bool = False,
        udp_port: int = 4444,
        proxies: Optional[Dict[str, str]] = None,
        pool_size: int = 10,
        path: str = "",
        cert: Any = None,
        gzip: bool = False,
        session: Optional[requests.Session] = None,
        headers: Optional[Dict[str, str]] = None,
        socket_options: Any = None,
        *,
        token: Optional[str] = None,
        org: Optional[str] = None,
        url: Optional[str] = None,
        bucket_map: Optional[Mapping[Any, str]] = None,
        flavour: Optional[str] = None,
        management_token: Optional[str] = None,
        account_id: Optional[str] = None,
        cluster_id: Optional[str] = None,
    ) -> None:
        self.__host = host
        self.__port = int(port)
        self._username = username
        self._password = password
        self._database = database
        self._timeout = timeout
        self._retries = retries
        self._verify_ssl = verify_from_env(verify_ssl)
        self.__use_udp = use_udp
        self.__udp_port = int(udp_port)
        self._proxies = dict(proxies) if proxies else {}
        self._gzip = gzip
        self._scheme = "https" if ssl is True else "http"
        self._headers: Dict[str, str] = dict(headers) if headers else {}
        self._headers.setdefault("Accept", "application/json")
        self.__path = ("/" + path if path and not path.startswith("/") else path) or ""

        if cert:
            if not ssl:
                raise ValueError("Client certificate provided but ssl is disabled.")
        self._session = session if session is not None else requests.Session()
        if cert:
            self._session.cert = cert

        self._core = Core.from_options(
            host=host,
            port=self.__port,
            username=username,
            password=password,
            ssl=ssl,
            path=path,
            token=token,
            org=org,
            url=url,
            bucket_map=bucket_map,
            flavour=flavour,
            management_options={
                "token": management_token,
                "account_id": account_id,
                "cluster_id": cluster_id,
            },
            session=self._session,
            verify_ssl=self._verify_ssl,
            timeout=timeout,
            retries=retries,
            pool_size=pool_size,
            proxies=self._proxies,
            headers=self._headers,
            socket_options=socket_options,
            gzip=gzip,
        )
        self._transport = self._core.transport
        self.__baseurl = self._core.settings.base_url

    # -- properties kept from 5.3.2 ----------------------------------------

    @property
    def _baseurl(self) -> str:
        return self.__baseurl

    @property
    def _host(self) -> str:
        return self.__host

    @property
    def _port(self) -> int:
        return self.__port

    @property
    def _path(self) -> str:
        return self.__path

    @property
    def _udp_port(self) -> int:
        return self.__udp_port

    @property
    def _use_udp(self) -> bool:
        return self.__use_udp

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.__baseurl} database={self._database!r}>"

    def __enter__(self) -> InfluxDBClient:
        return self

    def __exit__(self, _exc_type: Any, _exc_value: Any, _traceback: Any) -> None:
        self.close()

    # -- construction --------------------------------------------------------

    @classmethod
    def from_dsn(cls, dsn: str, **kwargs: Any) -> InfluxDBClient:
        r"""Generate an instance of InfluxDBClient from given data source name.

        :param dsn: ``[udp+|https+]influxdb://[username:password@]host[:port][/database]``
            (several comma-separated hosts are accepted; only the first is used)
        :param kwargs: override the values read from the DSN
        """
        init_args = _parse_dsn(dsn)
        host, port = init_args.pop("hosts")[0]
        init_args["host"] = host
        init_args["port"] = port
        init_args.update(kwargs)
        return cls(**init_args)

    def switch_database(self, database: str) -> None:
        """Change the client's database.

        :param database: the name of the database to switch to
        """
        self._database = database

    def switch_user(self, username: str, password: str) -> None:
        """Change the client's username.

        On InfluxDB 2.x the client then authenticates with these v1
        credentials (HTTP Basic on /write and /query) instead of its token.

        :param username: the username to switch to
        :param password: the password for the username
        """
        self._username = username
        self._password = password
        self._core.set_credentials(Credentials(username=username, password=password))

    def close(self) -> None:
        """Close the HTTP session."""
        self._transport.close()

    # -- raw HTTP ------------------------------------------------------------

    def request(
        self,
        url: str,
        method: str = "GET",
        params: Optional[Dict[str, Any]] = None,
        data: Any = None,
        stream: bool = False,
        expected_response_code: int = 200,
        headers: Optional[Dict[str, str]] = None,
    ) -> requests.Response:
        """Make an HTTP request to the InfluxDB API (path below the base URL).

        :param url: the path of the HTTP request, for instance 'ping'
        :param method: the HTTP method for the request, defaults to GET
        :param params: additional parameters for the request
        :param data: the data of the request; a dict or list is sent as JSON
        :param stream: True if a query uses chunked responses
        :param expected_response_code: the expected response code
        :param headers: headers to add to the request
        :raises InfluxDBServerError: if the response code is any server error
        :raises InfluxDBClientError: if the response code is not the same as
            `expected_response_code` and is not a server error code
        """
        if isinstance(data, (dict, list)):
            data = json.dumps(data)
        return self._transport.request(
            method,
            url,
            params=params,
            data=data,
            headers=headers,
            stream=stream,
            expected=expected_response_code,
        )

    def ping(self) -> str:
        """Check connectivity to InfluxDB.

        :returns: the version of the InfluxDB the client is connected to
            (2.x answers ``v2.x.y``, 3.x ``3.x.y``, as their ``X-Influxdb-Version`` header says)
        """
        return self._core.ping()

    # -- writing -------------------------------------------------------------

    def write(
        self,
        data: Any,
        params: Optional[Dict[str, Any]] = None,
        expected_response_code: int = 204,
        protocol: str = "json",
    ) -> bool:
        """Write data to InfluxDB.

        :param data: the data to be written: a dict ``{'points': [...], 'tags':
            {...}}`` for 'json', a line or list of lines for 'line'
        :param params: additional parameters: ``db``, ``rp``, ``precision``
        :param expected_response_code: the expected response code (2.x: 204)
        :param protocol: 'json' or 'line'
        :returns: True, if the write operation is successful

        On InfluxDB 2.x: without ``db`` in ``params`` the client's database is
        used (1.x refused such a write).
        """
        params = dict(params or {})
        database = self._require_database(params.get("db") or self._database, "write")
        precision = params.get("precision")
        if protocol == "json":
            body = _writer.encode_json(data["points"], precision, data.get("tags"), data.get("measurement"))
        elif protocol == "line":
            body = _writer.encode_lines([data] if isinstance(data, (str, bytes)) else list(data), None)
        else:
            body = data.encode("utf-8") if isinstance(data, str) else data
        _writer.write_body(
            self._core.send_batch,
            body,
            database,
            params.get("rp"),
            precision,
            params.get("consistency"),
            rescale=protocol != "json",
        )
        return True

    def write_points(
        self,
        points: Any,
        time_precision: Optional[str] = None,
        database: Optional[str] = None,
        retention_policy: Optional[str] = None,
        tags: Optional[Dict[str, str]] = None,
        batch_size: Optional[int] = None,
        protocol: str = "json",
        consistency: Optional[str] = None,
    ) -> bool:
        """Write to multiple time series names.

        :param points: the list (or any iterable) of points to be written
        :param time_precision: 'n', 'u', 'ms', 's', 'm' or 'h', defaults to None
        :param database: the database to write the points to; defaults to the
            client's current database
        :param tags: a set of key-value pairs associated with each point (json)
        :param retention_policy: the retention policy for the points
        :param batch_size: number of points per request; None or 0 sends one
            request
        :param protocol: 'json' (dict points) or 'line' (line-protocol strings)
        :param consistency: accepted for compatibility; 2.x has no consistency
        :returns: True, if the operation is successful

        On InfluxDB 2.x: points go to ``/api/v2/write`` in the bucket mapped
        to (database, retention_policy); 'm' and 'h' are sent as seconds. A bad
        point raises :class:`InvalidPointError` before its batch is sent; a
        refused batch raises an error whose ``points_written`` tells how many
        points of earlier batches were stored.
        """
        _writer.check_options(time_precision, consistency)
        if self.__use_udp:
            _warn_udp()
        _writer.write_points(
            self._core.send_batch,
            points,
            time_precision,
            self._require_database(database or self._database, "write_points"),
            retention_policy,
            tags,
            batch_size,
            protocol,
            consistency,
        )
        return True

    def send_packet(self, packet: Any, protocol: str = "json", time_precision: Optional[str] = None) -> None:
        """Send an UDP packet: on 2.x, which has no UDP listener, over HTTP.

        :param packet: the packet to be sent
        :param protocol: protocol of input data, either 'json' or 'line'
        :param time_precision: the precision of the timestamps
        """
        _warn_udp()
        database = self._require_database(self._database, "send_packet")
        if protocol == "json":
            packet = packet if isinstance(packet, dict) else {"points": packet}
            _writer.write_points(
                self._core.send_batch,
                packet["points"],
                time_precision,
                database,
                tags=packet.get("tags"),
                measurement=packet.get("measurement"),
            )
        else:
            _writer.write_points(self._core.send_batch, packet, time_precision, database, protocol="line")

    @staticmethod
    def _require_database(database: Optional[str], what: str) -> str:
        if not database:
            raise InfluxDBClientError(
                f"{what} needs a database: pass database=... or create the client with "
                "database=... (InfluxDB 2.x maps it to a bucket)"
            )
        return database

    # -- querying ------------------------------------------------------------

    def query(
        self,
        query: str,
        params: Optional[Dict[str, Any]] = None,
        bind_params: Optional[Dict[str, Any]] = None,
        epoch: Optional[str] = None,
        expected_response_code: int = 200,
        database: Optional[str] = None,
        raise_errors: bool = True,
        chunked: bool = False,
        chunk_size: int = 0,
        method: str = "GET",
    ) -> Union[ResultSet, List[ResultSet], Iterator[ResultSet]]:
        """Send a query to InfluxDB.

        :param query: the actual query string
        :param params: additional parameters for the request
        :param bind_params: bind parameters for the query: a dict of
            ``$name`` values, substituted by the server
        :param epoch: response timestamps in the given precision: h, m, s,
            ms, u or ns; RFC3339 strings when None
        :param expected_response_code: the expected status code of response
        :param database: database to query, defaults to the client's
        :param raise_errors: whether or not to raise exceptions when InfluxDB
            returns errors, defaults to True
        :param chunked: enable the use of chunked responses from InfluxDB
        :param chunk_size: size of each chunk to tell InfluxDB to use
        :param method: the HTTP method for the request, defaults to GET
        :returns: the parsed ResultSet, a list of them for several statements,
            or a generator of them (one per chunk) when ``chunked``

        On InfluxDB 2.x: statements 2.x rejects (``CREATE DATABASE``, ...)
        are translated onto the v2 API; the rest goes to ``/query``.
        """
        params = dict(params) if params else {}
        if bind_params:
            merged = json.loads(params.get("params", "{}"))
            merged.update(bind_params)
            params["params"] = json.dumps(merged)
        params["q"] = query
        params["db"] = database or self._database
        if params["db"] is None:
            del params["db"]
        if epoch is not None:
            params["epoch"] = epoch
        if chunked:
            params["chunked"] = "true"
            if chunk_size > 0:
                params["chunk_size"] = chunk_size
        lowered = query.lower()
        if lowered.startswith("select ") and " into " in lowered:
            method = "POST"
        answer = self._core.query(
            params, method=method, chunked=chunked, expected=expected_response_code, compact=True
        )
        if chunked:
            return _read_chunked(answer, raise_errors)
        results = [
            ResultSet(_as_msgpack_result(r), raise_errors=raise_errors) for r in answer.get("results", [])
        ]
        if len(results) == 1:
            return results[0]
        return results

    def _statement(self, text: str, database: Optional[str] = None) -> ResultSet:
        """One statement through :meth:`query`, as 5.3.2's helpers ran theirs.

        Not chunked and a single statement, so :meth:`query` answers one
        ResultSet (its declared type also covers lists and chunk iterators).
        """
        return cast(ResultSet, self.query(text, database=database))

    # -- databases -----------------------------------------------------------

    def create_database(self, dbname: str) -> None:
        """Create a new database: on 2.x a bucket and its DBRP mapping.

        :param dbname: the name of the database to create
        """
        self._core.create_database(dbname)

    def drop_database(self, dbname: str) -> None:
        """Drop a database: on 2.x every bucket and mapping of it.

        :param dbname: the name of the database to drop
        """
        self._core.drop_database(dbname)

    def get_list_database(self) -> List[Dict[str, str]]:
        """Get the list of databases in InfluxDB.

        :returns: all databases, ``[{'name': 'db1'}, ...]``; 2.x's system
            buckets are left out
        """
        return self._core.list_databases()

    # -- measurements and series ---------------------------------------------

    def get_list_measurements(self) -> List[Dict[str, str]]:
        """Get the list of measurements of the client's database (every retention policy).

        :returns: ``[{'name': 'm1'}, ...]``
        """
        return list(self._statement("SHOW MEASUREMENTS").get_points())

    def drop_measurement(self, measurement: str) -> None:
        """Drop a measurement: on 2.x a delete of it over all time, in every bucket of the database.

        :param measurement: the name of the measurement to drop
        """
        self.query(f"DROP MEASUREMENT {quote_ident(measurement)}", method="POST")

    def get_list_series(
        self,
        database: Optional[str] = None,
        measurement: Optional[str] = None,
        tags: Optional[Dict[str, Any]] = None,
    ) -> List[str]:
        """The series keys of a database (``'m1,tag=value'``), as ``SHOW SERIES`` answers them.

        :param database: defaults to the client's database
        :param measurement: only the series of this measurement
        :param tags: only the series with these tag values
        """
        database = database or self._database
        query_str = _series_statement("SHOW SERIES", measurement, tags)
        points = self._statement(query_str, database=database).get_points()
        return list(itertools.chain.from_iterable(p.values() for p in points))

    def delete_series(
        self,
        database: Optional[str] = None,
        measurement: Optional[str] = None,
        tags: Optional[Dict[str, Any]] = None,
    ) -> None:
        """Delete series by measurement and/or tags: on 2.x through the delete API.

        :param database: defaults to the client's database
        :param measurement: the measurement of the series to delete
        :param tags: tag values of the series to delete
        """
        database = database or self._database
        self.query(_series_statement("DROP SERIES", measurement, tags), database=database, method="POST")

    # -- retention policies ----------------------------------------------------

    def create_retention_policy(
        self,
        name: str,
        duration: str,
        replication: Any,
        database: Optional[str] = None,
        default: bool = False,
        shard_duration: str = "0s",
    ) -> None:
        """Create a retention policy: on 2.x a bucket ``db/name`` with that expiry and a mapping.

        :param duration: ``'1h'``, ``'90m'``, ``'7d'``, ``'4w'``, or ``'INF'``
        :param replication: accepted and ignored (2.x has no replication factor)
        :param default: make it the database's default policy
        :param shard_duration: shard-group duration; ``'0s'`` lets the server choose
        """
        query_string = "CREATE RETENTION POLICY {} ON {} DURATION {} REPLICATION {} SHARD DURATION {}".format(
            quote_ident(name),
            quote_ident(database or self._database or ""),
            _word(duration, "duration"),
            _word(replication, "replication"),
            _word(shard_duration, "shard_duration"),
        )
        if default is True:
            query_string += " DEFAULT"
        self.query(query_string, method="POST")

    def alter_retention_policy(
        self,
        name: str,
        database: Optional[str] = None,
        duration: Optional[str] = None,
        replication: Any = None,
        default: Optional[bool] = None,
        shard_duration: Optional[str] = None,
    ) -> None:
        """Modify a retention policy: its bucket's expiry and its mapping's default flag."""
        query_string = "ALTER RETENTION POLICY {} ON {}".format(
            quote_ident(name), quote_ident(database or self._database or "")
        )
        if duration:
            query_string += f" DURATION {_word(duration, 'duration')}"
        if shard_duration:
            query_string += f" SHARD DURATION {_word(shard_duration, 'shard_duration')}"
        if replication:
            query_string += f" REPLICATION {_word(replication, 'replication')}"
        if default is True:
            query_string += " DEFAULT"
        self.query(query_string, method="POST")

    def drop_retention_policy(self, name: str, database: Optional[str] = None) -> None:
        """Drop a retention policy: its mapping and its bucket, with the bucket's data."""
        self.query(
            "DROP RETENTION POLICY {} ON {}".format(
                quote_ident(name), quote_ident(database or self._database or "")
            ),
            method="POST",
        )

    def get_list_retention_policies(self, database: Optional[str] = None) -> List[Dict[str, Any]]:
        """The retention policies of a database, with their buckets' real durations.

        :returns: ``[{'name', 'duration', 'shardGroupDuration', 'replicaN', 'default'}]``
        """
        if not (database or self._database):
            raise InfluxDBClientError(
                "get_list_retention_policies() requires a database as a "
                "parameter or the client to be using a database"
            )
        rsp = self._statement(f"SHOW RETENTION POLICIES ON {quote_ident(database or self._database or '')}")
        return list(rsp.get_points())

    # -- users and privileges ----------------------------------------------------

    def get_list_users(self) -> List[Dict[str, Any]]:
        """The v1 users (2.x's v1 authorizations): ``[{'user': name, 'admin': bool}]``."""
        return list(self._statement("SHOW USERS").get_points())

    def create_user(self, username: str, password: str, admin: bool = False) -> None:
        """Create a v1 user (a 2.x v1 authorization with that password)."""
        text = f"CREATE USER {quote_ident(username)} WITH PASSWORD {quote_literal(password)}"
        if admin:
            text += " WITH ALL PRIVILEGES"
        self.query(text, method="POST")

    def drop_user(self, username: str) -> None:
        """Drop a v1 user."""
        self.query(f"DROP USER {quote_ident(username)}", method="POST")

    def set_user_password(self, username: str, password: str) -> None:
        """Change the password of a v1 user."""
        self.query(f"SET PASSWORD FOR {quote_ident(username)} = {quote_literal(password)}")

    def grant_admin_privileges(self, username: str) -> None:
        """Give a v1 user read and write on every bucket of the organization."""
        self.query(f"GRANT ALL PRIVILEGES TO {quote_ident(username)}", method="POST")

    def revoke_admin_privileges(self, username: str) -> None:
        """Take the organization-wide bucket permissions from a v1 user."""
        self.query(f"REVOKE ALL PRIVILEGES FROM {quote_ident(username)}", method="POST")

    def grant_privilege(self, privilege: str, database: str, username: str) -> None:
        """Grant ``'read'``, ``'write'`` or ``'all'`` on a database's buckets to a v1 user."""
        privilege = _privilege_word(privilege, "GRANT")
        self.query(f"GRANT {privilege} ON {quote_ident(database)} TO {quote_ident(username)}", method="POST")

    def revoke_privilege(self, privilege: str, database: str, username: str) -> None:
        """Revoke ``'read'``, ``'write'`` or ``'all'`` on a database's buckets from a v1 user."""
        privilege = _privilege_word(privilege, "REVOKE")
        self.query(
            f"REVOKE {privilege} ON {quote_ident(database)} FROM {quote_ident(username)}", method="POST"
        )

    def get_list_privileges(self, username: str) -> List[Dict[str, str]]:
        """``[{'database': db, 'privilege': 'READ'|'WRITE'|'ALL PRIVILEGES'}]`` of a v1 user."""
        return list(self._statement(f"SHOW GRANTS FOR {quote_ident(username)}").get_points())

    # -- continuous queries --------------------------------------------------------

    def get_list_continuous_queries(self) -> List[Dict[str, List[Dict[str, str]]]]:
        """``[{db: [{'name', 'query'}, ...]}, ...]``; 2.x has none, so every list is empty."""
        return [{sk[0]: list(p)} for sk, p in self._statement("SHOW CONTINUOUS QUERIES").items()]

    def create_continuous_query(
        self, name: str, select: str, database: Optional[str] = None, resample_opts: Optional[str] = None
    ) -> None:
        """Raises :class:`UnsupportedOperationError`: 2.x runs Flux tasks instead."""
        query_string = "CREATE CONTINUOUS QUERY {} ON {}{} BEGIN {} END".format(
            quote_ident(name),
            quote_ident(database or self._database or ""),
            " RESAMPLE " + resample_opts if resample_opts else "",
            select,
        )
        self.query(query_string)

    def drop_continuous_query(self, name: str, database: Optional[str] = None) -> None:
        """Drop a continuous query; there are none on 2.x, so this only checks the database."""
        self.query(
            "DROP CONTINUOUS QUERY {} ON {}".format(
                quote_ident(name), quote_ident(database or self._database or "")
            )
        )


# -- helpers -------------------------------------------------------------------


def _series_statement(verb: str, measurement: Optional[str], tags: Optional[Dict[str, Any]]) -> str:
    """``SHOW SERIES`` / ``DROP SERIES`` with 5.3.2's clauses, every name and value quoted."""
    text = verb
    if measurement:
        text += f" FROM {quote_ident(measurement)}"
    if tags:
        text += " WHERE " + " AND ".join(
            f"{quote_ident(str(k))}={quote_literal(str(v))}" for k, v in tags.items()
        )
    return text


_WORD = re.compile(r"^[0-9A-Za-z\u00b5]+$")


def _word(value: Any, what: str) -> str:
    """A duration or number that goes into InfluxQL unquoted: one word, nothing else."""
    text = str(value)
    if not _WORD.match(text):
        raise InfluxDBClientError(
            f"invalid {what} {value!r}: expected a duration such as '7d' or 'INF', or a number", 400
        )
    return text


def _privilege_word(privilege: Any, verb: str) -> str:
    """READ, WRITE or ALL [PRIVILEGES]; else 1.x's parse error of the statement 5.3.2 would send."""
    words = str(privilege).split()
    text = " ".join(words).upper()
    if text not in ("READ", "WRITE", "ALL", "ALL PRIVILEGES"):
        # 5.3.2 sent "GRANT <privilege> ON ..."; 1.x named the first unexpected token and its column.
        found, column = (words[0], len(verb) + 2) if words else ("ON", len(verb) + 3)
        raise parse_error(f"found {found}, expected READ, WRITE, ALL [PRIVILEGES] at line 1, char {column}")
    return text


def _as_msgpack_result(result: Dict[str, Any]) -> Dict[str, Any]:
    """A result as 5.3.2 read it: it asked for MessagePack, whose answers always hold ``series``."""
    if "series" not in result and "error" not in result:
        result["series"] = []
    return result


def _read_chunked(chunks: Iterable[Dict[str, Any]], raise_errors: bool) -> Iterator[ResultSet]:
    """One ResultSet per chunk, list-valued keys of its results merged (as 5.3.2)."""
    for chunk in chunks:
        merged: Dict[str, Any] = {}
        for result in chunk.get("results", []):
            if raise_errors is True and "error" in result:
                raise InfluxDBClientError(result["error"])
            for key, value in result.items():
                if isinstance(value, list):
                    merged.setdefault(key, []).extend(value)
        yield ResultSet(merged, raise_errors=raise_errors)


def _warn_udp() -> None:
    global _udp_warned
    with _udp_lock:
        if _udp_warned:
            return
        _udp_warned = True
    warnings.warn(
        "InfluxDB 2.x has no UDP listener: points of use_udp=True are sent over HTTP",
        UserWarning,
        stacklevel=3,
    )


def _parse_dsn(dsn: str) -> Dict[str, Any]:
    """Parse an influxdb-python DSN into constructor arguments."""
    conn_params = urlparse(dsn)
    init_args: Dict[str, Any] = {}
    scheme_info = conn_params.scheme.split("+")
    if len(scheme_info) == 1:
        scheme = scheme_info[0]
        modifier = None
    else:
        modifier, scheme = scheme_info
    if scheme != "influxdb":
        raise ValueError(f'Unknown scheme "{scheme}".')
    if modifier:
        if modifier == "udp":
            init_args["use_udp"] = True
        elif modifier == "https":
            init_args["ssl"] = True
        else:
            raise ValueError(f'Unknown modifier "{modifier}".')
    netlocs = conn_params.netloc.split(",")
    init_args["hosts"] = []
    for netloc in netlocs:
        parsed = _parse_netloc(netloc)
        init_args["hosts"].append((parsed["host"], int(parsed["port"])))
        init_args["username"] = parsed["username"]
        init_args["password"] = parsed["password"]
    if conn_params.path and len(conn_params.path) > 1:
        init_args["database"] = conn_params.path[1:]
    return init_args


def _parse_netloc(netloc: str) -> Dict[str, Any]:
    info = urlparse(f"http://{netloc}")
    return {
        "username": info.username or None,
        "password": info.password or None,
        "host": info.hostname or "localhost",
        "port": info.port or 8086,
    }
