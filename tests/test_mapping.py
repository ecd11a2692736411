"""Which bucket a 1.x database and retention policy stand for (influx_compat._mapping)."""

import dataclasses

import pytest

from influx_compat._mapping import DEFAULT_RP, BucketResolver, Target, conventional_bucket


class FakeTransport:
    def __init__(self, has_token):
        self.has_token = has_token


class FakeApi:
    """The part of V2Api the resolver uses: ``transport.has_token`` and ``dbrps(db)``."""

    def __init__(self, mappings=(), has_token=True):
        self.transport = FakeTransport(has_token)
        self.mappings = [dict(m) for m in mappings]
        self.calls = []

    def dbrps(self, db=None, **filters):
        self.calls.append(db)
        # like 2.x with ?db=: only that database's mappings (the resolver filters again anyway)
        return [dict(m) for m in self.mappings if db is None or m["database"] == db]


def mapping(db, rp, bucket_id, default=False, **extra):
    return dict(database=db, retention_policy=rp, bucketID=bucket_id, default=default, **extra)


MIGRATED = [
    mapping("telegraf", "autogen", "b-autogen", default=True),
    mapping("telegraf", "week", "b-week"),
    mapping("other", "autogen", "b-other", default=True),
]


# -- the convention -------------------------------------------------------------------


@pytest.mark.parametrize(
    "db, rp, bucket",
    [("db", None, "db"), ("db", "", "db"), ("db", "autogen", "db"), ("db", "week", "db/week")],
)
def test_conventional_bucket(db, rp, bucket):
    assert conventional_bucket(db, rp) == bucket


def test_default_rp_is_autogen():
    assert DEFAULT_RP == "autogen"


def test_convention_without_mappings():
    resolver = BucketResolver(FakeApi(), {})
    assert resolver.resolve("db", None) == Target("db", None, "db", "db", "convention")
    assert resolver.resolve("db", "autogen") == Target("db", "autogen", "db", "db", "convention")
    assert resolver.resolve("db", "week") == Target("db", "week", "db/week", "db/week", "convention")


def test_targets_are_frozen():
    target = BucketResolver(FakeApi(), {}).resolve("db", None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        target.bucket = "x"


# -- DBRP mappings --------------------------------------------------------------------


def test_default_mapping_when_no_policy_is_given():
    resolver = BucketResolver(FakeApi(MIGRATED), {})
    assert resolver.resolve("telegraf", None) == Target("telegraf", None, "b-autogen", None, "dbrp")


def test_named_policy_picks_its_mapping():
    resolver = BucketResolver(FakeApi(MIGRATED), {})
    assert resolver.resolve("telegraf", "week") == Target("telegraf", "week", "b-week", None, "dbrp")
    assert resolver.resolve("telegraf", "autogen").bucket == "b-autogen"


def test_the_default_flag_decides_not_the_name_autogen():
    api = FakeApi([mapping("db", "autogen", "b-a"), mapping("db", "main", "b-main", default=True)])
    resolver = BucketResolver(api, {})
    assert resolver.resolve("db", None).bucket == "b-main"
    assert resolver.resolve("db", DEFAULT_RP).bucket == "b-a"


def test_unmapped_policy_falls_back_to_the_convention():
    resolver = BucketResolver(FakeApi(MIGRATED), {})
    assert resolver.resolve("telegraf", "year") == Target(
        "telegraf", "year", "telegraf/year", "telegraf/year", "convention"
    )


def test_autogen_without_its_mapping_is_the_database_bucket():
    resolver = BucketResolver(FakeApi([mapping("db", "week", "b-week")]), {})
    assert resolver.resolve("db", DEFAULT_RP) == Target("db", "autogen", "db", "db", "convention")
    assert resolver.resolve("db", None).source == "convention"  # no mapping is the default


def test_without_a_token_no_mapping_is_read():
    api = FakeApi(MIGRATED, has_token=False)
    resolver = BucketResolver(api, {})
    assert resolver.resolve("telegraf", "week") == Target(
        "telegraf", "week", "telegraf/week", "telegraf/week", "convention"
    )
    assert api.calls == []


def test_pick():
    assert BucketResolver.pick(MIGRATED[:2], None)["bucketID"] == "b-autogen"
    assert BucketResolver.pick(MIGRATED[:2], "week")["bucketID"] == "b-week"
    assert BucketResolver.pick(MIGRATED[:2], "year") is None
    assert BucketResolver.pick([mapping("db", "x", "b")], None) is None
    assert BucketResolver.pick([], None) is None


# -- the user's map -----------------------------------------------------------------------


def test_user_map_wins_over_mappings():
    api = FakeApi(MIGRATED)
    resolver = BucketResolver(api, {("telegraf", "week"): "my-bucket"})
    assert resolver.resolve("telegraf", "week") == Target(
        "telegraf", "week", "my-bucket", "my-bucket", "user"
    )
    assert api.calls == []


def test_user_map_without_policy_serves_the_default_and_autogen_only():
    resolver = BucketResolver(FakeApi(MIGRATED), {("telegraf", None): "mine"})
    assert resolver.resolve("telegraf", None).bucket == "mine"
    assert resolver.resolve("telegraf", "").bucket == "mine"
    assert resolver.resolve("telegraf", DEFAULT_RP).bucket == "mine"
    assert resolver.resolve("telegraf", "week") == Target("telegraf", "week", "b-week", None, "dbrp")


def test_user_map_is_copied():
    given = {("db", None): "a"}
    resolver = BucketResolver(FakeApi(), given)
    given[("db", None)] = "b"
    assert resolver.resolve("db", None).bucket == "a"


# -- the cache ------------------------------------------------------------------------------


def test_mappings_are_read_once_per_database():
    api = FakeApi(MIGRATED)
    resolver = BucketResolver(api, {})
    for rp in (None, "week", "autogen", "year"):
        resolver.resolve("telegraf", rp)
    resolver.resolve("other", None)
    assert api.calls == ["telegraf", "other"]


def test_mappings_keep_only_the_database_asked_for():
    api = FakeApi(MIGRATED)
    api.dbrps = lambda db=None, **f: [dict(m) for m in MIGRATED]  # a server that ignores ?db=
    resolver = BucketResolver(api, {})
    assert [m["bucketID"] for m in resolver.mappings("telegraf")] == ["b-autogen", "b-week"]
    assert resolver.resolve("other", None).bucket == "b-other"


def test_forget_one_database_or_all():
    api = FakeApi(MIGRATED)
    resolver = BucketResolver(api, {})
    resolver.resolve("telegraf", None)
    resolver.resolve("other", None)
    api.mappings.append(mapping("telegraf", "year", "b-year"))
    assert resolver.resolve("telegraf", "year").source == "convention"  # still cached
    resolver.forget("telegraf")
    assert resolver.resolve("telegraf", "year").bucket == "b-year"
    assert resolver.resolve("other", None).bucket == "b-other"
    assert api.calls == ["telegraf", "other", "telegraf"]
    resolver.forget()
    resolver.resolve("telegraf", None)
    resolver.resolve("other", None)
    assert api.calls == ["telegraf", "other", "telegraf", "telegraf", "other"]
