"""Graph coordinates without Graphviz (docs/data.md B.6): the layered "barycentric" layout used
for `standard`, and the spectral layout of the normalised Laplacian for `laplacian`.

Both are pure Python on a `JobTable` (indices, children, parents, levels). The spectral
layout uses a block power iteration on `2I - L` instead of a dense eigensolver, so it costs
O(edges) per iteration and needs no numpy.
"""

from __future__ import annotations

import math
import random
from typing import Dict, List, Sequence, Tuple

from autosubmit_api.config import Settings
from autosubmit_api.services.jobs.loading import load_table
from autosubmit_api.services.jobs.table import JobTable

X_STEP = 320
Y_STEP = 150


def levels(table: JobTable) -> List[int]:
    """Depth from the roots, starting at 1; jobs not reachable from a root stay 0 (B.6)."""
    n = len(table.jobs)
    level = [0] * n
    children = table.children
    for root in range(n):
        if table.parents[root]:
            continue
        stack = [root]
        while stack:
            j = stack.pop()
            level[j] += 1
            for c in children[j]:
                if level[c] == 0:
                    level[c] = level[j]
                    stack.append(c)
    return level


def longest_path_rows(table: JobTable, level: Sequence[int]) -> List[int]:
    """Row of each job for drawing: 1 for roots, else one below its lowest parent.

    Unlike the depth-first `levels` (which the graph view reports), a job always sits below
    every parent, so a chain of chunks fans out downwards instead of sharing one very wide
    row. Jobs on a dependency cycle keep their `level`.
    """
    n = len(table.jobs)
    parents, children = table.parents, table.children
    pending = [len(parents[i]) for i in range(n)]
    row = [0] * n
    ready = [i for i in range(n) if pending[i] == 0]
    for i in ready:
        row[i] = 1
    while ready:
        j = ready.pop()
        below = row[j] + 1
        for c in children[j]:
            if row[c] < below:
                row[c] = below
            pending[c] -= 1
            if pending[c] == 0:
                ready.append(c)
    for i in range(n):
        if pending[i] > 0:
            row[i] = level[i]
    return row


def layered_layout(table: JobTable, level: Sequence[int]) -> List[Tuple[int, int]]:
    """Barycentric layered layout: x = order in the row x 320, y = row x 150.

    Rows come from `longest_path_rows`. Each row is sorted by the mean order of the jobs'
    parents, so children sit under their parents; the jobs of one wrapper package are kept
    together in a row. Jobs that no root reaches (only in cyclic structures) keep their
    `level`, 0 for the unreachable ones, and so form their own top row.
    """
    n = len(table.jobs)
    order = [1] * n
    level = longest_path_rows(table, level)
    layers: Dict[int, List[int]] = {}
    for i in range(n):
        layers.setdefault(level[i], []).append(i)
    package = table.package
    parents = table.parents
    for lv in sorted(layers):
        members = layers[lv]
        if lv <= 1:
            ranked = members
        else:

            def barycentre(i: int) -> float:
                ps = parents[i]
                return sum(order[p] for p in ps) / len(ps) if ps else 0.0

            ranked = sorted(members, key=barycentre)
        placed = set()
        by_package: Dict[str, List[int]] = {}
        for i in ranked:
            name = package[i]
            if name is not None:
                by_package.setdefault(name, []).append(i)
        k = 0
        for i in ranked:
            if i in placed:
                continue
            name = package[i]
            group = by_package.pop(name, [i]) if name is not None else [i]
            for j in group:
                if j not in placed:
                    k += 1
                    order[j] = k
                    placed.add(j)
    return [(order[i] * X_STEP, level[i] * Y_STEP) for i in range(n)]


def _normalise(v: List[float]) -> float:
    norm = math.sqrt(sum(x * x for x in v))
    if norm > 0:
        for k in range(len(v)):
            v[k] /= norm
    return norm


def laplacian_layout(
    table: JobTable, edges: Sequence[Tuple[int, int, bool]], max_work: int = 1_500_000
) -> List[Tuple[int, int]]:
    """Second and third eigenvectors of L = I - D^-1/2 A D^-1/2, scaled as B.6 says.

    `edges` are (from, to, is_wrapper); wrapper edges weigh 3. A disconnected graph has a
    zero second eigenvalue; the reference divides by it and fails, we scale by N x 10.
    The seed is fixed so the same graph gives the same picture.
    """
    n = len(table.jobs)
    if n == 0:
        return []
    adj: List[Dict[int, float]] = [dict() for _ in range(n)]
    for a, b, wrapped in edges:
        if a == b:
            continue
        w = 3.0 if wrapped else 1.0
        adj[a][b] = w
        adj[b][a] = w
    deg = [sum(row.values()) for row in adj]
    inv = [1.0 / math.sqrt(d) if d > 0 else 0.0 for d in deg]
    nbrs = [[(j, w * inv[i] * inv[j]) for j, w in row.items()] for i, row in enumerate(adj)]

    def apply_m(v: List[float]) -> List[float]:
        # M = 2I - L; L's rows are 0 for isolated jobs, I - normalised adjacency otherwise.
        out = [0.0] * n
        for i in range(n):
            if deg[i] > 0:
                out[i] = v[i] + sum(w * v[j] for j, w in nbrs[i])
            else:
                out[i] = 2.0 * v[i]
        return out

    rng = random.Random(n * 7919 + len(edges))
    block = [[rng.uniform(-1, 1) for _ in range(n)] for _ in range(3)]
    work = n + 2 * len(edges) + 1
    iterations = max(3, min(300, max_work // (3 * work)))
    for _ in range(iterations):
        block = [apply_m(v) for v in block]
        for k in range(3):
            for m in range(k):
                dot = sum(a * b for a, b in zip(block[k], block[m]))
                block[k] = [a - dot * b for a, b in zip(block[k], block[m])]
            if _normalise(block[k]) == 0:
                block[k] = [rng.uniform(-1, 1) for _ in range(n)]
                _normalise(block[k])
    coords = []
    scales = []
    for k in (1, 2):
        mv = apply_m(block[k])
        lam = 2.0 - sum(a * b for a, b in zip(block[k], mv))
        scales.append(n / lam * 10 if lam > 1e-9 else n * 10.0)
    for i in range(n):
        coords.append((int(block[1][i] * scales[0]), int(block[2][i] * scales[1])))
    return coords


def compute_standard_layout(settings: Settings, expid: str) -> Dict[str, Tuple[int, int]]:
    """job name -> (x, y) of the `standard` layout, for the layout worker to store with
    readers.graph_layout.write_layout (the graph view then serves it as saved)."""
    table = load_table(settings, expid, need_config=False)
    coords = layered_layout(table, levels(table))
    return dict(zip(table.names, coords))
