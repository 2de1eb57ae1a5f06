"""lecode: companion code for the book *Locally Elastic SDEs — an executable companion*.

The public API is small (see the book's API page):

- :class:`LEModel`, :func:`simulate` → :class:`Trajectory`, :func:`sgd_noise_sigma`
  and :func:`sweep` — the locally elastic model and its simulators (chapters 2–5);
- modules :mod:`lecode.exact` (closed forms, estimators), :mod:`lecode.metrics`
  (loss, separability, neural collapse), :mod:`lecode.data` (GeoMNIST, digits,
  CIFAR-10 from disk), :mod:`lecode.nets` (numpy MLP, NTK, impacts),
  :mod:`lecode.lazy` (lazy training), :mod:`lecode.sde` (Brownian paths, Itô sums,
  Euler–Maruyama for scalar SDEs), :mod:`lecode.experiments` (stored network
  experiments), :mod:`lecode.plots`, :mod:`lecode.widgets` (explorers) and
  :mod:`lecode.exercises` (answer checks).

Note that ``lecode.simulate`` and ``lecode.sweep`` are the functions; their
modules stay importable as ``from lecode.sweep import SweepResult``.
"""

__version__ = "0.1.0"

from . import data, exact, lazy, metrics, nets, plots, sde
from ._validate import NonFiniteError
from .model import LEModel
from .simulate import Trajectory, sgd_noise_sigma, simulate
from .sweep import sweep

__all__ = [
    "LEModel", "simulate", "Trajectory", "sgd_noise_sigma", "sweep", "NonFiniteError",
    "data", "exact", "lazy", "metrics", "nets", "plots", "sde",
]
