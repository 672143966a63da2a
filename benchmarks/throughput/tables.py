"""The tables of the throughput benchmark: its report's, and the blocks of docs/results/throughput.md."""

import statistics

IMPLEMENTATIONS = ("tfpvae", "keras3", "tfp.layers")


def grouped(runs, key):
    """{(batch size, implementation): [run[key] over rounds]}."""
    out = {}
    for run in runs:
        out.setdefault((run["batch_size"], run["impl"]), []).append(run[key])
    return out


def ratio(value, baseline):
    return f"{value / baseline:.2f}" if baseline else "n/a"


def implementations(runs):
    """The implementations that ran, in IMPLEMENTATIONS' order."""
    return [impl for impl in IMPLEMENTATIONS if any(run["impl"] == impl for run in runs)]


def main_table(batch_sizes, runs):
    """Markdown lines: per batch size and implementation, the median [min, max] of examples/s and first step,
    peak memory and its growth, the final loss and XLA, with each figure's ratio to tfpvae's."""
    rate, first, peak, growth, loss = (grouped(runs, key) for key in
                                       ("examples_per_s", "first_step_s", "peak_mib", "growth_mib", "final_loss"))
    jit = {(run["batch_size"], run["impl"]): run["jit_compile"] for run in runs}
    lines = ["| batch | implementation | examples/s | vs tfpvae | first step (s) | vs tfpvae "
             "| peak RSS (MiB) | vs tfpvae | RSS growth (MiB) | final loss | XLA |",
             "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for bs in batch_sizes:
        base = {name: statistics.median(table.get((bs, "tfpvae"), [0])) for name, table in
                (("rate", rate), ("first", first), ("peak", peak))}
        for impl in implementations(runs):
            key = (bs, impl)
            r, f, p = (statistics.median(t[key]) for t in (rate, first, peak))
            lines.append(
                f"| {bs} | {impl} | {r:,.0f} [{min(rate[key]):,.0f}, {max(rate[key]):,.0f}] "
                f"| {ratio(r, base['rate'])} | {f:.2f} [{min(first[key]):.2f}, {max(first[key]):.2f}] "
                f"| {ratio(f, base['first'])} | {p:,.0f} | {ratio(p, base['peak'])} "
                f"| {statistics.median(growth[key]):,.0f} | {statistics.median(loss[key]):.2f} | {jit[key]} |")
    return lines


def short_table(runs):
    """Markdown lines of a run at one batch size: per implementation, the median [min, max] of examples/s
    and first step, and XLA."""
    rate, first = grouped(runs, "examples_per_s"), grouped(runs, "first_step_s")
    jit = {run["impl"]: run["jit_compile"] for run in runs}
    lines = ["| implementation | examples/s | first step (s) | XLA |", "| --- | ---: | ---: | --- |"]
    for (_, impl), rates in rate.items():
        firsts = first[_, impl]
        lines.append(f"| {impl} | {statistics.median(rates):,.0f} [{min(rates):,.0f}, {max(rates):,.0f}] "
                     f"| {statistics.median(firsts):.2f} [{min(firsts):.2f}, {max(firsts):.2f}] | {jit[impl]} |")
    return lines


def matmul_peak(matmul):
    """The machine's reference rate: the mean of the matmul medians before and after the rounds, GFLOP/s."""
    return statistics.mean(m["median_gflops"] for m in matmul)


def flop_table(batch_sizes, runs, matmul, flops):
    """Markdown lines: tfpvae's achieved FLOP rate as a fraction of the machine's matmul rate."""
    rate, peak = grouped(runs, "examples_per_s"), matmul_peak(matmul)
    lines = ["| batch | tfpvae examples/s | achieved GFLOP/s | fraction of matmul rate |",
             "| ---: | ---: | ---: | ---: |"]
    for bs in batch_sizes:
        if (bs, "tfpvae") not in rate:
            continue
        r = statistics.median(rate[bs, "tfpvae"])
        achieved = r * flops / 1e9
        lines.append(f"| {bs} | {r:,.0f} | {achieved:.1f} | {achieved / peak:.1%} |")
    return lines


def block(results, part):
    """A block of the page from a results file: the main table (part main), tfpvae's FLOP rate (flops), or
    the short table of a run at one batch size (short)."""
    batch_sizes, runs = results["setup"]["batch_sizes"], results["runs"]
    if part == "main":
        return "\n".join(main_table(batch_sizes, runs))
    if part == "flops":
        return "\n".join(flop_table(batch_sizes, runs, results["matmul"], results["train_flops_per_example"]))
    if part == "short":
        return "\n".join(short_table(runs))
    raise ValueError(f"throughput has no table {part!r}; expected main, flops or short")
