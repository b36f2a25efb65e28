"""nemwatch: a terminal monitor and alerter for the NEM (NIS1, XEM) blockchain."""

__version__ = "0.1.0"
