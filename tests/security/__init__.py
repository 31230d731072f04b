"""Regression tests for issue 15 (security and privacy hardening): one module per finding area.
Each test failed on the main branch before the fix."""
