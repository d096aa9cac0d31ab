"""ICP health (DESIGN §9, keep fresh): age, drift against a baseline, fill rates and tier
inversions; the daily check and the alerts it announces."""
