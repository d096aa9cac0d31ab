"""Test data for ICP science: samples with a known answer."""
