"""A small experiment with a hand-made history, shared by the history/runs/performance tests.

Times are epochs with UTC rendering (the suite runs with TZ=UTC). Chunks are 1 month, so
one chunk is 1/12 simulated year and SYPD = (1/12) * 86400 / run = 7200 / run.

Run 1 (month x1): SIM_1 fails once (queue 10, run 100) then completes (queue 20, run 120);
SIM_2 completes (queue 5, run 120); POST_1 completes (queue 10, run 40).
Run 2 (month x1): SIM_3 completes (queue 30, run 240); SIM_4 is RUNNING since 6000.
"""

from tests.factory import JobDataSpec, JobSpec, RunSpec

EXPID = "a001"
NOW = 6100
D = "20200101"


def name(suffix):
    return f"{EXPID}_{D}_fc0_{suffix}"


def jobs():
    from datetime import datetime

    date = datetime(2020, 1, 1)
    spec = [
        JobSpec(name("1_SIM"), "SIM", status=5, date=date, member="fc0", chunk=1, processors="8"),
        JobSpec(
            name("2_SIM"), "SIM", status=5, date=date, member="fc0", chunk=2, processors="8", parents=(name("1_SIM"),)
        ),
        JobSpec(
            name("3_SIM"), "SIM", status=5, date=date, member="fc0", chunk=3, processors="8", parents=(name("2_SIM"),)
        ),
        JobSpec(
            name("4_SIM"), "SIM", status=4, date=date, member="fc0", chunk=4, processors="8", parents=(name("3_SIM"),)
        ),
        JobSpec(name("1_POST"), "POST", status=5, date=date, member="fc0", chunk=1, parents=(name("1_SIM"),)),
    ]
    return spec


def _row(job, counter, submit, start, finish, status, run_id, chunk, section, last=1, **kw):
    return JobDataSpec(
        job_name=job,
        counter=counter,
        submit=submit,
        start=start,
        finish=finish,
        status=status,
        run_id=run_id,
        chunk=chunk,
        section=section,
        member="fc0",
        date="2020-01-01 00:00:00",
        last=last,
        ncpus=8,
        energy=kw.pop("energy", 0),
        out=f"{job}.{counter}.out",
        err=f"{job}.{counter}.err",
        **kw,
    )


def runs():
    return [
        RunSpec(
            run_id=1,
            start=900,
            finish=4100,
            created="1970-01-01-00:15:00",
            chunk_unit="month",
            chunk_size=1,
            completed=4,
            total=5,
            failed=1,
        ),
        RunSpec(
            run_id=2,
            start=4900,
            finish=0,
            created="1970-01-01-01:21:40",
            chunk_unit="month",
            chunk_size=1,
            completed=1,
            total=5,
            running=1,
        ),
    ]


def rows():
    return [
        _row(name("1_SIM"), 1, 1000, 1010, 1110, "FAILED", 1, 1, "SIM", last=0),
        _row(name("1_SIM"), 2, 2000, 2020, 2140, "COMPLETED", 1, 1, "SIM", energy=1000),
        _row(name("2_SIM"), 1, 3000, 3005, 3125, "COMPLETED", 1, 2, "SIM", energy=3000),
        _row(name("1_POST"), 1, 4000, 4010, 4050, "COMPLETED", 1, 1, "POST"),
        _row(name("3_SIM"), 1, 5000, 5030, 5270, "COMPLETED", 2, 3, "SIM"),
        _row(name("4_SIM"), 1, 5990, 6000, 0, "RUNNING", 2, 4, "SIM"),
    ]


def make(make_experiment, **kwargs):
    kwargs.setdefault("runs", runs())
    kwargs.setdefault("job_data", rows())
    return make_experiment(EXPID, jobs(), **kwargs)
