"""Rows of the 4.2.0 captures (golden-as42, golden-pg) where 4.0.1's answer is the contract.

On the keys 4.0.1 had, our values follow 4.0.1's rules (docs/compatibility.md). Where
4.2.0 departs from 4.0.1 on purpose (4.2.0's known value differences on the 4.0.1 data),
the row is judged with the change named here. The same file names occur on all three
sites (site-wide requests). Maps `file` (or an fnmatch pattern of files, for a rule that
holds on every experiment) -> Departure; `departure_for` finds a row's.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Optional, Tuple


@dataclass(frozen=True)
class Departure:
    why: str
    # paths whose values 4.0.1's rules decide (presence still checked); "$": the whole body
    skip: Tuple[str, ...] = ()
    answer_of: str = ""  # another row of the same capture whose answer applies instead
    status: Optional[int] = None  # 4.0.1's status (a redirect: with `location`)
    location: str = ""
    data_ok: bool = False  # 4.0.1 answers this request with data: data passes too


ONLY_ACTIVE = "v4__experiments__only_active-false_page_size--1.json"

DEPARTURES42 = {
    "root.json": Departure("ours names its own version (a drop-in for 4.0.1)", skip=("version",)),
    # 4.2.0 defaults to only_active=true; 4.0.1 lists every experiment.
    "v4__experiments.json": Departure(
        "4.0.1 lists every experiment by default", answer_of=ONLY_ACTIVE, skip=("pagination",)
    ),
    # 4.0.1 serves /v3/filestatus/ and redirects the bare path to it (308); 4.2.0 the reverse.
    # Its values are 4.0.1's (judged by the 4.0.1 suite): here, data is what counts.
    "v3__filestatus.txt": Departure(
        "4.0.1 serves /v3/filestatus/", answer_of="v3__filestatus__noslash.json", skip=("$",)
    ),
    "v3__filestatus__noslash.json": Departure(
        "4.0.1 redirects /v3/filestatus to /v3/filestatus/", status=308, location="/v3/filestatus/"
    ),
    # 4.2.0 says null for an experiment without an experiment_status row (a9m4); 4.0.1 says
    # "NOT RUNNING".
    "v3__search__a9.json": Departure(
        "4.0.1's status of an experiment without a status row", skip=("experiment[*].status",)
    ),
    # 4.0.1 answers an unknown view with 200 and the jobs (golden v4 a003 jobs?view=bogus);
    # our clean 4xx, as for 4.2.0's 422, passes too.
    "v4__experiments__*__jobs__view-bogus.json": Departure("4.0.1 answers an unknown view with the jobs", data_ok=True),
    # The 4.2.0 capture had GraphViz's dot: its standard layouts are dot's. Ours says whether
    # it drew with dot, and where not, places the nodes itself (4.0.1 rows: coordinates and
    # `graphviz` volatile, golden cause `no-graphviz`).
    "v3__graph__*__standard__*.json": Departure(
        "a standard layout drawn without GraphViz",
        skip=("graphviz", "nodes[*].x", "nodes[*].y", "groups_data.*.x", "groups_data.*.y"),
    ),
    # Autosubmit 4.2 keeps each run's edges (structure_data): our run detail lists them where
    # 4.0.1 (which never had them) and 4.2.0 answer null (docs/data.md B.8.4, issue 12).
    "v3__rundetail__*.json": Departure(
        "the run's own edges listed",
        skip=("jobs[*].children", "jobs[*].children_list", "jobs[*].parents", "jobs[*].parent_list"),
    ),
}


def departure_for(name: str) -> Optional[Departure]:
    """The row's departure: listed by its own name, else by the first matching pattern."""
    if name in DEPARTURES42:
        return DEPARTURES42[name]
    for pattern, departure in DEPARTURES42.items():
        if "*" in pattern and fnmatchcase(name, pattern):
            return departure
    return None
