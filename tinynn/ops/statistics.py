"""(being written: see issue #8)"""
__all__ = []
