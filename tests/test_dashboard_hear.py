"""The "Which words does the model still hear?" page and the task behind it: the pronoun
task's generator puts the answer where it says, the attention head's hand-written
gradients match finite differences, its connectivity matches autodiff, and the page
renders in both languages with the heatmap of the seed's sentence (the pronoun's row
outlined) and a pronoun -> name share per model that is computed, not fixed."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

import longdep as ld
from longdep import tasks
from longdep.dashboard import APP_PATH, coref, i18n

SHIM = APP_PATH.parents[3] / "dashboard" / "app.py"
HEAR = APP_PATH.parent / "views" / "hear.py"


# -- the task -------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pronoun_task_target_is_the_name_at_the_named_position(seed):
    task = tasks.PronounTask(30, n_subjects=5, n_distractors=7, min_gap=4, max_lead=3)
    x, (name, name_at, pronoun_at) = task.sample(64, np.random.default_rng(seed))
    T, B, I = x.shape
    assert (T, B, I) == (30, 64, 5 + 7 + 1) and task.output_size == 5
    assert np.all(x.sum(axis=-1) == 1.0)  # one-hot
    tokens = task.tokens(x)
    b = np.arange(B)
    # the name token at name_at is the target; the pronoun token sits at pronoun_at
    assert np.array_equal(tokens[name_at, b], name)
    assert task.pronoun == 12 and np.all(tokens[pronoun_at, b] == 12)
    # exactly one name and one pronoun per sentence, everything else filler
    assert np.all((tokens < 5).sum(axis=0) == 1)
    assert np.all((tokens == 12).sum(axis=0) == 1)
    assert np.all((name_at >= 0) & (name_at <= 3))
    gap = pronoun_at - name_at
    assert np.all((gap >= 4) & (pronoun_at <= T - 1))
    assert gap.min() < gap.max()  # the distance varies


def test_pronoun_task_loss_reads_only_the_pronoun_step():
    task = tasks.PronounTask(12, n_subjects=3, n_distractors=4, min_gap=2)
    rng = np.random.default_rng(0)
    _, target = task.sample(5, rng)
    name, _, at = target
    y = rng.normal(size=(12, 5, 3))
    loss, dy, acc = task.loss(y, target)
    b = np.arange(5)
    logits = y[at, b]
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    assert math.isclose(loss, float(-np.log(p[b, name]).mean()), rel_tol=1e-12)
    assert math.isclose(acc, float((logits.argmax(axis=1) == name).mean()))
    mask = np.zeros((12, 5), bool)
    mask[at, b] = True
    assert np.all(dy[~mask] == 0.0)
    want = p.copy()
    want[b, name] -= 1
    np.testing.assert_allclose(dy[at, b], want / 5, rtol=1e-12)
    assert task.baseline == math.log(3)
    assert tasks.make_task("pronoun", 12).name == "pronoun"


@pytest.mark.parametrize(
    "kwargs", [{"min_gap": 0}, {"max_lead": -1}, {"min_gap": 8, "max_lead": 4}, {"min_gap": 1.5}]
)
def test_pronoun_task_rejects_settings_where_the_pronoun_does_not_fit(kwargs):
    with pytest.raises(ld.ArgumentError):
        tasks.PronounTask(12, **kwargs)


def test_the_seed_sentence_is_encoded_with_the_name_and_the_pronoun_in_place():
    task = coref.make_task()
    for lang in ("en", "zh"):
        for extra in (0, 9):
            words, n, p = coref.sentence(lang, extra)
            assert words[n] == ("Zhang San" if lang == "en" else "张三")
            assert words[p] == ("he" if lang == "en" else "他")
            assert p - n == 11 + extra and len(words) <= task.steps
            tokens = coref.encode(words, n, p, task).argmax(axis=1)
            assert tokens[n] == 0 and tokens[p] == task.pronoun
            others = np.delete(tokens, [n, p])
            assert np.all((others >= task.n_subjects) & (others < task.pronoun))


# -- the attention head ---------------------------------------------------------------------


def test_attention_gradients_match_central_differences():
    task = tasks.PronounTask(10, n_subjects=3, n_distractors=4, min_gap=2, max_lead=2)
    rng = np.random.default_rng(5)
    x, target = task.sample(4, rng)
    d, I = 3, task.input_size
    p = {
        "W_q": rng.normal(size=(d, I)), "W_k": rng.normal(size=(d, I)),
        "W_v": rng.normal(size=(d, I)), "R": rng.normal(size=(3, d)), "c": rng.normal(size=3),
    }  # fmt: skip
    _, _, grads = coref._attention_step(p, x, target)
    eps = 1e-6
    for key, w in p.items():
        num = np.zeros_like(w)
        for idx in np.ndindex(w.shape):
            up = {k: v.copy() for k, v in p.items()}
            down = {k: v.copy() for k, v in p.items()}
            up[key][idx] += eps
            down[key][idx] -= eps
            num[idx] = (
                coref._attention_step(up, x, target)[0] - coref._attention_step(down, x, target)[0]
            ) / (2 * eps)
        np.testing.assert_allclose(grads[key], num, rtol=1e-5, atol=1e-8, err_msg=key)


def test_attention_connectivity_matches_jax_autodiff(jax):
    jnp = jax.numpy
    rng = np.random.default_rng(2)
    d, I, T = 3, 4, 6
    head = ld.Attention(rng.normal(size=(d, I)), rng.normal(size=(d, I)), rng.normal(size=(d, I)))
    x = rng.normal(size=(T, I))

    def y(xs):
        q, k, v = xs @ head.W_q.T, xs @ head.W_k.T, xs @ head.W_v.T
        e = q @ k.T / math.sqrt(d)
        e = jnp.where(jnp.tril(jnp.ones((T, T))) > 0, e, -jnp.inf)
        return jax.nn.softmax(e, axis=1) @ v  # (T, d)

    J = np.asarray(jax.jacfwd(y)(jnp.asarray(x)))  # (T, d, T, I)
    want = np.sqrt((J**2).sum(axis=(1, 3)))
    np.testing.assert_allclose(coref.attention_connectivity(head, x), want, rtol=1e-9, atol=1e-12)


def test_name_share_is_the_name_cell_over_the_pronoun_row():
    C = np.tril(np.arange(1.0, 26.0).reshape(5, 5))
    assert coref.name_share(C, 3, 1) == C[3, 1] / C[3, :4].sum()
    assert coref.name_share(np.zeros((4, 4)), 2, 0) == 0.0


# -- the page -------------------------------------------------------------------------------


def _run(lang: str) -> AppTest:
    at = AppTest.from_file(str(SHIM), default_timeout=180)
    at.query_params["lang"] = lang
    at.run()
    at.switch_page(str(HEAR)).run()
    return at


def _charts(at: AppTest) -> list:
    return list(at.get("arrow_vega_lite_chart")) or list(at.get("vega_lite_chart"))


def _frames(el) -> list[pd.DataFrame]:
    return [pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in el.proto.datasets]


@pytest.fixture(scope="module")
def pages() -> dict[str, AppTest]:
    return {lang: _run(lang) for lang in i18n.LANGS}


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_hear_page_renders_in_both_languages(pages, lang):
    at = pages[lang]
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert at.title[0].value == i18n.text("p7_title", lang)
    cjk = any("\u4e00" <= ch <= "\u9fff" for ch in at.title[0].value)
    assert cjk == (lang == "zh")
    assert len(_charts(at)) == 2
    assert [m.label for m in at.metric] == [i18n.text(f"p7_model_{k}", lang) for k in coref.MODELS]


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_heatmap_covers_every_word_and_outlines_the_pronoun_row(pages, lang):
    at = pages[lang]
    words, n, p = coref.sentence(lang)
    heat = _charts(at)[1]
    spec = json.loads(heat.proto.spec)
    marks = [layer["mark"] for layer in spec["layer"]]
    assert [m["type"] if isinstance(m, dict) else m for m in marks] == ["rect"] * 3
    cells, outline, ring = _frames(heat)
    T = len(words)
    assert len(cells) == T * (T + 1) // 2  # every (t, k <= t)
    assert set(outline["t"]) == {p} and sorted(outline["k"]) == list(range(p + 1))
    assert ring[["t", "k"]].values.tolist() == [[p, n]]
    assert outline["word_t"].iloc[0] == words[p] and ring["word_k"].iloc[0] == words[n]
    # each row's shares add up to one
    sums = cells.groupby("t")["share"].sum()
    np.testing.assert_allclose(sums.to_numpy(), 1.0, rtol=1e-9)
    # the x axis is labelled with the words themselves
    x_axis = spec["layer"][0]["encoding"]["x"]["axis"]
    assert json.dumps(words, ensure_ascii=False) in x_axis["labelExpr"]


def test_the_pronoun_to_name_share_is_computed_and_differs_across_models(pages):
    at = pages["en"]
    shares = _frames(_charts(at)[0])[0].set_index("name")["share"]
    names = [i18n.text(f"p7_model_{k}", "en") for k in coref.MODELS]
    assert list(shares.index) == names
    assert np.all((shares > 0) & (shares < 1))
    assert len(set(np.round(shares.to_numpy(), 4))) == len(names)  # all different
    # the number is the connectivity share of the shown models, recomputed here
    models = coref.trained_models(0)
    words, n, p = coref.sentence("en")
    x = coref.encode(words, n, p, coref.make_task())
    for key, label in zip(coref.MODELS, names, strict=True):
        model = models[key]["model"]
        if isinstance(model, ld.Attention):
            C = coref.attention_connectivity(model, x)
        else:
            C = ld.connectivity(model, x).values
        want = C[p, n] / C[p, : p + 1].sum()
        assert math.isclose(shares[label], want, rel_tol=1e-9), key
    # the metrics show the same numbers
    for metric, label in zip(at.metric, names, strict=True):
        assert metric.value == f"{100 * shares[label]:.1f} %"
    # attention reads the name directly; the vanilla RNN's memory of it has faded
    assert shares[names[-1]] > shares[names[0]]


def test_the_heatmap_shows_the_chosen_model_and_more_words_move_the_pronoun():
    at = _run("en")
    first = _frames(_charts(at)[1])[0]
    at.radio(key="p7_model").set_value("attention").run()
    assert not at.exception
    second = _frames(_charts(at)[1])[0]
    assert len(first) == len(second) and not np.allclose(first["share"], second["share"])
    at.slider(key="p7_extra").set_value(10)
    at.button(key="p7_form_go").click().run()  # the form's values count on Compute
    assert not at.exception
    _, _, p = coref.sentence("en", 10)
    _, outline, _ = _frames(_charts(at)[1])
    assert set(outline["t"]) == {p} == {21}
