"""Test support shared by every suite: :mod:`tests.support.builders` arranges rows of the review database."""
