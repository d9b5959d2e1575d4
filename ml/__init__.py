"""Machine learning for Hearus: speech recognition and lecture NLP.

Nothing in this package imports Django: plain functions and classes, tested on their own.
"""
