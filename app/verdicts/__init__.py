"""Verdicts: what scoring concluded about each account, and everything a change of it sets off."""
