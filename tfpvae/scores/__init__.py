"""Sample-quality scores: distances between features of real and generated x,
and the networks that give the features.

    a = tfpvae.scores.classifier_features(classifier, x_test)
    b = tfpvae.scores.classifier_features(classifier, vae.sample(len(x_test), mean=True))
    tfpvae.scores.frechet_distance(a, b)
    tfpvae.scores.kernel_distance(a, b)
    tfpvae.scores.precision_recall(a, b, k=3)   # {"precision": ..., "recall": ...}
"""

from tfpvae.scores.distances import frechet_distance, gaussian_frechet, kernel_distance, precision_recall, summary
from tfpvae.scores.features import (classifier_features, inception_features, inception_network, inception_weights,
                                    train_classifier)

__all__ = ["classifier_features", "frechet_distance", "gaussian_frechet", "inception_features", "inception_network",
           "inception_weights", "kernel_distance", "precision_recall", "summary", "train_classifier"]
