"""Heteroscedastic regression: a network predicts a distribution over y, not a point.

    python examples/probabilistic_regression.py [--epochs N]

scikit-learn's bundled diabetes data: 442 patients, 10 measurements, and a
disease-progression score y a year later (standardized here). A Dense
network outputs the parameters of p(y|x), a `normal` (mean and standard
deviation per patient) or a heavy-tailed `student_t`, trained on the
negative log-likelihood. Printed for the 89 held-out patients: the mean
log-likelihood (of standardized y), the coverage of the 90% prediction
interval, and the error of the predicted mean. With 353 patients to
learn from, longer training over-fits: the log-likelihood falls and the
intervals become too narrow.
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_diabetes  # noqa: E402

import tfpvae  # noqa: E402


def diabetes():
    x, y = load_diabetes(return_X_y=True)
    x, y = x.astype("float32"), y.astype("float32")[:, None]
    x, y = (x - x.mean(0)) / x.std(0), (y - y.mean()) / y.std()
    order = np.random.RandomState(0).permutation(len(x))
    train, test = order[:353], order[353:]
    return x[train], y[train], x[test], y[test]


def fit(family, x, y, epochs):
    keras.utils.set_random_seed(0)
    head = tfpvae.layers.DistributionHead(family, event_shape=(1,))
    model = keras.Sequential([keras.Input((10,)), keras.layers.Dense(16, activation="relu"), head])
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=tfpvae.losses.NegativeLogLikelihood(family, event_shape=(1,)),
                  metrics=[tfpvae.metrics.LogLikelihood(family, event_shape=(1,)),
                           tfpvae.metrics.IntervalCoverage(family, event_shape=(1,), level=0.9)])
    model.fit(x, y, epochs=epochs, batch_size=32, verbose=0)
    return model, head


def main(epochs):
    x_train, y_train, x_test, y_test = diabetes()
    for family in ("normal", "student_t"):
        model, head = fit(family, x_train, y_train, epochs)
        scores = model.evaluate(x_test, y_test, verbose=0, return_dict=True)
        p = head.distribution(model.predict(x_test, verbose=0))   # p(y|x) for each test patient
        rmse = float(np.sqrt(np.mean((p.mean().numpy() - y_test) ** 2)))
        print(f"family={family:10s} test log-likelihood {scores['log_likelihood']:6.3f} nats   "
              f"90% interval coverage {scores['coverage_90']:.3f}   RMSE of the mean {rmse:.3f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=50)
    main(parser.parse_args().epochs)
