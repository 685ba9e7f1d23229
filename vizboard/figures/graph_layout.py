"""Server-side layered (Sugiyama-style) layout of a directed graph: layers top to bottom, pure python.

Steps: break cycles (DFS back edges are reversed), longest-path layering (sources
are then pulled down next to their first consumer), dummy nodes on edges that span
several layers, barycentre ordering sweeps (the ordering with fewest crossings
wins), then x coordinates by median alignment with minimum separation. Cost is
about O(sweeps * (V + E) log(V + E)) plus the dummies, so a graph of a few
thousand nodes lays out in well under a second; the browser never runs a layout.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

__all__ = ["Layout", "layered_layout"]

Point = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Layout:
    """Result of ``layered_layout``.

    ``positions`` are node centres (pixels; y grows downward, the first layer is at
    the top, the bounding box starts at (0, 0)); ``layers`` the layer index of each
    node; ``bends`` the intermediate points of every edge that spans more than one
    layer, in the edge's own direction; ``width``/``height`` the bounding box (pixels).
    """

    positions: dict[str, Point]
    layers: dict[str, int]
    width: float
    height: float
    bends: dict[tuple[str, str], list[Point]] = field(default_factory=dict)


def _break_cycles(nodes: Sequence[str], succ: dict[str, list[str]]) -> set[tuple[str, str]]:
    """Edges (u, v) that close a cycle in an iterative DFS (in ``nodes`` order); reversing them leaves a DAG."""
    state: dict[str, int] = {}
    back: set[tuple[str, str]] = set()
    for root in nodes:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(succ[root]))]
        while stack:
            node, it = stack[-1]
            for nxt in it:
                s = state.get(nxt, 0)
                if s == 0:
                    state[nxt] = 1
                    stack.append((nxt, iter(succ[nxt])))
                    break
                if s == 1:
                    back.add((node, nxt))
            else:
                state[node] = 2
                stack.pop()
    return back


def _layering(nodes: Sequence[str], dag: list[tuple[str, str]]) -> dict[str, int]:
    preds: dict[str, list[str]] = {n: [] for n in nodes}
    succs: dict[str, list[str]] = {n: [] for n in nodes}
    indeg = {n: 0 for n in nodes}
    for u, v in dag:
        preds[v].append(u)
        succs[u].append(v)
        indeg[v] += 1
    layer = {n: 0 for n in nodes}
    queue = [n for n in nodes if indeg[n] == 0]
    topo: list[str] = []
    while queue:
        nxt: list[str] = []
        for n in queue:
            topo.append(n)
            for v in succs[n]:
                layer[v] = max(layer[v], layer[n] + 1)
                indeg[v] -= 1
                if indeg[v] == 0:
                    nxt.append(v)
        queue = nxt
    # Pull sources (graph inputs, parameters) down to sit right above their first consumer.
    for n in reversed(topo):
        if not preds[n] and succs[n]:
            layer[n] = max(layer[n], min(layer[v] for v in succs[n]) - 1)
    return layer


def _crossings(upper: dict[str, float], lower: dict[str, float], edges: list[tuple[str, str]]) -> int:
    """Edge crossings between two adjacent layers (inversion count, O(E log E))."""
    pairs = sorted((upper[u], lower[v]) for u, v in edges)
    seen: list[float] = []
    count = 0
    for _, b in pairs:
        # count already-seen lower ends strictly to the right of b
        count += len(seen) - bisect_left(seen, b + 0.5)
        seen.insert(bisect_left(seen, b), b)
    return count


def _order_layers(rows: list[list[str]], down: dict[str, list[str]], up: dict[str, list[str]], sweeps: int) -> list[list[str]]:
    def total(rs: list[list[str]]) -> int:
        pos = {n: float(i) for r in rs for i, n in enumerate(r)}
        c = 0
        for i in range(len(rs) - 1):
            es = [(u, v) for u in rs[i] for v in down[u]]
            c += _crossings(pos, pos, es)
        return c

    best = [list(r) for r in rows]
    best_c = total(best)
    cur = [list(r) for r in rows]
    for sweep in range(sweeps):
        rng = range(1, len(cur)) if sweep % 2 == 0 else range(len(cur) - 2, -1, -1)
        nbrs = up if sweep % 2 == 0 else down
        for i in rng:
            ref = cur[i - 1] if sweep % 2 == 0 else cur[i + 1]
            pos = {n: j for j, n in enumerate(ref)}
            keyed = []
            for j, n in enumerate(cur[i]):
                ps = [pos[m] for m in nbrs[n] if m in pos]
                keyed.append((sum(ps) / len(ps) if ps else float(j), j, n))
            keyed.sort()
            cur[i] = [n for _, _, n in keyed]
        if best_c == 0:
            break
        c = total(cur)
        if c < best_c:
            best, best_c = [list(r) for r in cur], c
    return best


def _place_row(row: list[str], desired: dict[str, float], width: Mapping[str, float], sep: float) -> dict[str, float]:
    """x per node of ``row`` close to ``desired`` while keeping order and ``sep`` gaps."""
    n = len(row)
    gap = [(width[row[i - 1]] + width[row[i]]) / 2 + sep for i in range(1, n)]
    left = [0.0] * n
    for i, node in enumerate(row):
        left[i] = desired[node] if i == 0 else max(desired[node], left[i - 1] + gap[i - 1])
    right = [0.0] * n
    for i in range(n - 1, -1, -1):
        right[i] = desired[row[i]] if i == n - 1 else min(desired[row[i]], right[i + 1] - gap[i])
    xs = [(a + b) / 2 for a, b in zip(left, right)]
    for i in range(1, n):  # averaging can re-introduce overlaps; one forward fix keeps order
        xs[i] = max(xs[i], xs[i - 1] + gap[i - 1])
    return dict(zip(row, xs))


def layered_layout(
    nodes: Sequence[str],
    edges: Iterable[tuple[str, str]],
    sizes: Mapping[str, tuple[float, float]] | None = None,
    *,
    rank_sep: float = 50.0,
    node_sep: float = 24.0,
    sweeps: int = 8,
) -> Layout:
    """Lay ``nodes`` out in layers, top to bottom, so that ``edges`` (u -> v) point down.

    ``sizes`` maps a node to its (width, height) in pixels (default 80 x 36);
    ``rank_sep``/``node_sep`` are the vertical/horizontal gaps (pixels). Node order
    in ``nodes`` is the initial order within a layer (pass a DFS or creation order
    for stable pictures). Edges naming unknown nodes raise ValueError; self-loops
    and duplicates are ignored.
    """
    nodes = list(dict.fromkeys(nodes))
    known = set(nodes)
    size = {n: (sizes or {}).get(n, (80.0, 36.0)) for n in nodes}
    uniq: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for u, v in edges:
        if u not in known or v not in known:
            raise ValueError(f"edge ({u!r}, {v!r}) names a node missing from nodes; add it or drop the edge")
        if u != v and (u, v) not in seen:
            seen.add((u, v))
            uniq.append((u, v))
    if not nodes:
        return Layout({}, {}, 0.0, 0.0)
    succ: dict[str, list[str]] = {n: [] for n in nodes}
    for u, v in uniq:
        succ[u].append(v)
    back = _break_cycles(nodes, succ)
    dag = [((v, u) if (u, v) in back else (u, v)) for u, v in uniq]
    dag = list(dict.fromkeys(e for e in dag if e[0] != e[1]))
    layer = _layering(nodes, dag)

    # Dummy chains for long edges, remembered per original edge.
    all_layer = dict(layer)
    width = {n: size[n][0] for n in nodes}
    down: dict[str, list[str]] = {n: [] for n in nodes}
    up: dict[str, list[str]] = {n: [] for n in nodes}
    chains: dict[tuple[str, str], list[str]] = {}
    for u, v in dag:
        prev = u
        chain: list[str] = []
        for k in range(layer[u] + 1, layer[v]):
            d = f"\x00{u}\x00{v}\x00{k}"
            all_layer[d], width[d] = k, 8.0
            down[d], up[d] = [], []
            down[prev].append(d)
            up[d].append(prev)
            chain.append(d)
            prev = d
        down[prev].append(v)
        up[v].append(prev)
        chains[(u, v)] = chain

    nrows = max(all_layer.values()) + 1
    rows: list[list[str]] = [[] for _ in range(nrows)]
    for n in nodes:  # real nodes in the caller's order, dummies after their source
        rows[layer[n]].append(n)
    for chain in chains.values():
        for d in chain:
            rows[all_layer[d]].append(d)
    rows = _order_layers(rows, down, up, sweeps)

    x: dict[str, float] = {}
    for row in rows:
        acc = 0.0
        for n in row:
            x[n] = acc + width[n] / 2
            acc += width[n] + node_sep
    for it in range(4):
        rng = range(1, nrows) if it % 2 == 0 else range(nrows - 2, -1, -1)
        nbrs = up if it % 2 == 0 else down
        for i in rng:
            desired = {}
            for n in rows[i]:
                xs = sorted(x[m] for m in nbrs[n])
                desired[n] = (xs[(len(xs) - 1) // 2] + xs[len(xs) // 2]) / 2 if xs else x[n]
            x.update(_place_row(rows[i], desired, width, node_sep))
    min_x = min(x[n] - width[n] / 2 for n in x)
    max_x = max(x[n] + width[n] / 2 for n in x)

    row_h = [max((size[n][1] for n in row if n in size), default=8.0) for row in rows]
    y_row, acc = [], 0.0
    for h in row_h:
        y_row.append(acc + h / 2)
        acc += h + rank_sep
    height = acc - rank_sep

    def pt(n: str) -> Point:
        return (round(x[n] - min_x, 1), round(y_row[all_layer[n]], 1))

    positions = {n: pt(n) for n in nodes}
    bends: dict[tuple[str, str], list[Point]] = {}
    for u, v in uniq:
        if (u, v) in back:
            pts = [pt(d) for d in reversed(chains.get((v, u), []))]
        else:
            pts = [pt(d) for d in chains.get((u, v), [])]
        if pts:
            bends[(u, v)] = pts
    return Layout(positions, layer, round(max_x - min_x, 1), round(height, 1), bends)
