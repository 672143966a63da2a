"""Disentanglement metrics: how a code z relates to known factors of variation.

The code-based metrics take codes [N, d] and integer factors [N, F] of the
same N points; the intervention-based ones draw their own points from a
`tfpvae.data.FactorSource` (e.g. `ShapesSource`), fixing chosen factors.

The protocol is Locatello et al.'s ("Challenging Common Assumptions in the
Unsupervised Learning of Disentangled Representations", arXiv:1811.12359),
as disentanglement_lib runs it: the code of an image is the mean of q(z|x);
points are drawn uniformly from the factors' grid; and

    beta_vae_score    Higgins et al. 2017: 10,000 training and 5,000
                      evaluation points, each the mean |z(x1) - z(x2)| over a
                      batch of 64 pairs sharing one factor; a logistic
                      regression predicts the shared factor; the score is its
                      evaluation accuracy.
    factor_vae_score  Kim & Mnih 2018 (arXiv:1802.05983): codes divided by
                      their standard deviation over 10,000 points, dimensions
                      with a standard deviation under 0.05 left out; per point,
                      a batch of 64 sharing one factor votes for the dimension
                      of least variance; a majority-vote classifier from 10,000
                      training points, scored on 5,000 evaluation points.
    mig               Chen et al. 2018 (arXiv:1802.04942): each code dimension
                      discretized into a 20-bin histogram; per factor, the gap
                      between the two largest mutual informations with a
                      dimension, divided by the factor's entropy; averaged.
    sap               Kumar et al. 2018 (arXiv:1711.00848): per factor and code
                      dimension, the test accuracy of a linear SVM (C = 0.01,
                      balanced class weights) predicting the factor from that
                      dimension alone; per factor, the gap between the two best
                      dimensions; averaged.
    dci               Eastwood & Williams 2018: per factor, a gradient-boosted
                      tree classifier (scikit-learn's defaults) from all code
                      dimensions; the importances R [d, F] give disentanglement
                      (per dimension 1 - entropy of its row over the factors,
                      base F, weighted by the row's share of R), completeness
                      (per factor 1 - entropy of its column over the
                      dimensions, base d, weighted alike) and informativeness
                      (the classifiers' mean test accuracy).

sap and dci train on two thirds of the points they are given and test on the
rest (Locatello et al.: 10,000 and 5,000), after a seeded shuffle. `evaluate`
runs all five on a VAE and a source.

Example:
  >>> source = tfpvae.data.ShapesSource()
  >>> tfpvae.disentanglement.factor_vae_score(vae, source)
  >>> factors = source.sample_factors(15000, np.random.default_rng(0))
  >>> codes = tfpvae.disentanglement.representation(vae)(source.images(factors))
  >>> tfpvae.disentanglement.dci(codes, factors)["disentanglement"]
"""

import numpy as np

from tfpvae import checks, evaluation
from tfpvae.backend import tf
from tfpvae.model import VAE

# scikit-learn's estimators are imported where they are used, so that `import tfpvae` stays quick.

NUM_BINS = 20
BATCH_SIZE = 64
PRUNE_STDDEV = 0.05
TEST_FRACTION = 1 / 3


# --- inputs ---------------------------------------------------------------------------------


def representation(vae, batch_size=256):
    """The function from images [n, ...] to codes [n, d] that the metrics score.

    Args:
      vae: a `tfpvae.VAE`, whose code of x is the mean of q(z|x)
        (`evaluation.center`), or any function from images to codes.
      batch_size: images encoded at a time.

    Returns:
      A function from a numpy array of images to float64 codes [n, d].
    """
    if not isinstance(vae, VAE):
        if not callable(vae):
            raise TypeError(f"vae must be a tfpvae.VAE or a function from images to codes; "
                            f"received {type(vae).__name__}")
        return lambda x: np.asarray(vae(x), np.float64)
    if vae.context_dim:
        raise ValueError(f"the disentanglement metrics read the code of x alone; this VAE is conditional "
                         f"(context_dim={vae.context_dim})")
    batch_size = checks.positive_int(batch_size, "batch_size")
    step = tf.function(lambda xb: evaluation.center(vae.stack.posterior(xb)), reduce_retracing=True)
    return lambda x: np.concatenate([step(tf.constant(x[i:i + batch_size], tf.float32)).numpy()
                                     for i in range(0, len(x), batch_size)]).astype(np.float64)


def checked(codes, factors):
    """(codes float64 [N, d], factors int64 [N, F]), checked to describe the same N points."""
    codes, factors = np.asarray(codes), np.asarray(factors)
    if codes.ndim != 2 or factors.ndim != 2:
        raise ValueError(f"codes and factors must have shapes [N, d] and [N, F]; received {codes.shape} "
                         f"and {factors.shape}")
    if len(codes) != len(factors):
        raise ValueError(f"codes and factors must describe the same points; received {len(codes)} codes "
                         f"and {len(factors)} factor rows")
    if len(codes) < 3:
        raise ValueError(f"codes and factors need at least 3 points; received {len(codes)}")
    if not np.all(np.isfinite(codes)):
        raise ValueError("codes must be finite; received NaN or infinite values")
    if not np.issubdtype(factors.dtype, np.integer):
        raise ValueError(f"factors must be integers (each factor's value index); received dtype {factors.dtype}")
    return codes.astype(np.float64), factors.astype(np.int64)


def varying(factors, what):
    """Raises ValueError when a factor takes a single value (it has nothing to predict)."""
    for j in range(factors.shape[1]):
        if len(np.unique(factors[:, j])) < 2:
            raise ValueError(f"{what}: factor {j} takes a single value in these points; every factor "
                             f"must vary")


def split(codes, factors, test_fraction, seed):
    """(train codes, train factors, test codes, test factors) after a seeded shuffle."""
    test_fraction = checks.real(test_fraction, "test_fraction", strict=True)
    if not test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1); received {test_fraction!r}")
    order = np.random.default_rng(seed).permutation(len(codes))
    cut = len(codes) - max(1, round(test_fraction * len(codes)))
    train, test = order[:cut], order[cut:]
    return codes[train], factors[train], codes[test], factors[test]


# --- code-based metrics -------------------------------------------------------------------------


def discretized(codes, num_bins=NUM_BINS):
    """Each column of codes [N, d] as the index of its bin among `num_bins`
    equal-width bins between its minimum and maximum, int [N, d]."""
    low, high = codes.min(axis=0), codes.max(axis=0)
    width = np.where(high > low, high - low, 1.0) / num_bins
    return np.clip(np.floor((codes - low) / width), 0, num_bins - 1).astype(np.int64)


def mutual_information(codes, factors, num_bins=NUM_BINS):
    """I(z_i; v_j) in nats between each discretized code dimension and each factor, [d, F]."""
    from sklearn.metrics import mutual_info_score

    bins = discretized(codes, num_bins)
    return np.array([[mutual_info_score(factors[:, j], bins[:, i]) for j in range(factors.shape[1])]
                     for i in range(codes.shape[1])])


def mig(codes, factors, num_bins=NUM_BINS):
    """The mutual information gap (Chen et al., arXiv:1802.04942).

        MIG = 1/F sum_j (I(z_a; v_j) - I(z_b; v_j)) / H(v_j)

    with z_a and z_b the code dimensions of largest and second largest mutual
    information with factor v_j, each dimension discretized into `num_bins`
    equal-width bins (Locatello et al.: 20).

    Args:
      codes: float [N, d], d >= 2.
      factors: int [N, F], each factor varying.
      num_bins: bins per code dimension.

    Returns:
      A float in [0, 1]: 1 when each factor is captured by one dimension alone.
    """
    from sklearn.metrics import mutual_info_score

    codes, factors = checked(codes, factors)
    num_bins = checks.positive_int(num_bins, "num_bins")
    if codes.shape[1] < 2:
        raise ValueError(f"mig needs codes of at least 2 dimensions; received {codes.shape[1]}")
    varying(factors, "mig")
    information = np.sort(mutual_information(codes, factors, num_bins), axis=0)
    entropy = np.array([mutual_info_score(v, v) for v in factors.T])
    return float(np.mean((information[-1] - information[-2]) / entropy))


def sap(codes, factors, test_fraction=TEST_FRACTION, seed=0):
    """The separated attribute predictability (Kumar et al., arXiv:1711.00848).

    S_ij is the test accuracy of a linear SVM (scikit-learn's LinearSVC,
    C = 0.01, balanced class weights) that predicts factor j from code
    dimension i alone; SAP = 1/F sum_j (S_aj - S_bj) over the best and second
    best dimensions a, b of each factor.

    Args:
      codes: float [N, d], d >= 2.
      factors: int [N, F].
      test_fraction: share of the points held out for the accuracies.
      seed: seed of the train/test shuffle.

    Returns:
      A float in [0, 1].
    """
    codes, factors = checked(codes, factors)
    if codes.shape[1] < 2:
        raise ValueError(f"sap needs codes of at least 2 dimensions; received {codes.shape[1]}")
    train_codes, train_factors, test_codes, test_factors = split(codes, factors, test_fraction, seed)
    varying(train_factors, "sap")
    scores = np.array([[single_code_accuracy(train_codes[:, i], train_factors[:, j], test_codes[:, i],
                                             test_factors[:, j]) for j in range(factors.shape[1])]
                       for i in range(codes.shape[1])])
    ranked = np.sort(scores, axis=0)
    return float(np.mean(ranked[-1] - ranked[-2]))


def single_code_accuracy(train_code, train_factor, test_code, test_factor):
    """Test accuracy of a linear SVM predicting one factor from one code dimension."""
    from sklearn.svm import LinearSVC

    classifier = LinearSVC(C=0.01, class_weight="balanced")
    classifier.fit(train_code[:, None], train_factor)
    return float(np.mean(classifier.predict(test_code[:, None]) == test_factor))


def dci(codes, factors, test_fraction=TEST_FRACTION, seed=0):
    """Disentanglement, completeness and informativeness (Eastwood & Williams, ICLR 2018).

    For each factor j a gradient-boosted tree classifier (scikit-learn's
    GradientBoostingClassifier, its defaults) predicts v_j from all of z; its
    feature importances make column j of R [d, F]. With P_i. = R_i. / sum_j R_ij
    and P_.j = R_.j / sum_i R_ij,

        disentanglement = sum_i rho_i (1 - H_F(P_i.)),   rho_i = sum_j R_ij / sum R
        completeness    = sum_j rho_j (1 - H_d(P_.j)),   rho_j = sum_i R_ij / sum R
        informativeness = the classifiers' mean accuracy on the test points

    with H_K the entropy in base K.

    Args:
      codes: float [N, d], d >= 2.
      factors: int [N, F], F >= 2.
      test_fraction: share of the points held out for informativeness.
      seed: seed of the train/test shuffle and of the trees.

    Returns:
      A dict of floats in [0, 1]: "disentanglement", "completeness",
      "informativeness".
    """
    codes, factors = checked(codes, factors)
    if codes.shape[1] < 2 or factors.shape[1] < 2:
        raise ValueError(f"dci needs at least 2 code dimensions and 2 factors; received codes of "
                         f"{codes.shape[1]} dimensions and {factors.shape[1]} factors")
    from sklearn.ensemble import GradientBoostingClassifier

    train_codes, train_factors, test_codes, test_factors = split(codes, factors, test_fraction, seed)
    varying(train_factors, "dci")
    importance, accuracy = [], []
    for j in range(factors.shape[1]):
        model = GradientBoostingClassifier(random_state=seed).fit(train_codes, train_factors[:, j])
        importance.append(np.abs(model.feature_importances_))
        accuracy.append(np.mean(model.predict(test_codes) == test_factors[:, j]))
    importance = np.stack(importance, axis=1)
    return {"disentanglement": weighted_purity(importance), "completeness": weighted_purity(importance.T),
            "informativeness": float(np.mean(accuracy))}


def weighted_purity(importance):
    """sum_i rho_i (1 - H_K(P_i.)) over the rows i of a non-negative [n, K] matrix."""
    total = importance.sum()
    if total == 0:
        return 0.0
    rows = importance.sum(axis=1)
    shares = importance / np.where(rows > 0, rows, 1.0)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -np.sum(np.where(shares > 0, shares * np.log(shares), 0.0), axis=1) / np.log(importance.shape[1])
    return float(np.sum(rows / total * (1.0 - entropy)))


# --- intervention-based metrics ---------------------------------------------------------------------


def beta_vae_score(vae, source, num_train=10000, num_eval=5000, batch_size=BATCH_SIZE, seed=0):
    """The BetaVAE score (Higgins et al., ICLR 2017), Locatello et al.'s protocol.

    A point: draw a factor k uniformly, then `batch_size` pairs of factor
    vectors that agree on v_k (all else drawn independently); the point's
    feature is mean_b |z(x_b1) - z(x_b2)| [d] and its label k. A logistic
    regression (scikit-learn's LogisticRegression, lbfgs, up to 1,000
    iterations) is fitted on `num_train` points.

    Args:
      vae: a `tfpvae.VAE` or a function from images to codes (`representation`).
      source: a `tfpvae.data.FactorSource`.
      num_train: training points (Locatello et al.: 10,000).
      num_eval: evaluation points (Locatello et al.: 5,000).
      batch_size: pairs per point (64).
      seed: seed of every draw.

    Returns:
      The classifier's accuracy on `num_eval` new points, a float in [0, 1].
    """
    from sklearn.linear_model import LogisticRegression

    encode, rng = representation(vae), np.random.default_rng(checks.seed(seed, allow_none=False))
    num_train, num_eval = checks.positive_int(num_train, "num_train"), checks.positive_int(num_eval, "num_eval")
    batch_size = checks.positive_int(batch_size, "batch_size")
    train_x, train_y = pair_features(encode, source, num_train, batch_size, rng)
    eval_x, eval_y = pair_features(encode, source, num_eval, batch_size, rng)
    classifier = LogisticRegression(max_iter=1000).fit(train_x, train_y)
    return float(np.mean(classifier.predict(eval_x) == eval_y))


def pair_features(encode, source, count, batch_size, rng, points_per_call=16):
    """`count` BetaVAE points: features [count, d] and the fixed factors [count]."""
    features, labels = [], rng.integers(len(source.factor_sizes), size=count)
    for start in range(0, count, points_per_call):
        chosen = labels[start:start + points_per_call]
        first = source.sample_factors(len(chosen) * batch_size, rng)
        second = source.sample_factors(len(chosen) * batch_size, rng)
        rows = np.arange(len(first))
        fixed = np.repeat(chosen, batch_size)
        second[rows, fixed] = first[rows, fixed]
        codes = encode(source.images(np.concatenate([first, second])))
        difference = np.abs(codes[:len(first)] - codes[len(first):])
        features.append(difference.reshape(len(chosen), batch_size, -1).mean(axis=1))
    return np.concatenate(features), labels


def factor_vae_score(vae, source, num_train=10000, num_eval=5000, batch_size=BATCH_SIZE, num_variance=10000,
                     seed=0):
    """The FactorVAE score (Kim & Mnih, arXiv:1802.05983), Locatello et al.'s protocol.

    Each code dimension is divided by its standard deviation over
    `num_variance` points; dimensions whose standard deviation is below 0.05
    (collapsed) are left out. A point: draw a factor k, then `batch_size`
    factor vectors that share v_k; the dimension of least variance over their
    normalized codes votes for k. Each dimension is assigned the factor it got
    most votes for in `num_train` points.

    Args:
      vae: a `tfpvae.VAE` or a function from images to codes (`representation`).
      source: a `tfpvae.data.FactorSource`.
      num_train: training points (10,000).
      num_eval: evaluation points (5,000).
      batch_size: codes per point (64).
      num_variance: points of the global variance estimate (10,000).
      seed: seed of every draw.

    Returns:
      The share of `num_eval` new points whose vote the assignment predicts, a
      float in [0, 1]; 0 when every dimension is collapsed.
    """
    encode, rng = representation(vae), np.random.default_rng(checks.seed(seed, allow_none=False))
    num_train, num_eval = checks.positive_int(num_train, "num_train"), checks.positive_int(num_eval, "num_eval")
    batch_size = checks.integer(batch_size, "batch_size", 2, "an int >= 2")
    num_variance = checks.integer(num_variance, "num_variance", 2, "an int >= 2")
    scale = encode(source.images(source.sample_factors(num_variance, rng))).std(axis=0, ddof=1)
    active = scale >= PRUNE_STDDEV
    if not active.any():
        return 0.0
    train = votes(encode, source, num_train, batch_size, rng, scale, active)
    evaluation_votes = votes(encode, source, num_eval, batch_size, rng, scale, active)
    assignment = np.argmax(train, axis=0)
    return float(evaluation_votes[assignment, np.arange(len(assignment))].sum() / num_eval)


def votes(encode, source, count, batch_size, rng, scale, active, points_per_call=32):
    """Votes [F, active dimensions]: how often factor k fixed made each dimension the least variable."""
    tally = np.zeros((len(source.factor_sizes), int(active.sum())), np.int64)
    labels = rng.integers(len(source.factor_sizes), size=count)
    for start in range(0, count, points_per_call):
        chosen = labels[start:start + points_per_call]
        factors = source.sample_factors(len(chosen) * batch_size, rng).reshape(len(chosen), batch_size, -1)
        rows = np.arange(len(chosen))
        factors[rows[:, None], np.arange(batch_size), chosen[:, None]] = factors[rows, 0, chosen][:, None]
        codes = encode(source.images(factors.reshape(-1, factors.shape[-1])))
        normalized = (codes[:, active] / scale[active]).reshape(len(chosen), batch_size, -1)
        np.add.at(tally, (chosen, np.argmin(normalized.var(axis=1, ddof=1), axis=1)), 1)
    return tally


# --- all of them ------------------------------------------------------------------------------------


def evaluate(vae, source, points=10000, seed=0):
    """Every metric of this module for one model, Locatello et al.'s protocol at `points`.

    mig, sap and dci score the codes of 1.5 x `points` images drawn
    uniformly (mig all of them, sap and dci training on two thirds); the
    intervention-based scores use `points` training and `points` / 2
    evaluation points, and the FactorVAE score `points` for its variances.
    `points` = 10,000 is the protocol; fewer make a quicker, noisier estimate.

    Args:
      vae: a `tfpvae.VAE` or a function from images to codes.
      source: a `tfpvae.data.FactorSource`.
      points: see above (at least 10).
      seed: seed of every draw.

    Returns:
      A dict of floats: beta_vae_score, factor_vae_score, mig, sap,
      dci_disentanglement, dci_completeness, dci_informativeness.
    """
    points = checks.integer(points, "points", 10, "an int >= 10")
    encode = representation(vae)
    factors = source.sample_factors(points + points // 2, np.random.default_rng(seed))
    codes = encode(source.images(factors))
    scores = {"beta_vae_score": beta_vae_score(encode, source, points, points // 2, seed=seed),
              "factor_vae_score": factor_vae_score(encode, source, points, points // 2, num_variance=points,
                                                   seed=seed),
              "mig": mig(codes, factors), "sap": sap(codes, factors, seed=seed)}
    scores.update({f"dci_{key}": value for key, value in dci(codes, factors, seed=seed).items()})
    return scores


__all__ = ["beta_vae_score", "dci", "evaluate", "factor_vae_score", "mig", "representation", "sap"]
