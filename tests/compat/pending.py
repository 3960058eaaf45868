"""Golden rows expected to fail: route not implemented yet, or a known open difference.

Each entry is a `file` of the compatibility data's golden/index.tsv (unique per row). test_golden.py
marks these rows `xfail(strict=True)`: a PENDING row that starts passing FAILS the suite,
so remove it from here in the same commit that makes it pass. See which ones pass now with
`python -m tests.compat.report` (CONTRIBUTING.md, "The compatibility suite").
"""

PENDING = frozenset()

# Rows of tests/compat/test_golden.py::test_keys_4_2_added (golden/v42: the keys 4.2.0 added,
# docs/decisions.md Q46) expected to fail, each with its reason. Strict xfail as PENDING.
PENDING_V42 = {
    # 4.2.0 reads no split from a networkx (Autosubmit 4.1.0-4.1.11) pickle; the pickle says
    # a1ve_1_ASIM is split 1 of 3 (SPLITS: 3 in its jobs_a1ve.yml), which we send.
    "v4__experiments__a1ve__jobs.json": "4.2.0 has split/splits null for a1ve's split jobs",
    # docs/decisions.md Q41: aa6f's SIM jobs ran one after another in one wrapper; our
    # minutes_queue has the wrapper correction (as pklinfo's and the titles), 4.2.0's not.
    "v3__tree__aa6f.json": "Q41: minutes_queue of wrapped jobs is wrapper-corrected",
}
