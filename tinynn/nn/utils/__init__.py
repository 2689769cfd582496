"""``tinynn.nn.utils``: (being written: see issue #13)"""
