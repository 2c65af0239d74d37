"""Pictures and words for people (the only place plotly is imported): the house style (``style``), axis helpers
(``axes``), figures (``figures``, ``example_figures``), the network picture (``network_layout`` its geometry,
``network`` the figure), number formatting (``fmt``), guidance sentences (``guidance``; its numbers are
``measure.guidance``'s), and the downloadable reports.
"""
