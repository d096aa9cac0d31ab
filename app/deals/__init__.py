"""Deals: the outcomes of an account, won and lost as the CRM's stage metadata says (DESIGN §8)."""
