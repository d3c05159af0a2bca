"""A character-level language model with a GRU, as the book's "concise implementation of
recurrent neural networks": a vocabulary of characters, random or sequential minibatches
of ``num_steps`` characters, one-hot inputs (``F.one_hot``), ``nn.GRU`` + ``nn.Linear``
(``RNNModel``), cross-entropy, gradient clipping (``nn.utils.clip_grad_norm_``), SGD,
the perplexity exp(mean loss) per epoch on a tqdm progress bar, a PNG of the perplexity
curve and finally ``predict('time traveller', ...)``.

The text is ``examples/data/time_machine_excerpt.txt``: the opening of chapter I of
H. G. Wells's *The Time Machine* (1895, public domain), about 4.3 KB, preprocessed as the
book does (every run of non-letters becomes one space, lowercase; 27 characters: the
letters and the space, plus ``<unk>``).  The lines are joined with a space (the book
concatenates them without one).  With network access, train on the novel as the book
does (its first 10,000 characters: ``max_tokens=10000``; ``-1`` for all 170,000)::

    import urllib.request
    urllib.request.urlretrieve(
        "http://d2l-data.s3-accelerate.amazonaws.com/timemachine.txt", "timemachine.txt")
    train_iter, vocab = load_data_time_machine(32, 35, path="timemachine.txt")

(the book's ``d2l.DATA_HUB['time_machine']``, with the checksum the book gives;
Project Gutenberg's eBook #35, https://www.gutenberg.org/ebooks/35.txt.utf-8, is the same
novel with the Gutenberg header and licence around it).

Measured (``python examples/char_rnn.py``: 200 epochs of 14 minibatches of 8 rows of
35 characters, 256 hidden units, SGD lr 1, clipping at 1; the book's batch of 32 gives
only 3 updates per epoch on this short text): the training perplexity falls from 20.2
after the first epoch (17.0 for the character frequencies alone) to 12.5 after 10 epochs,
1.8 after 100 and 1.02 after 200: the model has learned the excerpt by heart (the book
reaches about 1.0 on the whole novel after 500 epochs), and ``predict('time traveller',
50)`` gives 'time traveller for so it will be convenient to speak of him was '.  Run
time: about 75 s of CPU (a 2-core machine shared with other jobs: 3 min wall clock).
numpy's OpenBLAS threads slow this loop of small matrix products badly when the cores
are busy with other work; ``OPENBLAS_NUM_THREADS=1`` then helps.

Run:  python examples/char_rnn.py [num_epochs]
"""
import collections
import math
import os
import random
import re
import sys

import chainrule as torch
from chainrule import nn
from chainrule.nn import functional as F

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data",
                    "time_machine_excerpt.txt")


# --- text preprocessing ---------------------------------------------------------------------

def read_time_machine(path=None):
    """The lines of the text: every run of non-letters becomes a space, then lowercase."""
    with open(path or DATA) as f:
        lines = f.readlines()
    return [re.sub("[^A-Za-z]+", " ", line).strip().lower() for line in lines]


def tokenize(lines, token="word"):
    """Split text lines into word or character tokens."""
    if token == "word":
        return [line.split() for line in lines]
    if token == "char":
        return [list(line) for line in lines]
    raise ValueError(f"tokenize: unknown token type {token!r}; expected 'word' or 'char'")


def count_corpus(tokens):
    """Token frequencies (``tokens``: a list of tokens or a list of lists of tokens)."""
    if len(tokens) == 0 or isinstance(tokens[0], list):
        tokens = [token for line in tokens for token in line]
    return collections.Counter(tokens)


class Vocab:
    """Vocabulary for text: index 0 is ``<unk>``, then reserved tokens, then the tokens
    by decreasing frequency (ties in order of first appearance)."""

    def __init__(self, tokens=None, min_freq=0, reserved_tokens=None):
        tokens = tokens or []
        reserved_tokens = reserved_tokens or []
        counter = count_corpus(tokens)
        self._token_freqs = sorted(counter.items(), key=lambda x: x[1], reverse=True)
        self.idx_to_token = ["<unk>"] + reserved_tokens
        self.token_to_idx = {token: idx for idx, token in enumerate(self.idx_to_token)}
        for token, freq in self._token_freqs:
            if freq < min_freq:
                break
            if token not in self.token_to_idx:
                self.idx_to_token.append(token)
                self.token_to_idx[token] = len(self.idx_to_token) - 1

    def __len__(self):
        return len(self.idx_to_token)

    def __getitem__(self, tokens):
        if not isinstance(tokens, (list, tuple)):
            return self.token_to_idx.get(tokens, self.unk)
        return [self.__getitem__(token) for token in tokens]

    def to_tokens(self, indices):
        if not isinstance(indices, (list, tuple)):
            return self.idx_to_token[indices]
        return [self.idx_to_token[index] for index in indices]

    @property
    def unk(self):
        return 0

    @property
    def token_freqs(self):
        return self._token_freqs


def load_corpus_time_machine(max_tokens=-1, path=None):
    """Character indices of the text and its vocabulary."""
    lines = read_time_machine(path)
    text = " ".join(line for line in lines if line)
    tokens = tokenize([text], "char")
    vocab = Vocab(tokens)
    corpus = [vocab[token] for line in tokens for token in line]
    if max_tokens > 0:
        corpus = corpus[:max_tokens]
    return corpus, vocab


# --- minibatches ----------------------------------------------------------------------------

def seq_data_iter_random(corpus, batch_size, num_steps, rng=random):
    """Minibatches of subsequences at random places (random offset, shuffled)."""
    corpus = corpus[rng.randint(0, num_steps - 1):]
    num_subseqs = (len(corpus) - 1) // num_steps
    initial_indices = list(range(0, num_subseqs * num_steps, num_steps))
    rng.shuffle(initial_indices)

    def data(pos):
        return corpus[pos: pos + num_steps]

    num_batches = num_subseqs // batch_size
    for i in range(0, batch_size * num_batches, batch_size):
        initial_indices_per_batch = initial_indices[i: i + batch_size]
        X = [data(j) for j in initial_indices_per_batch]
        Y = [data(j + 1) for j in initial_indices_per_batch]
        yield torch.tensor(X), torch.tensor(Y)


def seq_data_iter_sequential(corpus, batch_size, num_steps, rng=random):
    """Minibatches of consecutive subsequences (a batch continues the previous one)."""
    offset = rng.randint(0, num_steps)
    num_tokens = ((len(corpus) - offset - 1) // batch_size) * batch_size
    Xs = torch.tensor(corpus[offset: offset + num_tokens])
    Ys = torch.tensor(corpus[offset + 1: offset + 1 + num_tokens])
    Xs, Ys = Xs.reshape(batch_size, -1), Ys.reshape(batch_size, -1)
    num_batches = Xs.shape[1] // num_steps
    for i in range(0, num_steps * num_batches, num_steps):
        X = Xs[:, i: i + num_steps]
        Y = Ys[:, i: i + num_steps]
        yield X, Y


class SeqDataLoader:
    """An iterator over minibatches of the text; ``seed`` fixes the random offsets."""

    def __init__(self, batch_size, num_steps, use_random_iter, max_tokens, path=None,
                 seed=None):
        self.data_iter_fn = seq_data_iter_random if use_random_iter \
            else seq_data_iter_sequential
        self.corpus, self.vocab = load_corpus_time_machine(max_tokens, path)
        self.batch_size, self.num_steps = batch_size, num_steps
        self.rng = random if seed is None else random.Random(seed)

    def __iter__(self):
        return self.data_iter_fn(self.corpus, self.batch_size, self.num_steps, self.rng)

    def __len__(self):
        """Minibatches per epoch (the fewest over the random offsets)."""
        n = len(self.corpus) - self.num_steps
        if self.data_iter_fn is seq_data_iter_random:
            return ((n - 1) // self.num_steps) // self.batch_size
        return ((n - 1) // self.batch_size) // self.num_steps


def load_data_time_machine(batch_size, num_steps, use_random_iter=False, max_tokens=10000,
                           path=None, seed=None):
    """The iterator and the vocabulary of the text."""
    data_iter = SeqDataLoader(batch_size, num_steps, use_random_iter, max_tokens, path, seed)
    return data_iter, data_iter.vocab


# --- the model ------------------------------------------------------------------------------

class RNNModel(nn.Module):
    """The RNN model: a recurrent layer and a linear output layer over the vocabulary."""

    def __init__(self, rnn_layer, vocab_size, **kwargs):
        super(RNNModel, self).__init__(**kwargs)
        self.rnn = rnn_layer
        self.vocab_size = vocab_size
        self.num_hiddens = self.rnn.hidden_size
        if not self.rnn.bidirectional:
            self.num_directions = 1
            self.linear = nn.Linear(self.num_hiddens, self.vocab_size)
        else:
            self.num_directions = 2
            self.linear = nn.Linear(self.num_hiddens * 2, self.vocab_size)

    def forward(self, inputs, state):
        X = F.one_hot(inputs.T.long(), self.vocab_size)
        X = X.to(torch.float32)
        Y, state = self.rnn(X, state)
        # the fully connected layer first reshapes Y to (num_steps * batch_size, num_hiddens)
        output = self.linear(Y.reshape((-1, Y.shape[-1])))
        return output, state

    def begin_state(self, device, batch_size=1):
        if not isinstance(self.rnn, nn.LSTM):
            return torch.zeros((self.num_directions * self.rnn.num_layers,
                                batch_size, self.num_hiddens), device=device)
        return (torch.zeros((self.num_directions * self.rnn.num_layers,
                             batch_size, self.num_hiddens), device=device),
                torch.zeros((self.num_directions * self.rnn.num_layers,
                             batch_size, self.num_hiddens), device=device))


def predict_ch8(prefix, num_preds, net, vocab, device, sample=False, temperature=1.0,
                generator=None):
    """Continue ``prefix`` by ``num_preds`` characters: greedy (the most likely next
    character, as the book) or, with ``sample=True``, drawn from softmax(logits /
    temperature)."""
    state = net.begin_state(batch_size=1, device=device)
    outputs = [vocab[prefix[0]]]

    def get_input():
        return torch.tensor([outputs[-1]], device=device).reshape((1, 1))

    with torch.no_grad():
        for y in prefix[1:]:                      # warm-up period
            _, state = net(get_input(), state)
            outputs.append(vocab[y])
        for _ in range(num_preds):                # predict num_preds steps
            y, state = net(get_input(), state)
            if sample:
                y[:, vocab.unk] = -math.inf           # never draw '<unk>'
                probs = F.softmax(y / temperature, dim=1)
                outputs.append(int(torch.multinomial(probs, 1, generator=generator)))
            else:
                outputs.append(int(y.argmax(dim=1).reshape(1)))
    return "".join([vocab.idx_to_token[i] for i in outputs])


def grad_clipping(net, theta):
    """Scale the gradients so that their joint L2 norm is at most ``theta``."""
    params = net.parameters() if isinstance(net, nn.Module) else net.params
    nn.utils.clip_grad_norm_(params, theta)


# --- training -------------------------------------------------------------------------------

def train_epoch_ch8(net, train_iter, loss, updater, device, use_random_iter, max_steps=None):
    """One epoch; returns (perplexity, the mean loss of each minibatch)."""
    state = None
    total_loss = total_tokens = 0.0
    losses = []
    for step, (X, Y) in enumerate(train_iter):
        if max_steps is not None and step >= max_steps:
            break
        if state is None or use_random_iter:
            # initialise the state at the first iteration or with random sampling
            state = net.begin_state(batch_size=X.shape[0], device=device)
        else:
            if isinstance(net, nn.Module) and not isinstance(state, tuple):
                state.detach_()                   # state is a tensor for nn.GRU
            else:
                for s in state:                   # (h, c) for nn.LSTM
                    s.detach_()
        y = Y.T.reshape(-1)
        X, y = X.to(device), y.to(device)
        y_hat, state = net(X, state)
        l = loss(y_hat, y.long()).mean()
        updater.zero_grad()
        l.backward()
        grad_clipping(net, 1)
        updater.step()
        losses.append(l.item())
        total_loss += losses[-1] * y.numel()
        total_tokens += y.numel()
    return math.exp(total_loss / total_tokens), losses


def train_ch8(net, train_iter, vocab, lr, num_epochs, device, use_random_iter=False,
              show_progress=True, verbose=True):
    """Train for ``num_epochs``, one tqdm bar over the epochs showing the perplexity; every
    tenth epoch (with ``verbose``) prints a greedy continuation of 'time traveller'.
    Returns the perplexity of each epoch."""
    from tqdm.auto import tqdm        # a widget in notebooks, a text bar in a terminal
    loss = nn.CrossEntropyLoss()
    updater = torch.optim.SGD(net.parameters(), lr)

    def predict(prefix):
        return predict_ch8(prefix, 50, net, vocab, device)

    history = []
    with tqdm(range(num_epochs), desc="training", disable=not show_progress) as bar:
        for epoch in bar:
            ppl, _ = train_epoch_ch8(net, train_iter, loss, updater, device, use_random_iter)
            history.append(ppl)
            bar.set_postfix(perplexity=f"{ppl:.2f}")
            if verbose and (epoch + 1) % 10 == 0:
                bar.write(f"epoch {epoch + 1}, perplexity {ppl:.2f}: "
                          f"{predict('time traveller')}")
    return history


def plot_perplexity(history, path, title):
    """Save the perplexity curve as a PNG (matplotlib's Agg backend)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(range(1, len(history) + 1), history, "-", label="train")
    ax.set_xlabel("epoch")
    ax.set_ylabel("perplexity")
    ax.set_yscale("log")
    ax.legend()
    ax.grid(alpha=0.3)
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def make_model(vocab_size, num_hiddens=256, seed=0):
    """``RNNModel(nn.GRU(vocab_size, num_hiddens), vocab_size)`` with seeded weights."""
    torch.manual_seed(seed)
    gru_layer = nn.GRU(vocab_size, num_hiddens)
    return RNNModel(gru_layer, vocab_size=vocab_size)


def main(num_epochs=200, batch_size=8, num_steps=35, num_hiddens=256, lr=1.0,
         use_random_iter=False, seed=0, show_progress=True, verbose=True, out_dir=None):
    from digits_utils import output_dir
    train_iter, vocab = load_data_time_machine(batch_size, num_steps, use_random_iter,
                                               seed=seed)
    device = torch.device("cpu")
    net = make_model(len(vocab), num_hiddens, seed).to(device)
    history = train_ch8(net, train_iter, vocab, lr, num_epochs, device, use_random_iter,
                        show_progress, verbose)
    path = os.path.join(out_dir or output_dir(), "char_rnn_perplexity.png")
    plot_perplexity(history, path, "GRU language model (The Time Machine, excerpt)")
    greedy = predict_ch8("time traveller", 50, net, vocab, device)
    sampled = predict_ch8("time traveller", 50, net, vocab, device, sample=True,
                          temperature=0.8, generator=torch.Generator().manual_seed(seed))
    if verbose:
        print(f"perplexity {history[-1]:.2f}; curve in {path}")
        print(f"greedy:  {greedy}")
        print(f"sampled: {sampled}")
    return {"history": history, "greedy": greedy, "sampled": sampled, "vocab": vocab,
            "net": net, "plot": path}


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
