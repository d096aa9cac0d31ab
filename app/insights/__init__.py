"""Insights on ICP versions against outcomes (DESIGN §9): backtest, and next discovery,
preview and health."""
