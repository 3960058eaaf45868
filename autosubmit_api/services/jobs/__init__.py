"""The job views' building blocks and their entry points (docs/architecture.md "services/jobs").

* `bodies`: each job view (quick, expcount, summary, tree, graph, pkl-info, v4 jobs and
  wrappers) as a ready JSON body, cached per input change: what the routes call;
* `loading`: gathers one experiment's inputs from the readers and builds its job table, once
  per change of any input; the cache of the views derived from it;
* `list_views`: the views that need only the job list and packages (quick, expcount, v4 jobs,
  wrappers);
* `table`: the job table (`JobTable`, `build_table`) every other view derives from;
* `times`, `sections`, `chunk_dates`: a job's queue/run times, its section's settings, its
  chunk's dates; `record`, `moving`: the fields of a tree or graph job, and those that move
  with the clock; `status_display`, `badges`: status colours and the HTML of titles.

Nothing is re-exported here: import from the module that answers the question.
"""
