"""Shared fixtures. Topic fixtures live in tests/fixtures/*.py, registered below."""

pytest_plugins = [
    "tests.fixtures.workbooks",
    "tests.fixtures.google",
    "tests.fixtures.mail",
    "tests.fixtures.tracker",
    "tests.fixtures.browser",
]
