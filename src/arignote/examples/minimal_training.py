"""The tutorial's minimal training example: gradient descent on W until x·W nears 20.

    python -m arignote.examples.minimal_training

Prints the model's output before each of 10 updates:
0.9, 8.54, 13.124, 15.8744, 17.5246, 18.5148, 19.1089, 19.4653, 19.6792, 19.8075
"""
import numpy

import theano


def main(steps: int = 10) -> list[float]:
    x = theano.tensor.fvector("x")
    target = theano.tensor.fscalar("target")

    W = theano.shared(numpy.asarray([0.2, 0.7]), "W")
    y = (x * W).sum()

    cost = theano.tensor.sqr(target - y)
    gradients = theano.tensor.grad(cost, [W])
    W_updated = W - (0.1 * gradients[0])
    updates = [(W, W_updated)]

    f = theano.function([x, target], y, updates=updates)

    outputs = []
    for _ in range(steps):
        output = f([1.0, 1.0], 20.0)
        outputs.append(float(output))
        print(f"{float(output):.6g}")
    return outputs


if __name__ == "__main__":
    main()
