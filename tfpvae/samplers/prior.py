"""The model's own prior p(z) as a sampler: what `VAE.sample` draws by default."""

from tfpvae.samplers.base import Sampler


class Prior(Sampler):
    """z ~ p(z), the VAE's prior (its trained weights where it has any).

    It holds the model rather than a copy of the prior: loading a saved one
    needs the model, `tfpvae.samplers.load(path, vae=vae)`.
    """

    kind = "prior"
    needs_codes = False

    def __init__(self, latent_dim):
        super().__init__(latent_dim)
        self.vae = None

    def fit(self, codes, vae=None):
        return self.restore({}, vae)

    def distribution(self):
        return self.vae.prior()

    def draw(self, n, seed):
        return self.vae.stack.prior_draw(n, seed)

    def weights(self):
        return {}

    def restore(self, weights, vae=None):
        if vae is None:
            raise ValueError("a 'prior' sampler draws from the model's own p(z): pass the model, "
                             "load(path, vae=vae); received vae=None")
        self.check_model(vae)
        self.vae, self.fitted = vae, True
        return self
