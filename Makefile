# Two commands set everything up from a fresh clone:
#   make book   -> virtual environment, install, build the website into _build/html
#   make test   -> the same environment, build, unit tests, notebook tests (nbval)
# Other targets: make lab (JupyterLab on chapters/), make bench, make clean,
#   make student -> _build/student/{notebooks,html,pdf}: the edition without solutions
#                   (tools/build_student.py; the website is built without executing anything).

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: book test unit nbval lab bench notebooks student clean

# The book's matrices are small: one BLAS thread per process is faster than
# several fighting over two cores (and makes timings steadier).
export OPENBLAS_NUM_THREADS ?= 1
export OMP_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

book: $(STAMP)
	$(VENV)/bin/jupyter-book build . -W -n --keep-going
	@echo "The website is in _build/html/index.html"

unit: $(STAMP)
	MPLBACKEND=Agg $(PY) -m pytest tests

nbval: $(STAMP)
	$(PY) -m pytest --nbval --nbval-current-env --nbval-cell-timeout=600 \
		--nbval-sanitize-with tests/nbval_sanitize.cfg chapters problem_sets code_comparison.ipynb

# The site tests in tests/ read the built book and the student edition, so both are built first.
test: book student
	LECODE_REQUIRE_SITE=1 MPLBACKEND=Agg $(PY) -m pytest tests
	$(PY) -m pytest --nbval --nbval-current-env --nbval-cell-timeout=600 \
		--nbval-sanitize-with tests/nbval_sanitize.cfg chapters problem_sets code_comparison.ipynb

student: $(STAMP)
	$(PY) tools/build_student.py
	@echo "Student notebooks, site and problem-set PDFs are in _build/student/"

# (jupyterlab-myst, installed with the book's extras, renders the chapters' MyST markup;
# root needs --allow-root)
lab: $(STAMP)
	$(VENV)/bin/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) chapters

bench: $(STAMP)
	for script in benchmarks/bench_*.py; do echo "== $$script"; MPLBACKEND=Agg $(PY) $$script || exit 1; done

notebooks: $(STAMP)
	$(PY) tools/run_notebooks.py --all

clean:
	rm -rf _build
