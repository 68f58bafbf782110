"""gillab in a notebook: ``%load_ext gillab`` registers the magics (gillab.notebook.magics) and the HTML of
every result (gillab.notebook.display)."""
