"""pydotprint draws variables and compiled functions (graphviz source and images)."""
import shutil

import numpy as np
import pytest

import arignote as th
import arignote.tensor as T
from arignote.printing import pydotprint


def _minimal_function():
    x = T.fvector('x')
    W = th.shared(np.asarray([0.2, 0.7]), 'W')
    y = (x * W).sum()
    return th.function([x], y, updates=[(W, W * 2)])


def test_dot_source_names_inputs_ops_and_updates(tmp_path):
    out = tmp_path / "f.dot"
    pydotprint(_minimal_function(), outfile=str(out), var_with_name_simple=True, print_output_file=False)
    text = out.read_text()
    assert text.startswith("digraph")
    assert '"x"' in text and '"W"' in text and "Dot" in text and "update of W" in text


def test_variables_and_lists(tmp_path):
    a, b = T.dvectors('a', 'b')
    source = pydotprint([a + b, a * b], outfile=str(tmp_path / "g.dot"), return_image=True)
    assert b"Elemwise{add}" in source and b"Elemwise{mul}" in source
    with pytest.raises(TypeError, match="draws variables"):
        pydotprint(3, outfile=str(tmp_path / "x.dot"))


@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz's dot program draws the images")
def test_png_image(tmp_path, capsys):
    out = tmp_path / "f.png"
    pydotprint(_minimal_function(), outfile=str(out), var_with_name_simple=True)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "The output file is available at" in capsys.readouterr().out
