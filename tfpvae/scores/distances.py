"""Distances between two sets of features: of real x and of generated x.

    FID  = ||mu_a - mu_b||^2 + Tr(C_a + C_b - 2 (C_a C_b)^(1/2))
           (Heusel et al., arXiv:1706.08500), the Frechet distance of the
           Gaussians with the features' means and covariances;
    KID  = MMD^2 with the kernel k(u, v) = (u.v / D + 1)^3, its unbiased
           estimator averaged over random subsets (Binkowski et al.,
           arXiv:1801.01401);
    precision, recall: the share of generated features inside the real ones'
           k-nearest-neighbour balls, and of real features inside the
           generated ones' (Kynkaanniemi et al., arXiv:1904.06991).

Each takes numpy arrays [N, D]; `features_a` is the reference (real) set.
"""

import numpy as np

from tfpvae import checks


def checked_features(features, what, least=2, dim=None):
    """features as a finite float64 array [N, D], N >= least (and D == dim where given)."""
    try:
        array = np.asarray(features, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a numeric array [N, D]; received {type(features).__name__}") from None
    if array.ndim != 2:
        raise ValueError(f"{what} must have shape [N, D]; received shape {array.shape}")
    if len(array) < least:
        raise ValueError(f"{what} must hold at least {least} rows; received {len(array)}")
    if dim is not None and array.shape[1] != dim:
        raise ValueError(f"{what} must have D = {dim} columns, as features_a has; received shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{what} must be finite; received NaN or inf")
    return array


def pair(features_a, features_b, least=2):
    a = checked_features(features_a, "features_a", least)
    return a, checked_features(features_b, "features_b", least, dim=a.shape[1])


def frechet_distance(features_a, features_b):
    """The Frechet distance (FID on Inception features) of two feature sets.

    Args:
      features_a: numpy [N_a, D], N_a >= 2.
      features_b: numpy [N_b, D], N_b >= 2.

    Returns:
      A float >= 0 (0 for sets with equal means and covariances).

    Example:
      >>> frechet_distance(real_features, sample_features)
    """
    a, b = pair(features_a, features_b)
    return gaussian_frechet(a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False))


def gaussian_frechet(mean_a, cov_a, mean_b, cov_b):
    """||mu_a - mu_b||^2 + Tr(C_a) + Tr(C_b) - 2 Tr((C_a C_b)^(1/2)), the squared
    2-Wasserstein distance of N(mu_a, C_a) and N(mu_b, C_b).

    Tr((C_a C_b)^(1/2)) = sum_i sqrt(lambda_i) with lambda_i the eigenvalues of
    the symmetric C_a^(1/2) C_b C_a^(1/2), which has the same spectrum.
    """
    cov_a, cov_b = np.atleast_2d(cov_a), np.atleast_2d(cov_b)
    root_a = psd_sqrt(cov_a)
    middle = root_a @ cov_b @ root_a
    trace_root = np.sum(np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0, None)))
    distance = np.sum((np.asarray(mean_a) - np.asarray(mean_b)) ** 2) + np.trace(cov_a) + np.trace(cov_b)
    return float(max(distance - 2 * trace_root, 0.0))


def psd_sqrt(matrix):
    """The symmetric square root of a positive semi-definite matrix (negative
    eigenvalues from rounding set to 0)."""
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def kernel_distance(features_a, features_b, subsets=100, subset_size=1000, seed=0, return_stderr=False):
    """The kernel distance (KID): unbiased MMD^2 with a cubic polynomial kernel.

        k(u, v) = (u.v / D + 1)^3
        MMD^2_u = sum_{i != j} [k(a_i, a_j) + k(b_i, b_j)] / (m (m - 1)) - 2 sum_{i, j} k(a_i, b_j) / m^2

    averaged over `subsets` pairs of random subsets of m = min(subset_size,
    N_a, N_b) rows each, drawn without replacement. Its expectation is 0 when
    a and b come from the same distribution, so it can be negative.

    Args:
      features_a: numpy [N_a, D], N_a >= 2.
      features_b: numpy [N_b, D], N_b >= 2.
      subsets: number of subset pairs.
      subset_size: rows per subset at most.
      seed: seed of the subsets.
      return_stderr: also return the standard error of the mean over subsets
        (0 when m is both sets' size: every subset is then the whole set).

    Returns:
      A float; with `return_stderr`, (mean, stderr).
    """
    a, b = pair(features_a, features_b)
    subsets = checks.positive_int(subsets, "subsets")
    m = min(checks.integer(subset_size, "subset_size", 2, "an int >= 2"), len(a), len(b))
    rng = np.random.RandomState(checks.seed(seed, allow_none=False))
    values = np.array([unbiased_mmd2(a[rng.choice(len(a), m, replace=False)],
                                     b[rng.choice(len(b), m, replace=False)]) for _ in range(subsets)])
    mean = float(values.mean())
    if not return_stderr:
        return mean
    return mean, float(values.std(ddof=1) / np.sqrt(subsets)) if subsets > 1 else float("nan")


def unbiased_mmd2(a, b):
    """The unbiased MMD^2 of two sets of m rows under the cubic polynomial kernel."""
    m, dim = a.shape
    kernel = lambda u, v: (u @ v.T / dim + 1) ** 3  # noqa: E731
    kaa, kbb, kab = kernel(a, a), kernel(b, b), kernel(a, b)
    within = (kaa.sum() - np.trace(kaa) + kbb.sum() - np.trace(kbb)) / (m * (m - 1))
    return within - 2 * kab.mean()


def precision_recall(features_a, features_b, k=3, batch_size=1000):
    """Improved precision and recall (Kynkaanniemi et al., arXiv:1904.06991).

    Each set stands for its manifold: the union of balls around its points
    whose radius is the distance to the point's k-th nearest neighbour in
    its own set (the point itself not counted).

        precision = share of b's points inside a's manifold (are samples realistic?)
        recall    = share of a's points inside b's manifold (is the data covered?)

    Args:
      features_a: the reference (real) features [N_a, D].
      features_b: the generated features [N_b, D].
      k: the neighbour defining the radii; both sets need more than k rows.
      batch_size: rows whose distances are held at a time.

    Returns:
      {"precision": float, "recall": float}, each in [0, 1].
    """
    k = checks.positive_int(k, "k")
    a, b = pair(features_a, features_b, least=k + 1)
    batch_size = checks.positive_int(batch_size, "batch_size")
    radii_a, radii_b = kth_neighbour(a, k, batch_size), kth_neighbour(b, k, batch_size)
    return {"precision": float(np.mean(inside(b, a, radii_a, batch_size))),
            "recall": float(np.mean(inside(a, b, radii_b, batch_size)))}


def squared_distances(u, v):
    """||u_i - v_j||^2, [len(u), len(v)], at least 0."""
    return np.maximum((u * u).sum(1)[:, None] + (v * v).sum(1)[None, :] - 2 * u @ v.T, 0.0)


def kth_neighbour(points, k, batch_size):
    """Squared distance of each point to its k-th nearest other point, [N]."""
    radii = [np.partition(squared_distances(points[i:i + batch_size], points), k, axis=1)[:, k]
             for i in range(0, len(points), batch_size)]
    return np.concatenate(radii)


def inside(queries, centres, radii, batch_size):
    """Whether each query lies in some ball (centre_j, radius_j), [len(queries)].

    The radii are squared distances; a relative 1e-9 tolerance absorbs the
    rounding of the distances, so a point is inside its own ball.
    """
    limit = radii * (1 + 1e-9) + 1e-12
    return np.concatenate([np.any(squared_distances(queries[i:i + batch_size], centres) <= limit[None, :], axis=1)
                           for i in range(0, len(queries), batch_size)])


def summary(features_a, features_b, k=3, seed=0):
    """Every score of generated features `features_b` against real `features_a`: a dict
    with frechet_distance, kernel_distance (and _stderr), precision and recall."""
    kid, kid_stderr = kernel_distance(features_a, features_b, seed=seed, return_stderr=True)
    return {"frechet_distance": frechet_distance(features_a, features_b), "kernel_distance": kid,
            "kernel_distance_stderr": kid_stderr, **precision_recall(features_a, features_b, k=k)}
