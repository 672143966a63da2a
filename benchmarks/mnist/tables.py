"""The MNIST table: the rows of Burda et al.'s Table 1, the paper's numbers, and the table the report writes
(printed, and into the block of docs/results/mnist.md)."""

TRAIN_EXAMPLES = 60000
PAPER = {  # Burda et al., arXiv:1509.00519, Table 1: test NLL (nats), k = 5000 to evaluate
    (1, "elbo"): {1: 86.76, 5: 86.47, 50: 86.35}, (1, "iwae"): {1: 86.76, 5: 85.54, 50: 84.78},
    (2, "elbo"): {1: 85.33, 5: 85.01, 50: 84.78}, (2, "iwae"): {1: 85.33, 5: 83.89, 50: 82.90},
}
ROWS = [f"{layers}-{objective}-{k}" for layers in (1, 2) for objective in ("elbo", "iwae", "dreg")
        for k in (1, 5, 50)]


def parse_row(row):
    """(layers, objective, k) of a row name such as 1-elbo-1."""
    if row not in ROWS:
        raise SystemExit(f"benchmarks.mnist: error: --row must be one of {', '.join(ROWS)}; received {row!r}")
    layers, objective, k = row.split("-")
    return int(layers), objective, int(k)


def projected_hours(row, rates, passes):
    """Hours for the paper's `passes` over 60,000 images at the row's measured examples/s, else at
    the rate of a measured row with the same layers and k, else at a 1-layer row's rate times
    (1 + k') / (1 + k) (the encoder runs once per example, the decoder k times); with the basis named."""
    layers, _, k = parse_row(row)
    hours = lambda rate: passes * TRAIN_EXAMPLES / rate / 3600  # noqa: E731
    if row in rates:
        return hours(rates[row]), "its measured rate"
    same = [r for r in rates if parse_row(r)[::2] == (layers, k)]
    if same:
        return hours(rates[same[0]]), f"rate of {same[0]}"
    base = next((r for r in rates if parse_row(r)[0] == 1), None)
    if base is None:
        return None, "no row measured"
    scaled = "" if parse_row(base)[2] == k else f" x {1 + parse_row(base)[2]}/{1 + k}"
    return hours(rates[base] * (1 + parse_row(base)[2]) / (1 + k)), f"rate of {base}{scaled}"


def measured_rates(rows):
    """{row: examples/s} of the tfpvae rows that measured one."""
    return {name: r["examples_per_s"] for name, r in rows.items()
            if r.get("examples_per_s") and not name.startswith("reference")}


def cell(row):
    if row.get("test_nll_k5000") is not None:
        return f"{row['test_nll_k5000']:.2f}"
    if row.get("curve"):
        point = row["curve"][-1]
        return f"({point['nll_k100']:.2f} at epoch {point['epoch']}, k = 100, 1,000 images)"
    return "-"


def markdown(rows, passes):
    """The table: a line per row of the paper's (run or not), then the references'."""
    rates = measured_rates(rows)
    lines = ["| row | layers | objective | k | paper NLL | tfpvae NLL (k = 5000) | status | epochs done / "
             "budget | paper's budget | training time | examples/s | active units | 3,280 passes would take |",
             "| --- | ---: | --- | ---: | ---: | ---: | --- | --- | ---: | ---: | ---: | ---: | --- |"]
    for name in ROWS:
        layers, objective, k = parse_row(name)
        paper = PAPER.get((layers, objective), {}).get(k)
        row = rows.get(name, {})
        hours, basis = projected_hours(name, rates, passes)
        budget = (f"{row['epochs_done']} / {row['epochs']} epochs"
                  + (f", {row['seconds']:.0f} s" if row.get("seconds") else "")) if row else "not run"
        lines.append(
            f"| {name} | {layers} | {objective} | {k} | {f'{paper:.2f}' if paper else '-'} | {cell(row)} | "
            f"{row.get('status', '-')} | {budget} | {passes} passes | "
            f"{row['train_seconds'] / 60:.1f} min | {row['examples_per_s'] or 0:,.0f} | "
            f"{row.get('active_units', '-')} | "
            f"{'-' if hours is None else f'{hours:.1f} h ({basis})'} |" if row else
            f"| {name} | {layers} | {objective} | {k} | {f'{paper:.2f}' if paper else '-'} | - | not run | - | "
            f"{passes} passes | - | - | - | {'-' if hours is None else f'{hours:.1f} h ({basis})'} |")
    for name, row in rows.items():
        if name.startswith("reference"):
            lines.append(f"| {name} | 1 | elbo | 1 | 86.76 | {cell(row)} | {row['status']} | "
                         f"{row['epochs_done']} epochs, {row['seconds']:.0f} s | {passes} passes | "
                         f"{row['train_seconds'] / 60:.1f} min | {row['examples_per_s']:,.0f} | - | - |")
    return "\n".join(lines)


def block(results, part=None):
    """The page's table from a results file (what `report --runs` gathered)."""
    rows = results["rows"]
    return markdown(rows, results.get("paper_passes") or next(r["paper_passes"] for r in rows.values()))
