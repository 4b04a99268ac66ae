"""(being written)"""


def debugprint(obj, file=None, **kwargs):
    raise NotImplementedError
