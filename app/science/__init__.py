"""ICP science (DESIGN §9): the statistics of discovery, backtest and drift. Pure: plain data
in, plain data out, numbers from numpy, scipy and scikit-learn."""
