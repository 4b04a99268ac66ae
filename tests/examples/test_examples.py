"""The example programs run end to end (on reduced sizes) and learn."""
import subprocess
import sys

import pytest

from arignote.examples import gdp_classifier, gru_sentiment, minimal, minimal_training


def test_minimal(capsys):
    assert minimal.main() == pytest.approx(0.9)
    assert capsys.readouterr().out.strip() == "0.9"


def test_minimal_training():
    outputs = minimal_training.main()
    assert outputs[0] == pytest.approx(0.9) and outputs[-1] == pytest.approx(19.8075160064)


def test_gdp_classifier_learns(capsys):
    accuracy = gdp_classifier.main(["--epochs", "10"])
    out = capsys.readouterr().out
    assert out.count("Epoch:") == 10 and "Test_accuracy" in out
    assert accuracy >= 0.75  # 40 test countries; always-majority would score 0.6


def test_gru_sentiment_learns_above_chance(capsys):
    accuracy = gru_sentiment.main(["--epochs", "3", "--n-train", "400", "--n-test", "150", "--size", "16"])
    out = capsys.readouterr().out
    assert out.count("Epoch:") == 3
    assert accuracy > 0.35  # five classes: chance is 0.2


def test_gru_sentiment_reads_the_tutorial_format(tmp_path, capsys):
    train = tmp_path / "train.txt"
    test = tmp_path / "test.txt"
    train.write_text("4\tA superb film\n0\tawful , just awful\n2\tit was a film\n")
    test.write_text("4\tsuperb\n")
    accuracy = gru_sentiment.main(["--train", str(train), "--test", str(test), "--epochs", "1", "--size", "4"])
    assert 0.0 <= accuracy <= 1.0
    assert "Test_accuracy" in capsys.readouterr().out


def test_programs_run_as_modules():
    out = subprocess.run([sys.executable, "-m", "arignote.examples.gdp_classifier", "--epochs", "2"],
                         capture_output=True, text=True, check=True)
    assert "Test_accuracy" in out.stdout
