"""A mixture density network (Bishop, 1994) on a target with several modes.

    python examples/mixture_density_network.py [--epochs N]

Bishop's inverse problem: t ~ U(0, 1), x = t + 0.3 sin(2 pi t) + noise, and
the task is to predict t from x. For x between about 0.35 and 0.65 three
values of t fit, so p(t|x) has three modes. A single Gaussian can only
spread over them; a `normal_mixture` of 3 components places one on each.
Printed: the held-out mean log-likelihood of both, and at x = 0.5 the
mixture's weights and means.
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import tfpvae  # noqa: E402

MIXTURE = {"name": "normal_mixture", "components": 3}


def inverse_problem(n, seed):
    rng = np.random.default_rng(seed)
    t = rng.uniform(0.0, 1.0, size=(n, 1))
    x = t + 0.3 * np.sin(2.0 * np.pi * t) + rng.uniform(-0.1, 0.1, size=(n, 1))
    return x.astype("float32"), t.astype("float32")


def fit(family, x, t, epochs):
    keras.utils.set_random_seed(0)
    head = tfpvae.layers.DistributionHead(family, event_shape=(1,))
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(32, activation="tanh"),
                              keras.layers.Dense(32, activation="tanh"), head])
    model.compile(optimizer=keras.optimizers.Adam(5e-3),
                  loss=tfpvae.losses.NegativeLogLikelihood(family, event_shape=(1,)),
                  metrics=[tfpvae.metrics.LogLikelihood(family, event_shape=(1,))])
    model.fit(x, t, epochs=epochs, batch_size=100, verbose=0)
    return model, head


def main(epochs):
    x, t = inverse_problem(3000, seed=0)
    x_test, t_test = inverse_problem(1000, seed=1)
    for name, family in (("normal", "normal"), ("normal_mixture", MIXTURE)):
        model, head = fit(family, x, t, epochs)
        score = model.evaluate(x_test, t_test, verbose=0, return_dict=True)["log_likelihood"]
        print(f"family={name:15s} test log-likelihood {score:6.3f} nats")
    p = head.distribution(model.predict(np.array([[0.5]], np.float32), verbose=0))
    weights = p.mixture_distribution.probs_parameter().numpy()[0]
    means = p.components_distribution.mean().numpy()[0, :, 0]
    print("at x = 0.5: " + "  ".join(f"weight {w:.2f} mean {m:.2f}" for w, m in sorted(zip(weights, means),
                                                                                   key=lambda c: c[1])))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=200)
    main(parser.parse_args().epochs)
