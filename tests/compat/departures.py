"""Golden rows whose recorded answer is a reference quirk that docs/decisions.md fixes on purpose.

docs/decisions.md wins over the capture: for each row here, our answer must instead equal the
answer of another golden row (its status, body, volatile fields and unordered lists), so
the departure is still checked to the byte. Maps `file` -> (decision, row whose answer
applies).
"""

DEPARTURES = {
    # Q9: `Authorization: Bearer <token>` is accepted like the raw token.
    "v3__tokentest__bearer.json": ("Q9", "v3__tokentest__token.json"),
    "v4__auth__verify-token__bearer.json": ("Q9", "v4__auth__verify-token__token.json"),
    "ALL__v4__experiments__page_size_2__bearer.json": (
        "Q9",
        "ALL__v4__experiments__page_size_2__valid.json",
    ),
    # Q10: a signed token without `user_id` (and `sub`) does not pass the gate.
    "ALL__v4__experiments__a003__nouser.json": (
        "Q10",
        "ALL__v4__experiments__page_size_2__wrongkey.json",
    ),
}

# Rows where 4.0.1 answered an error and 4.2.0 answers with data: our answer must equal
# 4.2.0's (golden/v42/<same name>), as its own golden body. Maps `file` -> why.
V42_ANSWERS = {
    # A run with total = 0 (a3tb run 1): an empty run detail, not "couldn't find the header".
    "v3__rundetail__a3tb__1.json": "issue 13",
}

# Top-level lists of a 4.0.1 answer that also carry the items 4.2.0 added to them for the
# same request (golden/v42), before 4.0.1's items: the footprint warnings of /v3/performance
# ("The CF for platform X could not be obtained..."), which the current GUI lists. Maps the
# key -> why.
ADDED_ITEMS = {
    "warnings_job_data": "issue 13: 4.2.0's footprint warnings",
}

# Values 4.0.1 got wrong that we send as 4.2.0 does: on these paths of these rows the
# expected value is 4.2.0's (golden/v42/<same name>; list elements paired by `name`).
# Maps `file` -> (comma-separated paths, why).
_CORES = (
    "Statistics.JobStatistics[*].processors,Statistics.JobStatistics[*].cpuConsumption,"
    "Statistics.JobStatistics[*].expectedCpuConsumption,summary.cpuConsumption,"
    "summary.cpuConsumptionPercentage,summary.expectedCpuConsumption"
)
V42_VALUES = {
    # a003's SIM runs on 2 nodes of 8 processors: 16 cores, where 4.0.1 counted 1 (upstream
    # "Fix estimated cores used in the statistics endpoint", issue 13).
    "v3__stats__a003__0__Any.json": (_CORES, "issue 13: cores = nodes x processors per node"),
    "v3__stats__a003__0__SIM.json": (_CORES, "issue 13: cores = nodes x processors per node"),
}
