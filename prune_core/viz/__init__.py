"""Pictures and words for people: plotly figures (the only place plotly is imported), the network picture,
number formatting, guidance sentences, and the downloadable reports.
"""
