"""Models trained by each objective of the catalogue export, and plain TensorFlow serves them."""

import json
import subprocess
import sys

import keras
import numpy as np

import tfpvae

SMALL = {"name": "mlp", "units": [16]}
CATALOGUE = ("capacity", "beta_tc", "mmd", "miwae", "ciwae", "piwae", "factor_vae", "dip_vae")
CHILD = r"""
import json, sys
import numpy as np
import tensorflow as tf

x = np.load(sys.argv[1])
out = {}
for path in json.loads(sys.argv[2]):
    served = tf.saved_model.load(path).signatures["serving_default"](x=tf.constant(x))
    out[path] = np.asarray(served["reconstruction"]).tolist()
out["tfpvae loaded"] = "tfpvae" in sys.modules
json.dump(out, open(sys.argv[3], "w"))
"""


def test_each_objective_trains_exports_and_is_served(digits, tmp_path):
    """One epoch of each, exported; a fresh process without tfpvae loads each
    SavedModel and reconstructs x as the live model does (rtol 1e-5)."""
    x = digits[:4]
    expected, paths = {}, []
    for name in CATALOGUE:
        vae = tfpvae.VAE(event_shape=(8, 8, 1), latent_dim=2, encoder=SMALL, decoder=SMALL, objective=name,
                         num_samples=2, seed=0)
        vae.compile(optimizer=keras.optimizers.Adam(3e-3))
        vae.fit(digits[:64], epochs=1, batch_size=64, verbose=0)
        path = str(tmp_path / name)
        vae.export(path)
        expected[path] = vae(x)
        paths.append(path)
    np.save(tmp_path / "x.npy", x)
    subprocess.run([sys.executable, "-c", CHILD, str(tmp_path / "x.npy"), json.dumps(paths),
                    str(tmp_path / "out.json")], check=True, timeout=600)
    served = json.loads((tmp_path / "out.json").read_text())
    assert served.pop("tfpvae loaded") is False
    for path in paths:
        np.testing.assert_allclose(served[path], expected[path], rtol=1e-5, atol=1e-6)
