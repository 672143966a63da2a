"""The `tfpvae` command: train, evaluate, sample and export VAEs.

    tfpvae train [--config FILE] [--dataset NAME_OR_PATH] [--epochs N] ...
    tfpvae evaluate RUN_DIR [--dataset ...] [--num-samples K] [--json] [--scores [--sampler KIND]]
                    [--disentanglement]
    tfpvae sample RUN_DIR [-n 64] [--output FILE.png] [--sampler KIND]
    tfpvae export RUN_DIR EXPORT_DIR [--version N] [--overwrite]
"""

import argparse
import json
import sys
import traceback

from tfpvae import backend, config


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, `tfpvae: error: ...`, and status 2."""

    def error(self, message):
        self.exit(2, f"tfpvae: error: {message} (see {self.prog} --help)\n")


SAMPLER_HELP = ("where z comes from: prior (default), gmm, flow, two_stage, or a JSON spec such as "
                '\'{"name": "gmm", "components": 20}\'; fitted on the run\'s training data the first time and '
                "saved in RUN_DIR/samplers/")


def parser():
    main = Parser(prog="tfpvae", description="Variational autoencoders on TFP and Keras 3.")
    main.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    main.add_argument("--backend", choices=backend.BACKENDS,
                      help="Keras backend to run on (default: KERAS_BACKEND, else Keras's configured one); "
                           "set before Keras is imported by the `tfpvae` command")
    commands = main.add_subparsers(dest="command", required=True)
    main.commands = commands.choices  # each command's parser, by name

    train = commands.add_parser(
        "train", help="train a VAE and write a run directory",
        description="Train a VAE and write a run directory. Flags override the config file's values, "
                    "which override the defaults shown.")
    train.add_argument("--config", help="a .json or .toml config file with [model], [data] and [training] "
                                        "sections (default: none)")
    train.add_argument("--output", help="run directory; an unfinished run there is resumed "
                                        "(default: runs/<timestamp>)")
    for section, options in config.OPTIONS.items():
        group = train.add_argument_group(f"[{section}] options")
        for key, option in options.items():
            kind = {int: int, float: float}.get(option.kind, str)
            group.add_argument("--" + key.replace("_", "-"), dest=key, type=kind, metavar=key.upper(),
                               help=config.describe(option))

    evaluate = commands.add_parser("evaluate", help="test ELBO, log-likelihood and bits/dim of a run")
    evaluate.add_argument("run_dir")
    evaluate.add_argument("--dataset", help="evaluate on this data instead of the run's")
    evaluate.add_argument("--num-samples", type=int, default=1000, help="importance samples k")
    evaluate.add_argument("--json", action="store_true", help="print JSON instead of a table")
    evaluate.add_argument("--scores", action="store_true",
                          help="also FID, KID and precision/recall of samples against the test split")
    evaluate.add_argument("--sampler", default="prior", type=config.parse_spec,
                          help=SAMPLER_HELP + " (with --scores)")
    evaluate.add_argument("--features", default="classifier", choices=["classifier", "inception"],
                          help="features of --scores: a classifier trained on the run's labels and saved in "
                               "the run (default), or ImageNet InceptionV3 (its weights must be in Keras's cache)")
    evaluate.add_argument("--disentanglement", action="store_true",
                          help="also the disentanglement metrics (BetaVAE and FactorVAE scores, MIG, SAP, DCI) "
                               "of a run on a data set with known factors (shapes)")
    evaluate.add_argument("--disentanglement-points", type=int, default=10000,
                          help="points per disentanglement metric (default: 10000, Locatello et al.'s protocol; "
                               "see tfpvae.disentanglement.evaluate)")

    sample = commands.add_parser("sample", help="a PNG grid (and .npy) of new samples")
    sample.add_argument("run_dir")
    sample.add_argument("-n", "--num", type=int, default=64, help="how many samples")
    sample.add_argument("--output", help="PNG path (default: RUN_DIR/samples.png)")
    sample.add_argument("--seed", type=int)
    sample.add_argument("--draw", action="store_true", help="random draws x ~ p(x|z), not means")
    sample.add_argument("--label", type=int,
                        help="a conditional run's label for every sample (default: row i has label i)")
    sample.add_argument("--sampler", default="prior", type=config.parse_spec, help=SAMPLER_HELP)

    export = commands.add_parser("export", help="write a TF SavedModel for serving")
    export.add_argument("run_dir")
    export.add_argument("export_dir")
    export.add_argument("--version", type=int, help="write into EXPORT_DIR/VERSION (TF Serving)")
    export.add_argument("--overwrite", action="store_true", help="replace a non-empty EXPORT_DIR")
    return main


def quiet_logs():
    """TensorFlow's Python logger at ERROR where TensorFlow is loaded. Importing
    this module imported tfpvae, and with it TensorFlow on that backend, its
    start-up lines silenced (`tfpvae.startup`)."""
    if backend.tensorflow_loaded():
        backend.tensorflow.get_logger().setLevel("ERROR")


def flag_config(args):
    """The config values given as flags, by section."""
    layer = {}
    for section, options in config.OPTIONS.items():
        values = {key: getattr(args, key) for key in options if getattr(args, key) is not None}
        parse = {"spec": config.parse_spec, "sizes": config.parse_sizes}
        layer[section] = {k: parse[options[k].kind](v) if options[k].kind in parse else v
                          for k, v in values.items()}
    return layer


def train_config(args):
    """The run's config: the defaults, then the --config file's values, then the flags'."""
    layers = [config.read(args.config)] if args.config else []
    return config.merge(*layers, flag_config(args))


def run_train(args):
    from tfpvae import runs

    run_dir, metrics, _ = runs.train(train_config(args), args.output)
    print(f"\nrun directory: {run_dir}")
    for name in sorted(p.name for p in run_dir.iterdir()):
        print(f"  {run_dir / name}")
    print(f"test ELBO: {metrics['elbo']:.3f} nats "
          f"(reconstruction {metrics['reconstruction']:.3f}, KL {metrics['kl']:.3f})")


def run_evaluate(args):
    from tfpvae import runs

    points = args.disentanglement_points if args.disentanglement else None
    result = runs.evaluate(args.run_dir, args.dataset, args.num_samples, args.scores, args.sampler, args.features,
                           disentanglement_points=points)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for key, value in result.items():
        print(f"{key:>24}  {value:.4f}" if isinstance(value, float) else f"{key:>24}  {value}")


def run_sample(args):
    from tfpvae import runs

    path = runs.sample(args.run_dir, args.num, args.output, args.seed, args.draw, args.label, args.sampler)
    print(f"samples: {path} and {path.with_suffix('.npy')}")


def run_export(args):
    from tfpvae import runs

    path = runs.export(args.run_dir, args.export_dir, args.version, args.overwrite)
    print(f"SavedModel: {path}")


COMMANDS = {"train": run_train, "evaluate": run_evaluate, "sample": run_sample, "export": run_export}


def main(argv=None):
    args = parser().parse_args(argv)
    if args.backend and args.backend != backend.NAME:
        print(f"tfpvae: error: --backend {args.backend} must be chosen before Keras is imported, and Keras "
              f"runs on {backend.NAME} here; run the `tfpvae` command or set KERAS_BACKEND={args.backend}",
              file=sys.stderr)
        return 2
    quiet_logs()
    try:
        COMMANDS[args.command](args)
    except (ValueError, TypeError, OSError, ImportError, KeyError) as error:
        if args.debug:
            traceback.print_exc()
        message = error.args[0] if isinstance(error, KeyError) and error.args else str(error)
        print(f"tfpvae: error: {message}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
