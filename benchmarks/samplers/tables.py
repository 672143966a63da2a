"""The table of the samplers benchmark: the block of docs/results/samplers.md."""

ROWS = {"training images": "training images (the floor)", "prior": "prior p(z)",
        "gmm": "Gaussian mixture, 10 components, full covariance", "flow": "masked autoregressive flow",
        "two_stage": "two-stage VAE"}


def block(results, part=None):
    """Per sampler: Fréchet distance, KID (with its standard error), precision, recall, seconds to fit."""
    lines = ["| z from | Fréchet distance | KID | precision | recall | fit (s) |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for name, label in ROWS.items():
        row = results["rows"].get(name)
        if row is None:
            continue
        fit = f"{row['fit_seconds']:.0f}" if "fit_seconds" in row else "-"
        lines.append(f"| {label} | {row['frechet_distance']:.2f} | {row['kernel_distance']:.2f} "
                     f"± {row['kernel_distance_stderr']:.2f} | {row['precision']:.3f} | {row['recall']:.3f} | {fit} |")
    return "\n".join(lines)
