"""Contacts: the people of an account (DESIGN §8), and what their titles say."""
