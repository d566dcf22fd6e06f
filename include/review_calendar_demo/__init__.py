"""Demonstration and test support: the demo province, synthetic data, the local SMTP server and the year runner.

Production code never imports this package.
"""
