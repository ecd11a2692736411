"""InfluxQL on the v2 test server: what 2.x's ``/query`` accepts, over the 1.x engine.

Each statement is resolved the way 2.x resolves it (DBRP mapping of its
database and retention policy), its sources are rewritten to the engine
database that backs the bucket, and it runs on the engine.  Statements 2.x
rejects get 2.x's in-band ``not implemented: X`` errors; ``SHOW DATABASES``
and ``SHOW RETENTION POLICIES`` are answered from the mappings, as 2.x does.

Statement splitting uses influx_compat's InfluxQL lexer: the test server is
not independent of the client there (the lexer is tested on its own).
"""

from __future__ import annotations

import json
from typing import Any, Dict, Iterator, List, Optional, Tuple

import requests

from influx_compat._influxql import Token, split_statements, tokenize, unquote_ident
from influx_compat._influxql import quote_ident as qi
from influx_compat.testing._routes_common import V2Context
from influx_compat.testing._state import ApiError, allowed, engine_db

__all__ = ["QueryRunner", "ParseError"]


class ParseError(Exception):
    """The query does not parse: 2.x answers 400 ``failed to parse query: ...``."""


# Leading words -> 2.x's "not implemented" text.
_NOT_IMPLEMENTED: List[Tuple[Tuple[str, ...], str]] = [
    (("CREATE", "DATABASE"), "CREATE DATABASE"),
    (("DROP", "DATABASE"), "DROP DATABASE"),
    (("CREATE", "RETENTION", "POLICY"), "CREATE RETENTION POLICY"),
    (("ALTER", "RETENTION", "POLICY"), "ALTER RETENTION POLICY"),
    (("DROP", "RETENTION", "POLICY"), "DROP RETENTION POLICY"),
    (("CREATE", "USER"), "CREATE USER"),
    (("DROP", "USER"), "DROP USER"),
    (("SET", "PASSWORD"), "SET PASSWORD"),
    (("SHOW", "USERS"), "SHOW USERS"),
    (("SHOW", "GRANTS"), "SHOW GRANTS"),
    (("CREATE", "CONTINUOUS", "QUERY"), "CREATE CONTINUOUS QUERY"),
    (("DROP", "CONTINUOUS", "QUERY"), "DROP CONTINUOUS QUERY"),
    (("SHOW", "CONTINUOUS", "QUERIES"), "SHOW CONTINUOUS QUERIES"),
    (("CREATE", "SUBSCRIPTION"), "CREATE SUBSCRIPTION"),
    (("DROP", "SUBSCRIPTION"), "DROP SUBSCRIPTION"),
    (("SHOW", "SUBSCRIPTIONS"), "SHOW SUBSCRIPTIONS"),
    (("DROP", "SERIES"), "DROP SERIES"),
    (("DROP", "SHARD"), "DROP SHARD"),
    (("SHOW", "SHARD", "GROUPS"), "SHOW SHARD GROUPS"),
    (("SHOW", "SHARDS"), "SHOW SHARDS"),
    (("SHOW", "STATS"), "SHOW STATS"),
    (("SHOW", "DIAGNOSTICS"), "SHOW DIAGNOSTICS"),
    (("SHOW", "QUERIES"), "SHOW QUERIES"),
    (("KILL", "QUERY"), "SHOW QUERIES"),
    (("SHOW", "MEASUREMENT", "CARDINALITY"), "SHOW MEASUREMENT CARDINALITY"),
    (("SHOW", "SERIES", "CARDINALITY"), "SHOW SERIES CARDINALITY"),
]
_END_OF_SOURCES = {
    "WHERE",
    "GROUP",
    "ORDER",
    "LIMIT",
    "OFFSET",
    "SLIMIT",
    "SOFFSET",
    "FILL",
    "TZ",
    "WITH",
    "INTO",
}


class QueryRunner:
    """Runs one /query request for one authorization."""

    def __init__(self, ctx: V2Context, auth: Dict[str, Any], form: Dict[str, str]) -> None:
        self.state = ctx.state
        self.engine = ctx.engine
        self.auth = auth
        self.org_id = auth["orgID"]
        self.db = form.get("db") or None
        self.rp = form.get("rp") or None
        self.engine_params = {k: form[k] for k in ("epoch", "params") if form.get(k)}
        self.chunk_size = form.get("chunk_size")

    # -- whole queries ---------------------------------------------------------

    def run(self, q: str) -> List[Dict[str, Any]]:
        results = []
        for i, text in enumerate(split_statements(q)):
            result = self.execute(text)
            results.append({"statement_id": i, **result})
            if "error" in result:
                break
        return results

    def chunked(self, q: str) -> Iterator[bytes]:
        for i, text in enumerate(split_statements(q)):
            try:
                stream = self.execute_chunked(text)
            except ParseError as err:
                yield _line({"results": [{"statement_id": i, "error": f"failed to parse query: {err}"}]})
                return
            failed = False
            for result in stream:
                failed = failed or "error" in result
                yield _line({"results": [{"statement_id": i, **result}]})
            if failed:
                return

    # -- one statement ------------------------------------------------------------

    def _classify(self, text: str) -> Tuple[List[Token], Optional[Dict[str, Any]]]:
        toks = [t for t in tokenize(text) if t.significant]
        words = tuple(t.upper for t in toks[:4])
        for prefix, message in _NOT_IMPLEMENTED:
            if words[: len(prefix)] == prefix:
                if prefix[0] == "SHOW" and "EXACT" in words:
                    break
                return toks, {"error": f"not implemented: {message}"}
        if words[:1] == ("GRANT",):
            return toks, {"error": "not implemented: " + ("GRANT ALL" if _all_to(words) else "GRANT")}
        if words[:1] == ("REVOKE",):
            return toks, {"error": "not implemented: " + ("REVOKE ALL" if _all_to(words) else "REVOKE")}
        if words[:1] == ("SELECT",) and _has_into(toks):
            return toks, {"error": "not implemented: SELECT INTO"}
        try:
            if words[:2] == ("SHOW", "DATABASES"):
                return toks, self._show_databases()
            if words[:3] == ("SHOW", "RETENTION", "POLICIES"):
                return toks, self._show_retention_policies(toks)
        except ApiError as err:
            return toks, {"error": err.message}
        return toks, None

    def execute(self, text: str) -> Dict[str, Any]:
        toks, answer = self._classify(text)
        if answer is not None:
            return answer
        try:
            rewritten, db = self._rewrite(text, toks)
        except ApiError as err:
            return {"error": err.message}
        answer = self.engine.query(rewritten, db, rp="autogen" if db else None, **self.engine_params)
        if "error" in answer and "results" not in answer:
            raise ParseError(_strip_parse_prefix(answer["error"]))
        results = answer.get("results") or [{}]
        result = {k: v for k, v in results[0].items() if k != "statement_id"}
        return result

    def execute_chunked(self, text: str) -> Iterator[Dict[str, Any]]:
        toks, answer = self._classify(text)
        if answer is not None:
            return iter([answer])
        try:
            rewritten, db = self._rewrite(text, toks)
        except ApiError as err:
            return iter([{"error": err.message}])
        params: Dict[str, Any] = dict(self.engine_params, chunked="true")
        if self.chunk_size:
            params["chunk_size"] = self.chunk_size
        if db:
            params["rp"] = "autogen"
        resp = self.engine.query_stream(rewritten, db, params)
        if resp.status_code == 400:
            raise ParseError(_strip_parse_prefix(resp.json().get("error", "")))
        return _engine_chunks(resp)

    # -- resolution -------------------------------------------------------------

    def _readable(self, mapping: Dict[str, Any]) -> bool:
        bucket_id = mapping["bucketID"]
        return allowed(self.auth, "read", "buckets", self.org_id, bucket_id) or allowed(
            self.auth, "write", "buckets", self.org_id, bucket_id
        )

    def _mapping(self, db: Optional[str], rp: Optional[str]) -> Dict[str, Any]:
        with self.state.lock:
            return self.state.resolve(self.org_id, db, rp, usable=self._readable)

    def _rewrite(self, text: str, significant: List[Token]) -> Tuple[str, Optional[str]]:
        """The statement with its sources pointing at engine databases, and the default db."""
        tokens = tokenize(text)
        out: List[str] = [t.text for t in tokens]
        sig_index = [i for i, t in enumerate(tokens) if t.significant]
        default_db = self.db
        default_rp = self.rp
        # SHOW ... ON <db>
        for pos, tok in enumerate(significant):
            if tok.upper == "ON" and pos + 1 < len(significant) and significant[0].upper == "SHOW":
                nxt = significant[pos + 1]
                if nxt.kind in ("ident", "qident"):
                    default_db = unquote_ident(nxt.text)
                    out[sig_index[pos + 1]] = qi(engine_db(self._mapping(default_db, None)["bucketID"]))
        needs_default = significant[0].upper in ("SHOW", "DELETE", "DROP")
        in_from = False
        pos = 0
        while pos < len(significant):
            tok = significant[pos]
            word = tok.upper
            if word == "FROM":
                in_from = True
                pos += 1
                continue
            if word in _END_OF_SOURCES or tok.text in (")", ";"):
                in_from = False
            if word == "(":
                in_from = False
            if in_from and tok.kind in ("ident", "qident", "regex"):
                parts = [pos]
                j = pos + 1
                while j + 1 < len(significant) and significant[j].text == ".":
                    if significant[j + 1].text == ".":
                        parts.append(-1)
                        j += 1
                        continue
                    parts.append(j + 1)
                    j += 2
                if len(parts) == 1:
                    needs_default = True
                else:
                    names = [None if p < 0 else significant[p] for p in parts]
                    if len(names) == 3:
                        db_tok, rp_tok, m_tok = names
                    else:
                        db_tok, rp_tok, m_tok = None, names[0], names[1]
                    assert m_tok is not None  # a name ends every source
                    db = unquote_ident(db_tok.text) if db_tok is not None else default_db
                    rp = unquote_ident(rp_tok.text) if rp_tok is not None else None
                    if db_tok is None and rp is None:
                        rp = default_rp
                    mapping = self._mapping(db, rp if rp else (default_rp if db == default_db else None))
                    target = f'{qi(engine_db(mapping["bucketID"]))}."autogen".{m_tok.text}'
                    first, last = sig_index[parts[0]], sig_index[parts[-1]]
                    out[first] = target
                    for k in range(first + 1, last + 1):
                        out[k] = ""
                pos = j
                continue
            pos += 1
        engine_default: Optional[str] = None
        if needs_default:
            engine_default = engine_db(self._mapping(default_db, default_rp)["bucketID"])
        elif default_db:
            try:
                engine_default = engine_db(self._mapping(default_db, default_rp)["bucketID"])
            except ApiError:
                engine_default = None
        return "".join(out), engine_default

    # -- emulated statements --------------------------------------------------------

    def _show_databases(self) -> Dict[str, Any]:
        with self.state.lock:
            names: Dict[str, None] = {}
            for m in self.state.mappings(self.org_id):
                if self._readable(m):
                    names.setdefault(m["database"], None)
        values = [[n] for n in names]
        series: Dict[str, Any] = {"name": "databases", "columns": ["name"]}
        if values:
            series["values"] = values
        return {"series": [series]}

    def _show_retention_policies(self, toks: List[Token]) -> Dict[str, Any]:
        db = self.db
        if len(toks) >= 5 and toks[3].upper == "ON":
            db = unquote_ident(toks[4].text)
        if not db:
            raise ApiError("invalid", "database name required")
        with self.state.lock:
            rows = [
                [m["retention_policy"], "0s", "168h0m0s", 1, m["default"]]
                for m in self.state.mappings(self.org_id)
                if m["database"] == db and self._readable(m)
            ]
        if not rows:
            raise ApiError("not found", f"database not found: {db}")
        return {
            "series": [
                {"columns": ["name", "duration", "shardGroupDuration", "replicaN", "default"], "values": rows}
            ]
        }


def _all_to(words: Tuple[str, ...]) -> bool:
    return len(words) > 2 and words[1] == "ALL" and words[2] in ("TO", "FROM", "PRIVILEGES")


def _has_into(toks: List[Token]) -> bool:
    depth = 0
    for tok in toks:
        if tok.text == "(":
            depth += 1
        elif tok.text == ")":
            depth -= 1
        elif depth == 0 and tok.upper == "INTO":
            return True
    return False


def _strip_parse_prefix(message: str) -> str:
    prefix = "error parsing query: "
    return message[len(prefix) :] if message.startswith(prefix) else message


def _line(obj: Any) -> bytes:
    return (json.dumps(obj, separators=(",", ":")) + "\n").encode()


def _engine_chunks(resp: requests.Response) -> Iterator[Dict[str, Any]]:
    try:
        for raw in resp.iter_lines():
            if not raw:
                continue
            doc = json.loads(raw)
            if "error" in doc and "results" not in doc:
                yield {"error": doc["error"]}
                return
            for result in doc.get("results", []):
                yield {k: v for k, v in result.items() if k != "statement_id"}
    finally:
        resp.close()
