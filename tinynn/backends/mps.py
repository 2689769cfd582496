"""Apple's Metal backend: not part of tinynn, so code that checks for it falls back."""


def is_available():
    return False


def is_built():
    return False
