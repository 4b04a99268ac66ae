"""The tutorial's GRU sentence classifier: 5 sentiment classes, embeddings, scan, SGD.

    python -m arignote.examples.gru_sentiment [--train FILE --test FILE] [--epochs N]

The model is the tutorial's: word embeddings, a gated recurrent unit run over
the sentence with `theano.scan`, a softmax over 5 classes from the last hidden
state, and stochastic gradient descent on every parameter.

The Stanford Sentiment Treebank cannot be downloaded here, so by default the
program trains on a generated corpus whose labels follow a rule a GRU can
learn but a bag of words cannot: each sentiment word scores -2..+2, "not"
flips the sign of the next sentiment word, and the class is the clipped total
(0 = very negative ... 4 = very positive). With the real data, pass files in
the tutorial's format: one sentence per line, `label<TAB>sentence`, label 0-4.
"""
import argparse
import collections

import numpy

import theano

floatX = theano.config.floatX

SENTIMENT = {"awful": -2, "terrible": -2, "bad": -1, "dull": -1, "good": 1, "nice": 1, "great": 2,
             "superb": 2}
FILLER = ["the", "film", "was", "a", "plot", "actors", "and", "really", "quite", "story", "it", "this"]


def generate_corpus(n_sentences, seed):
    """Sentences (label, words) labelled by the negation rule described above."""
    rng = numpy.random.RandomState(seed)
    words = list(SENTIMENT)
    data = []
    for _ in range(n_sentences):
        tokens, score = [], 0
        for _ in range(rng.randint(1, 3)):  # one or two sentiment phrases
            tokens.extend(rng.choice(FILLER, rng.randint(0, 3)).tolist())
            word = words[rng.randint(len(words))]
            negated = rng.rand() < 0.35
            if negated:
                tokens.append("not")
            tokens.append(word)
            score += -SENTIMENT[word] if negated else SENTIMENT[word]
        tokens.extend(rng.choice(FILLER, rng.randint(0, 3)).tolist())
        data.append((int(numpy.clip(score, -2, 2)) + 2, tokens))
    return data


def read_dataset(path):
    """The tutorial's format: `label<TAB>sentence` per line."""
    dataset = []
    with open(path, "r") as f:
        for line in f:
            parts = line.strip().split("\t")
            if len(parts) == 2:
                dataset.append((int(parts[0]), parts[1].lower().split()))
    return dataset


class RnnClassifier(object):
    def __init__(self, n_words, n_classes, word_embedding_size=32, recurrent_size=32,
                 l2_regularisation=0.0001, random_seed=42):
        # random number generator
        self.rng = numpy.random.RandomState(random_seed)

        # this is where we keep shared weights that are optimised during training
        self.params = collections.OrderedDict()

        # setting up variables for the network
        input_indices = theano.tensor.ivector('input_indices')
        target_class = theano.tensor.iscalar('target_class')
        learningrate = theano.tensor.fscalar('learningrate')

        # creating the matrix of word embeddings
        word_embeddings = self.create_parameter_matrix('word_embeddings', (n_words, word_embedding_size))

        # extract the relevant word embeddings, given the input word indices
        input_vectors = word_embeddings[input_indices]

        # gated recurrent unit
        def gru_step(x, h_prev, W_xr, W_hr, W_xz, W_hz, W_xh, W_hh):
            r = theano.tensor.nnet.sigmoid(theano.tensor.dot(x, W_xr) + theano.tensor.dot(h_prev, W_hr))
            z = theano.tensor.nnet.sigmoid(theano.tensor.dot(x, W_xz) + theano.tensor.dot(h_prev, W_hz))
            _h = theano.tensor.tanh(theano.tensor.dot(x, W_xh) + theano.tensor.dot(r * h_prev, W_hh))
            h = z * h_prev + (1.0 - z) * _h
            return h

        W_xr = self.create_parameter_matrix('W_xr', (word_embedding_size, recurrent_size))
        W_hr = self.create_parameter_matrix('W_hr', (recurrent_size, recurrent_size))
        W_xz = self.create_parameter_matrix('W_xz', (word_embedding_size, recurrent_size))
        W_hz = self.create_parameter_matrix('W_hz', (recurrent_size, recurrent_size))
        W_xh = self.create_parameter_matrix('W_xh', (word_embedding_size, recurrent_size))
        W_hh = self.create_parameter_matrix('W_hh', (recurrent_size, recurrent_size))
        initial_hidden_vector = theano.tensor.zeros(recurrent_size)

        hidden_vector, _ = theano.scan(
            gru_step,
            sequences=input_vectors,
            outputs_info=initial_hidden_vector,
            non_sequences=[W_xr, W_hr, W_xz, W_hz, W_xh, W_hh]
        )
        hidden_vector = hidden_vector[-1]

        # hidden->output
        W_output = self.create_parameter_matrix('W_output', (n_classes, recurrent_size))
        output = theano.tensor.nnet.softmax([theano.tensor.dot(W_output, hidden_vector)])[0]
        predicted_class = theano.tensor.argmax(output)

        # calculating the cost function
        cost = -1.0 * theano.tensor.log(output[target_class])
        for m in self.params.values():
            cost += l2_regularisation * (theano.tensor.sqr(m).sum())

        # calculating gradient descent updates based on the cost function
        gradients = theano.tensor.grad(cost, list(self.params.values()))
        updates = [(p, p - (learningrate * g)) for p, g in zip(self.params.values(), gradients)]

        # defining Theano functions for training and testing the network
        self.train = theano.function([input_indices, target_class, learningrate], [cost, predicted_class],
                                     updates=updates, allow_input_downcast=True)
        self.test = theano.function([input_indices, target_class], [cost, predicted_class],
                                    allow_input_downcast=True)

    def create_parameter_matrix(self, name, size):
        """Create a shared variable tensor and initialize it with random values"""
        vals = numpy.asarray(self.rng.normal(loc=0.0, scale=0.1, size=size), dtype=floatX)
        self.params[name] = theano.shared(vals, name)
        return self.params[name]


def build_vocabulary(data, min_count=1):
    counts = collections.Counter(w for _, words in data for w in words)
    vocab = {"<unk>": 0}
    for word, count in sorted(counts.items()):
        if count >= min_count:
            vocab[word] = len(vocab)
    return vocab


def to_ids(words, vocab):
    return numpy.asarray([vocab.get(w, 0) for w in words] or [0], dtype="int32")


def evaluate(classifier, data, vocab):
    cost_sum, correct = 0.0, 0
    for label, words in data:
        cost, predicted = classifier.test(to_ids(words, vocab), label)
        cost_sum += float(cost)
        correct += int(predicted) == label
    return cost_sum, correct / len(data)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", help="training file (label<TAB>sentence per line)")
    parser.add_argument("--test", help="test file (same format)")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--learningrate", type=float, default=0.1)
    parser.add_argument("--n-train", type=int, default=1200, help="generated training sentences")
    parser.add_argument("--n-test", type=int, default=300, help="generated test sentences")
    parser.add_argument("--size", type=int, default=32, help="embedding and recurrent size")
    args = parser.parse_args(argv)

    if args.train and args.test:
        data_train, data_test = read_dataset(args.train), read_dataset(args.test)
    else:
        data_train = generate_corpus(args.n_train, seed=1)
        data_test = generate_corpus(args.n_test, seed=2)
    vocab = build_vocabulary(data_train)
    classifier = RnnClassifier(len(vocab), 5, word_embedding_size=args.size, recurrent_size=args.size)
    order = numpy.random.RandomState(0)

    for epoch in range(args.epochs):
        cost_sum, correct = 0.0, 0
        for i in order.permutation(len(data_train)):
            label, words = data_train[i]
            cost, predicted = classifier.train(to_ids(words, vocab), label, args.learningrate)
            cost_sum += float(cost)
            correct += int(predicted) == label
        print(f"Epoch: {epoch}, Training_cost: {cost_sum:.4f}, Training_accuracy: {correct / len(data_train):.4f}")

    test_cost, accuracy = evaluate(classifier, data_test, vocab)
    print(f"Test_cost: {test_cost:.4f}, Test_accuracy: {accuracy:.4f} (chance: 0.2000)")
    return accuracy


if __name__ == "__main__":
    main()
