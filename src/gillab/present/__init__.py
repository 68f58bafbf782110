"""The presentation kit: one View per result, and a renderer per medium (terminal, HTML page, notebook).

It knows no feature. A feature builds its result's :class:`~gillab.present.view.View` once; the terminal
(gillab.present.terminal), report.html and the notebook (gillab.present.page) only render it.
"""
