"""The classic influxdb-python 1.x write test, as 1.x users wrote it: ``from influxdb import ...``.

Unchanged, it runs on InfluxDB 2.x or 3 through the launcher, which makes
``import influxdb`` resolve to influx_compat.  Set INFLUX_TOKEN and INFLUX_ORG (and
INFLUX_HOST when the server is not on localhost:8086), then::

    python -m influx_compat run examples/write_test_1x.py [number_of_points]

examples/write_test.py is the same program with its import line changed instead.
"""

import random
import sys
import time
import uuid

from influxdb import InfluxDBClient

LOCATIONS = ["kitchen", "office", "garage", "attic", "cellar", "porch",
             "bedroom", "bathroom", "hall", "garden", "shed", "studio"]
FRUITS = ["apple", "banana", "cherry", "date", "elderberry", "fig", "grape", "honeydew",
          "kiwi", "lemon", "mango", "nectarine", "orange", "papaya", "quince", "raspberry",
          "strawberry", "tangerine", "ugli", "vanilla", "watermelon", "ximenia", "yuzu", "zucchini"]


def generate_data(count, start_ms):
    ids = [str(uuid.uuid4()) for _ in range(100)]
    data = []
    for i in range(count):
        data.append(
            "m1,location={},fruit={},id={} x={},y={},z={}i {}".format(
                random.choice(LOCATIONS), random.choice(FRUITS), random.choice(ids),
                round(random.random(), 4), round(random.random(), 4),
                random.randint(0, 50), start_ms + i,
            )
        )
    return data


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    data = generate_data(count, int(time.time() * 1000) - count)

    client = InfluxDBClient(host="localhost", port=8086)
    client.create_database("writetest")

    start = time.time()
    client.write_points(data, database="writetest", time_precision="ms",
                        batch_size=10000, protocol="line")
    elapsed = time.time() - start
    print("wrote {} points in {:.2f} s ({:.0f} points/s)".format(count, elapsed, count / elapsed))

    result = client.query('SELECT count("x") FROM "m1"', database="writetest")
    print("points in m1:", list(result.get_points())[0]["count"])


if __name__ == "__main__":
    main()
