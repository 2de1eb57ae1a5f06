"""lecode: companion code for the book *Locally Elastic SDEs — an executable companion*."""

__version__ = "0.1.0"
from . import metrics  # noqa: E402,F401
