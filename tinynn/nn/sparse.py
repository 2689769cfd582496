"""(being written: see issue #13)"""
__all__ = []
