"""Package layout that pyproject.toml cannot express: the stored experiment results.

The results in ``chapters/data/*.npz`` are shipped inside the package as
``lecode/stored/*.npz`` (package data), so that a plain ``pip install .``
finds them (``lecode.experiments.data_dir()``). Everything else is in
pyproject.toml.
"""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["lecode", "lecode.*"]) + ["lecode.stored"],
    package_dir={"lecode.stored": "chapters/data"},
    package_data={"lecode.stored": ["*.npz"], "lecode._sphinx": ["static/*"]},
)
