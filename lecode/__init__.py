"""lecode: companion code for the book *Locally Elastic SDEs — an executable companion*."""

__version__ = "0.1.0"
from . import metrics  # noqa: E402,F401
from ._validate import NonFiniteError
from .model import LEModel
from .simulate import Trajectory, sgd_noise_sigma, simulate
from . import exact
from .sweep import sweep  # noqa: E402,F401
from . import data, nets  # noqa: E402,F401
