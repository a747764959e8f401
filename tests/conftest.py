"""Options of the project's own tests."""


def pytest_addoption(parser):
    parser.addoption("--fault-matrix", action="store_true", default=False,
                     help="Also run every check against every reference-server fault and print the "
                          "fault x check detection table (slow: one full suite run per fault).")
