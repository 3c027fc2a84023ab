"""The cells of each notebook, one module per notebook (see ``notebooks/make_notebooks.py``)."""
