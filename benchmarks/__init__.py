"""Side-by-side benchmarks: influx_compat against influxdb-python 5.3.2 and influxdb-client.

``python -m benchmarks`` (``--quick`` for a short run, ``--markdown FILE`` to
write the table).  Every row's output, or the lines a loopback sink received,
is checked against the reference before its time counts: a row that loses or
changes points fails the run.
"""
