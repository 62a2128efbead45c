"""Inception V1 and V2, block by block: the package behind the book.

One module per idea (see the book's README for the map): ``layers``, ``cost``, ``summary``,
``diagrams``, ``exercises``, and one module per network.
"""

__version__ = "0.1.0"
