"""The table of the disentanglement benchmark: the block of docs/results/disentanglement.md."""

METRICS = {"beta_vae_score": "BetaVAE", "factor_vae_score": "FactorVAE", "mig": "MIG", "sap": "SAP",
           "dci_disentanglement": "DCI dis.", "dci_completeness": "DCI comp.", "dci_informativeness": "DCI inf."}


def per_seed(rows, text):
    """One cell: each seed's value, in seed order, separated by slashes."""
    return " / ".join(text(row) for row in rows)


def block(results, part=None):
    """Per model: each metric seed by seed, the final training loss and the training time."""
    lines = ["| model | seeds | " + " | ".join(METRICS.values()) + " | final loss | training |",
             "| --- | --- | " + " | ".join("---:" for _ in METRICS) + " | ---: | ---: |"]
    for name in results["models"]:
        rows = sorted((r for r in results["rows"] if r["name"] == name), key=lambda r: r["seed"])
        if not rows:
            continue
        cells = [per_seed(rows, lambda r, k=k: f"{r['metrics'][k]:.2f}") for k in METRICS]
        cells += [per_seed(rows, lambda r: f"{r['final_loss']:.1f}"),
                  per_seed(rows, lambda r: f"{r['train_seconds'] / 60:.0f} min")]
        lines.append(f"| {name} | {', '.join(str(r['seed']) for r in rows)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
