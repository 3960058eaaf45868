"""Rows of the 4.2.0 captures expected to fail, with the reason, per site.

`as42` is golden-as42/, `pg4117` golden-pg/as4117/, `pg42` golden-pg/as42/; each entry maps
a row's `file` to why it fails. test_golden_as42.py and test_golden_pg.py mark these rows
`xfail(strict=True)`: a listed row that starts passing FAILS the suite, so the list shrinks
with the product. Regenerate every list from a run with
`python -m tests.compat.report42 --write-pending` (docs/compatibility.md).
"""


def _rows(reason, *files):
    return {name: reason for name in files}


PENDING42 = {
    "as42": {
        **_rows(
            "JOBS_IN_WRAPPER: 4.2.0 sends a list, ours the configuration's string, as 4.0.1 does (/v3/cconfig)",
            "v3__cconfig__a9m4.json",
        ),
        **_rows(
            "/v3/cconfig differences: 4.2.0 lists its computed HPCROOTDIR/HPCLOGDIR/DEFAULT.DESCRIPTION there; ours keeps 4.0.1's differences, without them (docs/gui-fields.md)",
            "v3__cconfig__a9m1.json",
            "v3__cconfig__a9m2.json",
        ),
        **_rows(
            "JOBS_IN_WRAPPER: 4.2.0 sends a list, ours the configuration's string, as 4.0.1 does (filesystem-config)",
            "v4__experiments__a9m4__filesystem-config.json",
        ),
    },
    "pg4117": {
        **_rows(
            "/v3/cconfig differences: 4.2.0 lists its computed HPCROOTDIR/HPCLOGDIR/DEFAULT.DESCRIPTION there; ours keeps 4.0.1's differences, without them (docs/gui-fields.md)",
            "v3__cconfig__a8p1.json",
            "v3__cconfig__a8p2.json",
        ),
    },
    "pg42": {
        **_rows(
            "/v3/cconfig differences: 4.2.0 lists its computed HPCROOTDIR/HPCLOGDIR/DEFAULT.DESCRIPTION there; ours keeps 4.0.1's differences, without them (docs/gui-fields.md)",
            "v3__cconfig__a9p1.json",
            "v3__cconfig__a9p2.json",
        ),
    },
}
