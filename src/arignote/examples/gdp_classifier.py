"""The tutorial's classifier: is a country's GDP per capita above average?

    python -m arignote.examples.gdp_classifier [TRAIN_FILE TEST_FILE] [--epochs N]

A network with 11 input features (population density, life expectancy,
internet users, ...), a hidden layer of 5 sigmoid units and a sigmoid output,
trained by stochastic gradient descent with L2 regularisation, written the
way the tutorial wrote it: through `import theano`. Without arguments it uses
the tutorial's data (121 training and 40 test countries), shipped with the
package.
"""
import argparse
import os

import numpy

import theano

floatX = theano.config.floatX
DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
DEFAULT_TRAIN = os.path.join(DATA_DIR, "countries-classify-gdp-normalised.train.txt")
DEFAULT_TEST = os.path.join(DATA_DIR, "countries-classify-gdp-normalised.test.txt")


class Classifier(object):
    def __init__(self, n_features, hidden_layer_size=5, l2_regularisation=0.001, random_seed=42):
        # random number generator
        self.rng = numpy.random.RandomState(random_seed)

        # setting up variables for the network
        input_vector = theano.tensor.fvector('input_vector')
        target_value = theano.tensor.fscalar('target_value')
        learningrate = theano.tensor.fscalar('learningrate')

        # input->hidden weights
        W_hidden = self.create_parameter_matrix('W_hidden', (n_features, hidden_layer_size))
        # calculating the hidden layer
        hidden = theano.tensor.dot(input_vector, W_hidden)
        hidden = theano.tensor.nnet.sigmoid(hidden)

        # hidden->output weights
        W_output = self.create_parameter_matrix('W_output', (hidden_layer_size, 1))
        # output layer
        predicted_value = theano.tensor.dot(hidden, W_output)
        predicted_value = theano.tensor.nnet.sigmoid(predicted_value)

        # calculating the cost function
        cost = theano.tensor.sqr(predicted_value - target_value).sum()
        cost += l2_regularisation * (theano.tensor.sqr(W_hidden).sum() + theano.tensor.sqr(W_output).sum())

        # calculating gradient descent updates based on the cost function
        params = [W_hidden, W_output]
        gradients = theano.tensor.grad(cost, params)
        updates = [(p, p - (learningrate * g)) for p, g in zip(params, gradients)]

        # defining Theano functions for training and testing the network
        self.train = theano.function([input_vector, target_value, learningrate], [cost, predicted_value],
                                     updates=updates, allow_input_downcast=True)
        self.test = theano.function([input_vector, target_value], [cost, predicted_value],
                                    allow_input_downcast=True)

    def create_parameter_matrix(self, name, size):
        """Create a shared variable tensor and initialize it with random values"""
        vals = numpy.asarray(self.rng.normal(loc=0.0, scale=0.1, size=size), dtype=floatX)
        return theano.shared(vals, name)


def read_dataset(path):
    """Read a dataset: each line holds the label (0 or 1), then the feature values."""
    dataset = []
    with open(path, "r") as f:
        for line in f:
            line_parts = line.strip().split()
            if line_parts:
                dataset.append((float(line_parts[0]), [float(x) for x in line_parts[1:]]))
    return dataset


def is_correct(label, predicted_value):
    return (label == 1.0 and predicted_value >= 0.5) or (label == 0.0 and predicted_value < 0.5)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path_train", nargs="?", default=DEFAULT_TRAIN)
    parser.add_argument("path_test", nargs="?", default=DEFAULT_TEST)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--learningrate", type=float, default=0.1)
    args = parser.parse_args(argv)

    # reading the datasets
    data_train = read_dataset(args.path_train)
    data_test = read_dataset(args.path_test)

    # creating the network
    n_features = len(data_train[0][1])
    classifier = Classifier(n_features)

    # training
    for epoch in range(args.epochs):
        cost_sum = 0.0
        correct = 0
        for label, vector in data_train:
            cost, predicted_value = classifier.train(vector, label, args.learningrate)
            cost_sum += float(cost)
            correct += is_correct(label, float(predicted_value[0]))
        print("Epoch: " + str(epoch) + ", Training_cost: " + f"{cost_sum:.4f}"
              + ", Training_accuracy: " + f"{correct / len(data_train):.4f}")

    # testing
    cost_sum = 0.0
    correct = 0
    for label, vector in data_test:
        cost, predicted_value = classifier.test(vector, label)
        cost_sum += float(cost)
        correct += is_correct(label, float(predicted_value[0]))
    accuracy = correct / len(data_test)
    print("Test_cost: " + f"{cost_sum:.4f}" + ", Test_accuracy: " + f"{accuracy:.4f}")
    return accuracy


if __name__ == "__main__":
    main()
