"""A VAE as a TF SavedModel with named signatures, for TF Serving and plain TF.

The SavedModel holds the model's weights and one `tf.function` per signature,
each mapping named tensors to a dict of named tensors, with a dynamic batch
dimension. It loads with `tf.saved_model.load` alone: neither tfpvae nor Keras
is needed to serve it. Every random draw takes its randomness from a scalar
int32 `seed` input through TFP's stateless samplers (the seed pair [0, seed]),
so the same inputs give the same outputs, here and in the exporting process.

Signatures (B: batch, n: num_samples, d: latent_dim, X: event_shape):

    serving_default, reconstruct  x [B, *X]             -> reconstruction [B, *X]
    encode          x [B, *X], seed                     -> mean, stddev, z [B, d]
    decode          z [B, d], seed                      -> mean, sample [B, *X]
    sample          num_samples, seed                   -> x, mean [n, *X]
    elbo            x [B, *X], seed                     -> elbo, reconstruction, kl [B]
    log_likelihood  x [B, *X], num_samples, seed        -> log_likelihood [B]

A conditional VAE (`context_dim` C > 0) takes its context as one more input,
`c` [B, C] float32 (class labels one-hot), in every signature that reads x or
z; its `sample` signature takes `c` [n, C] and `seed`, one sample per row of c.

For a stack of latent layers (`latent_dim=[d_1, ..., d_L]`), z is the levels
side by side, d = d_1 + ... + d_L; `encode` also returns each level's
parameters, `mean_l` and `stddev_l` [B, d_l] for l = 1..L, of q(z_1|x) and
of q(z_l|z_{l-1}) at the returned z; `mean` is `Chain.center`, what
`reconstruct` decodes.

`encode` has no `stddev` for a posterior whose stddev TFP does not compute in
closed form (a flow, `iaf`); its `mean` is then the flow of the base mean, the
point `reconstruct` decodes.
"""

import os

from tfpvae import backend, checks, evaluation, files
from tfpvae.backend import tensorflow as tf


def export(vae, path, version=None, overwrite=False):
    """Writes `vae` as a TF SavedModel with named signatures.

    The SavedModel is written into a new directory beside the target and
    renamed into place, so a failed export leaves nothing behind.

    Args:
      vae: a `tfpvae.VAE` (`tfpvae.export.export` checks it is one).
      path: the SavedModel directory; with `version`, its parent.
      version: None, or a non-negative int: write into `path/<version>/`, the
        layout TF Serving expects of a model's base path.
      overwrite: replace an existing, non-empty target directory.

    Returns:
      The directory written, an absolute path (str).

    Raises:
      ValueError: `version` is not None or a non-negative int.
      FileExistsError: the target exists and is not empty, and `overwrite`
        is False; or the target or one of its parents is a file.
      PermissionError: the directory that would hold the target is not
        writable.
    """
    if backend.is_jax:
        raise NotImplementedError(
            "a SavedModel is written on the TensorFlow backend: save the model (vae.save('model.keras')) and "
            "export it in a process with KERAS_BACKEND=tensorflow, or run `tfpvae export RUN_DIR EXPORT_DIR`, "
            "which does so for a run trained on JAX")
    target = target_dir(path, version)
    check_target(target, overwrite)
    write(target, lambda directory: save(vae, directory))
    return target


def save(vae, directory):
    """Traces the signatures and saves them, with the variables they read.

    Args:
      vae: a `tfpvae.VAE`.
      directory: an empty directory to write the SavedModel into.
    """
    signatures = traced_signatures(vae)
    module = holding(variables_read(signatures.values()))
    options = tf.saved_model.SaveOptions(experimental_custom_gradients=False)
    tf.saved_model.save(module, directory, signatures=signatures, options=options)


# --- the signatures --------------------------------------------------------------

def traced_signatures(vae):
    """Each signature traced once for its input specs, by name.

    Args:
      vae: a `tfpvae.VAE`.

    Returns:
      A dict of concrete functions; `serving_default` is `reconstruct`.
    """
    x = tf.TensorSpec([None, *vae.event_shape], tf.float32, name="x")
    z = tf.TensorSpec([None, vae.latent_size], tf.float32, name="z")
    num_samples = tf.TensorSpec([], tf.int32, name="num_samples")
    seed = tf.TensorSpec([], tf.int32, name="seed")
    c = [tf.TensorSpec([None, vae.context_dim], tf.float32, name="c")] if vae.context_dim else []
    inputs = {
        "reconstruct": [x, *c],
        "encode": [x, seed, *c],
        "decode": [z, seed, *c],
        "sample": [seed, *c] if c else [num_samples, seed],
        "elbo": [x, seed, *c],
        "log_likelihood": [x, num_samples, seed, *c],
    }
    functions = signature_functions(vae)
    traced = {name: tf.function(functions[name], autograph=False).get_concrete_function(*specs)
              for name, specs in inputs.items()}
    return {"serving_default": traced["reconstruct"], **traced}


def holding(variables):
    """A `tf.Module` that tracks `variables`, the root object to save.

    Holding the TF variables that the signatures read, not the Keras model,
    gives a SavedModel of plain variables and functions, which TF1-style
    loaders (`saved_model_cli run`, TF Serving) restore too.
    """
    module = tf.Module(name="tfpvae_vae")
    module.weights = variables
    return module


def variables_read(functions):
    """The variables that concrete functions read, each once, in order.

    Args:
      functions: concrete functions.

    Returns:
      A list of `tf.Variable`s.
    """
    read = {}
    for function in functions:
        for variable in function.variables:
            read.setdefault(id(variable), variable)
    return list(read.values())


def signature_functions(vae):
    """The Python functions behind the signatures, by name.

    Args:
      vae: a `tfpvae.VAE`.

    Returns:
      A dict of functions from tensors to dicts of named tensors.
    """

    def reconstruct(x, c=None):
        return {"reconstruction": evaluation.reconstruction(vae, x, c)}

    def encode(x, seed, c=None):
        q = vae.stack.posterior(x, c)
        z = q.sample(seed=seed_pair(seed))
        if len(vae.stack.latent_sizes) == 1:
            return {"mean": evaluation.center(q), **evaluation.stddev_of(q), "z": z}
        levels = {}
        for number, level in enumerate(q.levels(z), start=1):
            levels[f"mean_{number}"] = evaluation.center(level)
            levels.update({f"{name}_{number}": value for name, value in evaluation.stddev_of(level).items()})
        return {"mean": evaluation.center(q), "z": z, **levels}

    def decode(z, seed, c=None):
        px = vae.stack.likelihood(z, c)
        return {"mean": px.mean(), "sample": px.sample(seed=seed_pair(seed))}

    def sample(num_samples, seed, c=None):
        px, likelihood_seed = evaluation.generate(vae, positive(num_samples), seed_pair(seed), c)
        return {"x": px.sample(seed=likelihood_seed), "mean": px.mean()}

    def sample_given(seed, c):
        return sample(tf.shape(c)[0], seed, c)

    def elbo(x, seed, c=None):
        reconstruction, kl = evaluation.elbo_terms(vae, x, c, vae.num_samples, seed_pair(seed))
        return {"elbo": reconstruction - kl, "reconstruction": reconstruction, "kl": kl}

    def log_likelihood(x, num_samples, seed, c=None):
        return {"log_likelihood": evaluation.log_likelihood(vae, x, c, positive(num_samples), seed_pair(seed))}

    return {"reconstruct": reconstruct, "encode": encode, "decode": decode,
            "sample": sample_given if vae.context_dim else sample, "elbo": elbo,
            "log_likelihood": log_likelihood}


def seed_pair(seed):
    """The stateless seed [0, seed] (int32 pair) of a scalar int32 seed."""
    return tf.stack([0, seed])


def positive(num_samples):
    """`num_samples`, after checking in the graph that it is at least 1."""
    check = tf.debugging.assert_positive(
        num_samples, message="num_samples must be a positive int")
    with tf.control_dependencies([check]):
        return tf.identity(num_samples)


# --- checks before any work --------------------------------------------------------

def target_dir(path, version):
    """The absolute directory to write: `path`, or `path/<version>`.

    Raises:
      ValueError: `version` is not None or a non-negative int.
    """
    path = os.path.abspath(os.fspath(path))
    if version is None:
        return path
    version = checks.integer(version, "version", 0, "None or a non-negative int (TF Serving's version folder)")
    return os.path.join(path, str(version))


def check_target(target, overwrite):
    """Raises unless `target` can be written (see `export`)."""
    if os.path.isfile(target) or os.path.islink(target):
        raise FileExistsError(f"export target {target!r} exists and is a file or a link, "
                              f"not a directory")
    if os.path.isdir(target) and os.listdir(target) and not overwrite:
        raise FileExistsError(
            f"export target {target!r} exists and is not empty; "
            f"pass overwrite=True to replace it")
    existing = nearest_existing(os.path.dirname(target))
    if not os.path.isdir(existing):
        raise FileExistsError(
            f"cannot export to {target!r}: {existing!r} is a file, not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise PermissionError(f"cannot export to {target!r}: {existing!r} is not writable")


def nearest_existing(directory):
    """`directory`, or its nearest ancestor that exists."""
    while not os.path.exists(directory):
        directory = os.path.dirname(directory)
    return directory


# --- writing into place --------------------------------------------------------------

def write(target, save):
    """Runs `save(directory)` on a new directory beside `target`, then moves it there.

    On failure the new directory, and any parent directories made for it, are
    removed, and an existing target is left as it was (`files.atomic_path`).

    Args:
      target: the absolute directory to write.
      save: a function writing into the directory it is given.

    Raises:
      PermissionError: the new directory cannot be made.
    """
    made = False
    try:
        with files.atomic_path(target) as staging:
            os.mkdir(staging)
            made = True
            save(str(staging))
    except OSError as error:
        if made:
            raise
        raise PermissionError(f"cannot export to {target!r}: cannot write in {os.path.dirname(target)!r} "
                              f"({error.strerror})") from None
