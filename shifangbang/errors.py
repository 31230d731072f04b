"""The one base class of domain errors.

A domain function that refuses raises a subclass of DomainError whose message is plain Chinese,
fit to show as it is. A view that owns a form catches DomainError and re-renders the form with
the message and what was typed; anything that escapes a view becomes a 400 page (or the API's
JSON error) in public_site/errors.py, never a 500.
"""


class DomainError(ValueError):
    """A rule said no; str(error) is the Chinese message for the user."""
