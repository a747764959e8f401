"""Options of the project's own tests."""


def pytest_addoption(parser):
    parser.addoption("--fault-matrix", action="store_true", default=False,
                     help="Also run every check against every reference-server fault and print the "
                          "fault x check detection table (slow: one full suite run per fault).")
    parser.addoption("--proxy-suites", action="store_true", default=False,
                     help="Also run the whole conformance suite through the judging proxy, in front of the clean "
                          "reference server and one with faults (tests/test_proxy_suites.py; about two minutes).")
