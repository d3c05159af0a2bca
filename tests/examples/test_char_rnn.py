"""examples/char_rnn.py: the GRU character-level language model learns (a few epochs bring
the training perplexity well below the 17.0 of the excerpt's character frequencies alone),
greedy and sampled continuations are strings of vocabulary characters of the requested
length, and the first training steps give PyTorch's losses and weights: the example's own
code, run once with chainrule and once with ``torch`` in its place, from the same weights
(the state_dict keys are the same) and the same minibatches."""
import importlib.util
import math
import os
import string
import sys

import numpy as np
import pytest

EXAMPLES = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir, os.pardir,
                                        "examples"))
SCRIPT = os.path.join(EXAMPLES, "char_rnn.py")


@pytest.fixture(scope="module")
def char_rnn():
    sys.path.insert(0, EXAMPLES)              # for digits_utils.output_dir
    spec = importlib.util.spec_from_file_location("char_rnn_chainrule", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    yield mod
    sys.path.remove(EXAMPLES)


def _load_with_torch():
    """The example's source with ``import chainrule as torch`` (and its nn, F imports)
    replaced by PyTorch's."""
    with open(SCRIPT) as f:
        src = f.read()
    for a, b in (("import chainrule as torch", "import torch"),
                 ("from chainrule import nn", "from torch import nn"),
                 ("from chainrule.nn import functional as F",
                  "from torch.nn import functional as F")):
        assert a in src
        src = src.replace(a, b)
    assert "chainrule" not in src.split('"""', 2)[2]
    mod = type(sys)("char_rnn_torch")
    mod.__file__ = SCRIPT
    exec(compile(src, SCRIPT, "exec"), mod.__dict__)
    return mod


def test_vocabulary_and_minibatches(char_rnn):
    corpus, vocab = char_rnn.load_corpus_time_machine()
    assert len(vocab) == 28 and vocab.idx_to_token[:3] == ["<unk>", " ", "e"]
    assert set(vocab.idx_to_token[1:]) == set(" " + string.ascii_lowercase)
    assert len(corpus) == 4149 and min(corpus) == 1
    text = "".join(vocab.to_tokens(corpus))
    assert text.startswith("the time machine by h g wells the opening of chapter i")
    batches = list(char_rnn.seq_data_iter_sequential(corpus, 8, 35,
                                                     rng=__import__("random").Random(0)))
    assert len(batches) == 14
    for X, Y in batches:
        assert X.shape == (8, 35) and Y.shape == (8, 35)
        np.testing.assert_array_equal(X.numpy()[:, 1:], Y.numpy()[:, :-1])
    # consecutive batches continue each row (what carrying the state over relies on)
    assert batches[1][0].numpy()[0, 0] == batches[0][1].numpy()[0, -1]


def test_perplexity_falls_and_predictions(char_rnn, tmp_path):
    out = char_rnn.main(num_epochs=10, show_progress=False, verbose=False,
                        out_dir=str(tmp_path))
    h = out["history"]
    assert len(h) == 10
    # measured: 20.2 after the first epoch, 12.45 after the tenth (unigram: 17.0)
    assert h[0] > 17 and h[-1] < 13.5
    with open(out["plot"], "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    chars = set(out["vocab"].idx_to_token[1:])
    for name in ("greedy", "sampled"):
        text = out[name]
        assert text.startswith("time traveller") and len(text) == 14 + 50, text
        assert set(text) <= chars, text
    net, vocab = out["net"], out["vocab"]
    for n in (1, 7):
        text = char_rnn.predict_ch8("time traveller", n, net, vocab, None)
        assert len(text) == 14 + n and set(text) <= chars


def test_first_steps_match_pytorch(char_rnn):
    torch = pytest.importorskip("torch")
    ref = _load_with_torch()
    assert ref.torch is torch
    import chainrule

    it_c, vocab = char_rnn.load_data_time_machine(8, 35, seed=0)
    it_t, _ = ref.load_data_time_machine(8, 35, seed=0)
    net_c = char_rnn.make_model(len(vocab), num_hiddens=64)
    net_t = ref.RNNModel(torch.nn.GRU(len(vocab), 64), len(vocab))
    sd = net_c.state_dict()
    assert list(sd) == list(net_t.state_dict()) == [
        "rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0",
        "linear.weight", "linear.bias"]
    net_t.load_state_dict({k: torch.tensor(v.numpy()) for k, v in sd.items()})

    def run(mod, lib, net, it):
        opt = lib.optim.SGD(net.parameters(), 1.0)
        # 6 steps: the state is carried over (detached) between consecutive minibatches
        return mod.train_epoch_ch8(net, it, lib.nn.CrossEntropyLoss(), opt, None, False,
                                   max_steps=6)

    ppl_c, losses_c = run(char_rnn, chainrule, net_c, it_c)
    ppl_t, losses_t = run(ref, torch, net_t, it_t)
    assert len(losses_c) == 6
    np.testing.assert_allclose(losses_c, losses_t, rtol=2e-5)
    assert losses_c[0] == pytest.approx(math.log(len(vocab)), abs=0.05)
    assert ppl_c == pytest.approx(ppl_t, rel=2e-5)
    sd_t = net_t.state_dict()
    for k, v in net_c.state_dict().items():
        np.testing.assert_allclose(v.numpy(), sd_t[k].numpy(), rtol=1e-4, atol=2e-6,
                                   err_msg=k)
