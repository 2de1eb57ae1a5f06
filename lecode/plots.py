"""Plotting helpers shared by the chapters (style, class colours, simplex views).

Introduced in the preface; every chapter calls :func:`use_book_style` first.
"""

from __future__ import annotations

import numpy as np

__all__ = ["use_book_style", "class_colors"]

#: One colour per class, colour-blind safe (Okabe–Ito palette), cycled beyond 8 classes.
_PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")


def class_colors(n_classes: int) -> list[str]:
    """``n_classes`` colours, one per class, the same in every chapter."""
    from ._validate import check_int

    n_classes = check_int("n_classes", n_classes, minimum=1)
    return [_PALETTE[k % len(_PALETTE)] for k in range(n_classes)]


def use_book_style() -> None:
    """Matplotlib settings used by every figure of the book (small PNGs, readable fonts)."""
    import matplotlib as mpl

    mpl.rcParams.update({
        "figure.dpi": 80,
        "savefig.dpi": 80,
        "figure.figsize": (6.0, 3.6),
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "font.size": 10,
        "axes.prop_cycle": mpl.cycler(color=list(_PALETTE)),
        "image.cmap": "viridis",
    })
    np.set_printoptions(precision=4, suppress=True)
