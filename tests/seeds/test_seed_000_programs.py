"""Seed 000 (Marek Rei's tutorial), sections 11-16: the programs, scan, GPU flags, pictures, profiling."""
import os
import subprocess
import sys

import numpy
import numpy as np
import pytest

import theano
import theano.tensor


# --- 11. Classifier code example ------------------------------------------------------------------------------
def test_classifier_script_trains_and_reports():
    out = subprocess.run([sys.executable, "-m", "arignote.examples.gdp_classifier"], capture_output=True,
                         text=True, check=True).stdout
    lines = out.strip().splitlines()
    assert sum(line.startswith("Epoch: ") for line in lines) == 10
    accuracy = float(lines[-1].split("Test_accuracy: ")[1])
    assert accuracy >= 0.8


# --- 12. Recurrent functions with scan -------------------------------------------------------------------------
def test_rnn_over_word_vectors_with_scan():
    rng = numpy.random.RandomState(0)
    word_embedding_size, recurrent_size = 4, 3

    def create_parameter_matrix(name, size):
        vals = numpy.asarray(rng.normal(loc=0.0, scale=0.1, size=size), dtype=theano.config.floatX)
        return theano.shared(vals, name)

    def rnn_step(x, h_prev, W_x, W_h):
        return theano.tensor.tanh(theano.tensor.dot(x, W_x) + theano.tensor.dot(h_prev, W_h))

    input_vectors = theano.tensor.matrix('input_vectors')
    W_x = create_parameter_matrix('W_x', (word_embedding_size, recurrent_size))
    W_h = create_parameter_matrix('W_h', (recurrent_size, recurrent_size))
    initial_hidden_vector = theano.tensor.zeros(recurrent_size)
    hidden_vector, _ = theano.scan(rnn_step, sequences=input_vectors, outputs_info=initial_hidden_vector,
                                   non_sequences=[W_x, W_h])
    hidden_vector = hidden_vector[-1]
    f = theano.function([input_vectors], hidden_vector)
    words = rng.randn(5, word_embedding_size)
    h = np.zeros(recurrent_size)
    for row in words:
        h = np.tanh(row @ W_x.get_value() + h @ W_h.get_value())
    np.testing.assert_allclose(f(words), h)


# --- 13. RNN classifier code example -----------------------------------------------------------------------------------
def test_gru_classifier_script_beats_chance():
    out = subprocess.run([sys.executable, "-m", "arignote.examples.gru_sentiment", "--epochs", "3",
                          "--n-train", "400", "--n-test", "150", "--size", "16"],
                         capture_output=True, text=True, check=True).stdout
    accuracy = float(out.strip().splitlines()[-1].split("Test_accuracy: ")[1].split()[0])
    assert accuracy > 0.35


# --- 14. Running on a GPU: floatX from the flags ----------------------------------------------------------------------
def test_floatx_from_flags_sets_the_tutorials_types():
    code = ("import theano; x = theano.tensor.vector('x', dtype=theano.config.floatX); "
            "print(theano.config.floatX, x.dtype, theano.config.device)")
    env = dict(os.environ, THEANO_FLAGS="device=cpu,floatX=float32")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["float32", "float32", "cpu"]


# --- 15. Drawing the computation graph ------------------------------------------------------------------------------
def test_pydotprint_of_the_minimal_example(tmp_path):
    x = theano.tensor.fvector('x')
    W = theano.shared(numpy.asarray([0.2, 0.7]), 'W')
    y = (x * W).sum()
    f = theano.function([x], y)
    theano.printing.pydotprint(f, outfile=str(tmp_path / "f.dot"), var_with_name_simple=True)
    text = (tmp_path / "f.dot").read_text()
    assert text.startswith("digraph") and "\"x\"" in text and "\"W\"" in text


# --- 16. Profiling ----------------------------------------------------------------------------------------------------------
def test_profile_flag_prints_where_time_goes():
    code = ("import theano, numpy; x = theano.tensor.dvector('x'); "
            "f = theano.function([x], theano.tensor.exp(x).sum()); f(numpy.ones(3))")
    env = dict(os.environ, THEANO_FLAGS="profile=True")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert "Function profiling" in out.stdout and "<% time>" in out.stdout
