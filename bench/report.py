#!/usr/bin/env python3
"""bench/report.py: turns scripts/bench's raw measurements into the committed results.

Reads RESULTS/<scale>/raw.csv (tool,run,wall_s,max_rss_kb,exit), RESULTS/machine.txt and
RESULTS/service/*.json (oha reports) and RESULTS/NOTES.md (written by hand, if
any), and writes RESULTS/README.md (medians, ratios to the
floor, the targets) and the chart RESULTS/bench.svg and RESULTS/bench.png (time and peak
memory per tool and scale).

Usage: bench/report.py RESULTS_DIR
"""

import csv
import json
import statistics
import sys
from pathlib import Path

SCALES = [("small", "51 nodes, 1,500 pods"), ("n500", "500 nodes, 15,000 pods"),
          ("medium", "1,000 nodes, 30,000 pods"), ("n2000", "2,000 nodes, 60,000 pods"),
          ("large", "5,000 nodes, 150,000 pods")]
PODS = {"small": 1500, "n500": 15000, "medium": 30000, "n2000": 60000, "large": 150000}
TOOLS = ["floor", "postcheck", "popeye", "kubectl"]
# Exit codes that mean the tool did its job (postcheck: 0 Success, 1 Failed; 2 is Error).
GOOD_EXIT = {"floor": {0}, "postcheck": {0, 1}, "popeye": {0}, "kubectl": {0}}
# postcheck's targets per scale: (time ratio to the floor, peak RSS in MB)
TARGETS = {"medium": (1.15, 80), "large": (1.2, 250)}
COLORS = {"floor": "#9e9e9e", "postcheck": "#1565c0", "popeye": "#ef6c00", "kubectl": "#6a1b9a"}


def load(results: Path):
    """{scale: {tool: {"wall": median s, "rss": median MB, "runs": n, "bad": n}}}"""
    out = {}
    for scale, _ in SCALES:
        raw = results / scale / "raw.csv"
        if not raw.exists():
            continue
        rows = [r for r in csv.DictReader(raw.open()) if r["run"] != "warmup"]
        # Runs that exited 0 without doing the whole job (popeye's requests timing out),
        # recorded by hand as tool,run,reason after reading the run's stderr.
        inc_file = results / scale / "incomplete.csv"
        incomplete = {(r[0], r[1]): r[2] for r in csv.reader(inc_file.open()) if len(r) >= 3} if inc_file.exists() else {}
        per = {}
        for tool in TOOLS:
            mine = [r for r in rows if r["tool"] == tool]
            good = [r for r in mine if int(r["exit"]) in GOOD_EXIT[tool] and (tool, r["run"]) not in incomplete]
            if not good:
                if mine:  # every run was capped or incomplete: what it reached is a lower bound
                    reasons = sorted({incomplete[(tool, r["run"])] for r in mine if (tool, r["run"]) in incomplete})
                    per[tool] = {"wall": max(float(r["wall_s"]) for r in mine),
                                 "rss": max(int(r["max_rss_kb"]) for r in mine) / 1000,
                                 "walls": [], "runs": 0, "bad": len(mine), "lower_bound": True,
                                 "incomplete": "; ".join(reasons)}
                continue
            per[tool] = {
                "wall": statistics.median(float(r["wall_s"]) for r in good),
                "rss": statistics.median(int(r["max_rss_kb"]) for r in good) / 1000,
                "walls": [float(r["wall_s"]) for r in good],
                "runs": len(good),
                "bad": len(mine) - len(good),
            }
        out[scale] = per
    return out


def oha(path: Path):
    """Requests/s, count, p50 and p99 (ms), status codes and errors from an oha JSON report."""
    doc = json.loads(path.read_text())
    summary, pct = doc.get("summary", {}), doc.get("latencyPercentiles", {})
    statuses = doc.get("statusCodeDistribution", {}) or {}
    ms = lambda v: None if v is None else v * 1000
    return {
        "rps": summary.get("requestsPerSec"),
        "total": sum(statuses.values()) + sum((doc.get("errorDistribution") or {}).values()),
        "p50": ms(pct.get("p50")),
        "p99": ms(pct.get("p99")),
        "statuses": ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items())) or "none",
        "errors": ", ".join(f"{k}: {v}" for k, v in (doc.get("errorDistribution") or {}).items()) or "none",
    }


def fmt_s(v):
    return f"{v:.2f} s" if v < 10 else f"{v:.1f} s"


def table(data):
    lines = ["| Scale | Tool | Wall time (median) | × floor | Peak RSS (median) | Runs |",
             "|---|---|---:|---:|---:|---:|"]
    for scale, label in SCALES:
        per = data.get(scale)
        if not per:
            continue
        floor = per.get("floor")
        for tool in TOOLS:
            t = per.get(tool)
            if not t:
                lines.append(f"| {scale} ({label}) | {tool} | n/a | | | 0 |")
                continue
            lb = "> " if t.get("lower_bound") else ""
            ratio = f"{lb}{t['wall'] / floor['wall']:.2f}×" if floor else ""
            bad = f" ({t['bad']} capped, failed or incomplete)" if t["bad"] else ""
            lines.append(f"| {scale} ({label}) | {tool} | {lb}{fmt_s(t['wall'])} | {ratio} | "
                         f"{'≥ ' if lb else ''}{t['rss']:.0f} MB | {t['runs']}{bad} |")
    return "\n".join(lines)


def targets(data):
    lines = []
    for scale, (max_ratio, max_mb) in TARGETS.items():
        per = data.get(scale, {})
        pc, floor, popeye = per.get("postcheck"), per.get("floor"), per.get("popeye")
        if not (pc and floor):
            lines.append(f"- {scale}: not measured in this run.")
            continue
        ratio = pc["wall"] / floor["wall"]
        ok = lambda b: "met" if b else "**missed**"
        lines.append(f"- {scale}: wall time {ratio:.2f}× the floor (target ≤ {max_ratio}×: "
                     f"{ok(ratio <= max_ratio)}"
                     + ("" if ratio <= max_ratio else f", over by {(ratio / max_ratio - 1) * 100:.0f}%")
                     + f"); peak RSS {pc['rss']:.0f} MB (target ≤ {max_mb} MB: {ok(pc['rss'] <= max_mb)}"
                     + ("" if pc["rss"] <= max_mb else f", over by {pc['rss'] - max_mb:.0f} MB")
                     + ")")
        if popeye and popeye.get("incomplete"):
            lines.append(f"- {scale} against popeye: not judged: popeye did not finish a scan "
                         f"({popeye['incomplete']}); before it gave up it had run {popeye['wall']:.1f} s "
                         f"and held {popeye['rss']:.0f} MB")
        elif popeye:
            speed, mem = popeye["wall"] / pc["wall"], popeye["rss"] / pc["rss"]
            more = "more than " if popeye.get("lower_bound") else ""
            lines.append(f"- {scale} against popeye: {more}{speed:.1f}× faster (target ≥ 10×: {ok(speed >= 10)}), "
                         f"{more}{mem:.1f}× less memory (target ≥ 20×: {ok(mem >= 20)})"
                         + (" (popeye was stopped at its cap, see capped.csv)" if more else ""))
    pods = PODS
    measured = [(pods[s], data[s]["postcheck"]["rss"]) for s, _ in SCALES
                if data.get(s, {}).get("postcheck") and not data[s]["postcheck"].get("lower_bound")]
    if len(measured) >= 2:
        (p0, r0), (p1, r1) = measured[0], measured[-1]
        slope = (r1 - r0) / (p1 - p0) * 1000
        lines.append(f"- memory against objects: postcheck's peak RSS goes from {r0:.0f} MB at {p0:,} pods to "
                     f"{r1:.0f} MB at {p1:,} pods, {slope:.2f} MB per 1,000 pods kept (the page in flight, "
                     f"500 pods, is the same at every scale)")
    return "\n".join(lines)


SCENARIOS = {
    "get-task-rate": ("GET task", "500", "2,000 req/s offered, open loop"),
    "get-task-max": ("GET task", "500", "closed loop: as fast as answered"),
    "post-check": ("POST postcheck (sync)", "1", "closed loop"),
}


def service_table(results: Path):
    files = sorted((results / "service").glob("*.json")) if (results / "service").exists() else []
    if not files:
        return "Not measured in this run."
    lines = ["| Backend | Scenario | Connections | Load | Requests | Requests/s | p50 | p99 | Statuses | Errors |",
             "|---|---|---:|---|---:|---:|---:|---:|---|---|"]
    for f in files:
        backend, scenario = f.stem.split("-", 1)
        what, conns, load = SCENARIOS.get(scenario, (scenario, "?", "?"))
        o = oha(f)
        fmt = lambda v: "n/a" if v is None else f"{v:.2f} ms"
        lines.append(f"| {backend} | {what} | {conns} | {load} | {o['total']:,} | {o['rps']:,.0f} | {fmt(o['p50'])} | "
                     f"{fmt(o['p99'])} | {o['statuses']} | {o['errors']} |")
    return "\n".join(lines)


def fidelity(results: Path):
    """Whether the floor asked the API server for the same things as postcheck."""
    lines = []
    for scale, _ in SCALES:
        a, b = results / scale / "requests-postcheck.txt", results / scale / "requests-floor.txt"
        if not (a.exists() and b.exists()):
            continue
        read = lambda f: dict((l.split()[0], float(l.split()[1])) for l in f.read_text().splitlines() if l.strip())
        pc, fl = read(a), read(b)
        # Background controllers also list now and then: only count what either side asked.
        differ = [(k, pc.get(k, 0), fl.get(k, 0)) for k in sorted(set(pc) | set(fl)) if pc.get(k, 0) != fl.get(k, 0)]
        total = sum(pc.values()), sum(fl.values())
        if differ:
            detail = "; ".join(f"{k}: postcheck {int(x)}, floor {int(y)}" for k, x, y in differ)
            lines.append(f"- {scale}: postcheck made {int(total[0])} LIST/GET requests, the floor {int(total[1])}; differing: {detail}")
        else:
            lines.append(f"- {scale}: postcheck and the floor made the same {int(total[0])} LIST/GET requests, resource by resource")
    return "\n".join(lines) if lines else "(not measured)"


def chart(data, results: Path):
    """The cost curve: wall time and peak RSS of each tool against the pods in the cluster."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scales = [s for s, _ in SCALES if data.get(s)]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6))
    for col, (key, unit, title) in enumerate([("wall", "s", "Wall time"), ("rss", "MB", "Peak RSS")]):
        ax = axes[col]
        for tool in TOOLS:
            points = [(PODS[s], data[s][tool][key], data[s][tool].get("lower_bound", False))
                      for s in scales if tool in data[s]]
            if not points:
                continue
            xs, ys = [p[0] for p in points], [p[1] for p in points]
            ax.plot(xs, ys, marker="o", color=COLORS[tool], label=tool)
            for x, y, capped in points:
                ax.annotate(("≥ " if capped else "") + (f"{y:.1f}" if y < 100 else f"{y:.0f}"), (x, y),
                            textcoords="offset points", xytext=(4, 4), fontsize=8, color=COLORS[tool])
                if capped:
                    ax.plot([x], [y], marker="^", markersize=10, color=COLORS[tool], fillstyle="none")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xticks([PODS[s] for s in scales])
        ax.set_xticklabels([f"{s}\n{PODS[s]:,} pods" for s in scales], fontsize=8)
        ax.set_xticks([], minor=True)  # no log-scale minor labels (2×10³, ...) between the scales
        ax.set_title(f"{title} ({unit}, median; ▲ = stopped or incomplete: a lower bound)", fontsize=10, loc="left")
        ax.grid(True, which="major", alpha=0.3)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    axes[0].legend(fontsize=9)
    fig.suptitle("The cost curve: postcheck against the API server's floor, popeye and kubectl", fontsize=12)
    fig.tight_layout()
    fig.savefig(results / "bench.svg")
    fig.savefig(results / "bench.png", dpi=110)


def requests_sent(results: Path):
    """Whether the floor sent exactly the requests of the recorded pass (every page)."""
    lines = []
    for scale, _ in SCALES:
        f = results / scale / "requests-compare.txt"
        if f.exists():
            text = f.read_text().strip().replace("\n", "; ")
            lines.append(f"- {scale}: {text}")
    return "\n".join(lines) if lines else "(not measured)"


def main():
    results = Path(sys.argv[1] if len(sys.argv) > 1 else "bench/results")
    data = load(results)
    machine = (results / "machine.txt").read_text().strip() if (results / "machine.txt").exists() else "(not recorded)"
    populate = []
    for scale, _ in SCALES:
        p = results / scale / "populate.json"
        cp = results / scale / "control-plane.txt"
        if p.exists():
            populate.append(f"- {scale}: `{p.read_text().strip()}`".replace("\n", " "))
        if cp.exists():
            populate.append(f"  control plane after populating: {', '.join(cp.read_text().split())}")
        cpu = results / scale / "populate-cpu.txt"
        if cpu.exists():
            populate.append(f"  CPU seconds while populating: {'; '.join(cpu.read_text().strip().splitlines()[1:])}")
    notes = (results / "NOTES.md").read_text().strip() if (results / "NOTES.md").exists() else ""
    if data:
        chart(data, results)
    doc = f"""# Benchmark results

Written by `bench/report.py` from the raw runs of `scripts/bench` (beside this file:
`<scale>/raw.csv`, every run; `<scale>/requests-*.txt`, what postcheck and the floor asked
the API server, from its `apiserver_request_total` metric).

![time and memory per tool and scale](bench.png)

## Gather: postcheck against the floor, popeye and kubectl

Medians of the timed runs (a warm-up run of each tool first is not counted); wall time and
peak RSS from GNU time. The floor is `bench/floor.sh` (`bench/floor.py`, Python's
http.client): exactly the lists postcheck's gather pass fetches (plan in
`<scale>/floor-plan.tsv`), same page sizes, same concurrency, one kept-alive connection per
chain, bodies discarded. `raw.csv` has every run with the 1-minute load average after it
(the machine is shared: ratios come from runs interleaved on one cluster).

{table(data) if data else "No scale was measured."}

Targets:
{targets(data)}

Same requests? The floor against the recorded pass (`postcheck floor-plan --counts`), every
request and page counted by each client (`<scale>/requests-compare.txt`):
{requests_sent(results)}

And from the API server's metrics, one run of each (background controllers list too, so
small differences here are theirs):
{fidelity(results)}

## Service under load (oha on loopback)

`GET .../postcheck/tasks/{{id}}` of a finished task and synchronous `POST
.../operation/postcheck` (each runs a full check of a 3-node test cluster; one connection,
as the service runs one check per cluster at a time and answers 429 to another), on SQLite
and PostgreSQL:

{service_table(results)}

## Populating

{chr(10).join(populate) if populate else "(none)"}

{"## Notes on this run (bench/results/NOTES.md, by hand)" + chr(10) + chr(10) + notes if notes else ""}

## Machine

```
{machine}
```

## Reproduce

```
scripts/bench                 # medium scale and the service load test
scripts/bench --large         # also 5,000 nodes / 150,000 pods
scripts/bench --scale small   # a quick shake-out
scripts/bench --scale small --scale n500 --scale medium --no-service   # the cost curve
```
"""
    (results / "README.md").write_text(doc)
    print(f"wrote {results / 'README.md'}")


if __name__ == "__main__":
    main()
