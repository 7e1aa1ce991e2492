"""Studies that need no network: e.g. :mod:`.fsl_mu_sigma` (Sec. S.1, Fig. 7)."""
