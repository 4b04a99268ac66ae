"""The tutorial's minimal working example: y = sum(x * W) for W = [0.2, 0.7].

    python -m arignote.examples.minimal      # prints 0.9
"""
import numpy

import theano


def main() -> float:
    x = theano.tensor.fvector("x")
    W = theano.shared(numpy.asarray([0.2, 0.7]), "W")
    y = (x * W).sum()
    f = theano.function([x], y)
    output = f([1.0, 1.0])
    print(f"{float(output):.6g}")
    return float(output)


if __name__ == "__main__":
    main()
