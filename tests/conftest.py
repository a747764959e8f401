"""Options of the project's own tests."""


def pytest_addoption(parser):
    parser.addoption("--fault-matrix", action="store_true", default=False,
                     help="Also run every check against every reference-server fault and print the "
                          "fault x check detection table (slow: one full suite run per fault).")
    parser.addoption("--implementations", action="store_true", default=False,
                     help="Also run the whole suite against each known third-party implementation "
                          "(tests/implementations: installs them from PyPI into their own virtual "
                          "environments, minutes each) and regenerate docs/implementations.md.")
    parser.addoption("--implementation", action="append", default=[], metavar="NAME",
                     help="With --implementations: only this one (repeatable), e.g. --implementation myla.")
    parser.addoption("--proxy-suites", action="store_true", default=False,
                     help="Also run the whole conformance suite through the judging proxy, in front of the clean "
                          "reference server and one with faults (tests/test_proxy_suites.py; about two minutes).")
