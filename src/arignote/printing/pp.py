"""(being written)"""


def pp(var):
    return str(var)


pprint = pp
