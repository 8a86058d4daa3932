"""Every user-visible string of the dashboard, in English and Chinese.

The language comes from ``?lang=en`` / ``?lang=zh`` in the URL, else the choice made in the
sidebar during this session, else the browser locale (``st.context.locale``), else
English. Strings are ``str.format`` templates; both languages of a key must use the same
placeholders (a unit test checks this).
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

__all__ = [
    "LANGS",
    "LANG_NAMES",
    "MESSAGE_PIECES",
    "STRINGS",
    "Translator",
    "current_language",
    "language_selector",
    "resolve_language",
    "text",
    "translator",
]

LANGS = ("en", "zh")
LANG_NAMES = {"en": "English", "zh": "中文"}
#: ``tr(key, **values)``: a string of the current language, formatted.
Translator = Callable[..., str]
_STATE_KEY = "lang"
_WIDGET_KEY = "_lang_selector"

#: The telephone-game message, piece by piece in reading order, with the surviving
#: fraction each piece needs to get through (details are lost first).
MESSAGE_PIECES: dict[str, list[tuple[str, float]]] = {
    "en": [
        ("meeting", 1e-3),
        ("tomorrow", 1e-2),
        ("at 3 pm", 0.4),
        ("in the library", 0.1),
        ("about the AI project", 0.6),
    ],
    "zh": [
        ("明天", 1e-2),
        ("下午3点", 0.4),
        ("在图书馆", 0.1),
        ("开会", 1e-3),
        ("讨论AI项目", 0.6),
    ],
}

STRINGS: dict[str, dict[str, str]] = {
    # -- app ----------------------------------------------------------------------------
    "app_title": {
        "en": "longdep — the long-range dependency problem of RNNs",
        "zh": "longdep —— RNN 的长程依赖问题",
    },
    "language": {"en": "Language / 语言", "zh": "Language / 语言"},
    "nav_problem": {"en": "The problem", "zh": "问题是什么"},
    "nav_decay": {"en": "Decay curves", "zh": "衰减曲线"},
    "nav_remedies": {"en": "Remedies", "zh": "补救方法"},
    "nav_landscape": {"en": "Landscape", "zh": "参数全景"},
    "nav_your_model": {"en": "Your model", "zh": "你的模型"},
    "sidebar_about": {
        "en": "Every number on these pages is computed live by longdep's Rust core: exact "
        "BPTT gradient norms and forward sensitivities, in the log domain.",
        "zh": "本应用中的每个数字都由 longdep 的 Rust 内核实时计算：精确的 BPTT 梯度范数与前向敏感度，"
        "全部在对数域中计算。",
    },
    "computing": {"en": "Computing…", "zh": "计算中…"},
    "seconds": {"en": "{s:.2f} s", "zh": "{s:.2f} 秒"},
    # -- shared controls, axes and metrics ------------------------------------------------
    "ctl_cell": {"en": "Cell", "zh": "单元类型"},
    "ctl_nonlinearity": {"en": "Nonlinearity φ", "zh": "非线性函数 φ"},
    "ctl_init": {"en": "Recurrent initialisation", "zh": "循环权重初始化"},
    "ctl_H": {"en": "Hidden size H", "zh": "隐藏维度 H"},
    "ctl_T": {"en": "Sequence length T (steps)", "zh": "序列长度 T（步）"},
    "ctl_radius_elman": {"en": "Spectral radius ρ of W_hh", "zh": "W_hh 的谱半径 ρ"},
    "ctl_radius_gate": {
        "en": "Gain of W_hh (weight std × √H)",
        "zh": "W_hh 的增益（权重标准差 × √H）",
    },
    "ctl_radius_lru": {"en": "Largest eigenvalue modulus |λ|max", "zh": "最大特征值模 |λ|max"},
    "ctl_input_scale": {
        "en": "Input scale (std of W_ih)",
        "zh": "输入尺度（W_ih 的标准差）",
    },
    "ctl_seed": {"en": "Random seed", "zh": "随机种子"},
    "ctl_float64": {
        "en": "Compute in float64 (slower; float32 by default)",
        "zh": "使用 float64 计算（较慢；默认 float32）",
    },
    "ctl_log_x": {"en": "Logarithmic distance axis", "zh": "距离轴使用对数刻度"},
    "cell_elman": {"en": "Elman (vanilla RNN)", "zh": "Elman（普通 RNN）"},
    "cell_lstm": {"en": "LSTM", "zh": "LSTM（长短期记忆）"},
    "cell_gru": {"en": "GRU", "zh": "GRU（门控循环单元）"},
    "cell_lru": {"en": "LRU (linear recurrent unit)", "zh": "LRU（线性循环单元）"},
    "init_normal": {"en": "normal N(0, ρ²/H)", "zh": "正态 N(0, ρ²/H)"},
    "init_orthogonal": {"en": "orthogonal", "zh": "正交矩阵"},
    "init_identity": {"en": "identity", "zh": "单位矩阵"},
    "nl_tanh": {"en": "tanh", "zh": "tanh"},
    "nl_relu": {"en": "ReLU", "zh": "ReLU"},
    "nl_linear": {"en": "linear (none)", "zh": "线性（无）"},
    "axis_distance": {"en": "distance from the loss (steps)", "zh": "与损失的距离（步）"},
    "axis_grad": {"en": "‖∂L/∂h_t‖ (log10)", "zh": "‖∂L/∂h_t‖（log10）"},
    "threshold": {
        "en": "memory-horizon threshold: 10⁻⁶ of the value at the loss",
        "zh": "记忆视界阈值：损失处数值的 10⁻⁶",
    },
    "m_rate": {"en": "Decay rate (nats/step)", "zh": "衰减率（奈特/步）"},
    "m_rate_value": {"en": "{v:+.4g}", "zh": "{v:+.4g}"},
    "m_rate_help": {
        "en": "Slope of ln‖∂L/∂h_t‖ per step of distance (least-squares fit). Negative: "
        "the gradient vanishes; positive: it explodes. A rate r shrinks the gradient "
        "tenfold every ln(10)/|r| steps.",
        "zh": "ln‖∂L/∂h_t‖ 随距离变化的斜率（最小二乘拟合）。负值表示梯度消失，正值表示梯度爆炸。"
        "衰减率为 r 时，梯度每 ln(10)/|r| 步缩小十倍。",
    },
    "m_horizon": {"en": "Memory horizon", "zh": "记忆视界"},
    "m_horizon_value": {"en": "{v:,.0f} steps", "zh": "{v:,.0f} 步"},
    "m_horizon_inf": {"en": "∞ (beyond T)", "zh": "∞（超过 T）"},
    "m_horizon_help": {
        "en": "The distance at which ‖∂L/∂h_t‖ first falls below 10⁻⁶ of its value at "
        "the loss: how far back the loss can still teach the network anything.",
        "zh": "‖∂L/∂h_t‖ 首次降到损失处数值 10⁻⁶ 以下的距离：损失最远还能把学习信号传回多少步。",
    },
    "m_regime": {"en": "Regime", "zh": "状态"},
    "m_regime_help": {
        "en": "vanishing: decay rate < −0.001 nats/step; exploding: > +0.001; stable in between.",
        "zh": "消失：衰减率 < −0.001 奈特/步；爆炸：> +0.001；介于两者之间为稳定。",
    },
    "m_time": {"en": "Compute time (BPTT)", "zh": "计算耗时（BPTT）"},
    "regime_vanishing": {"en": "vanishing", "zh": "梯度消失"},
    "regime_stable": {"en": "stable", "zh": "稳定"},
    "regime_exploding": {"en": "exploding", "zh": "梯度爆炸"},
    "col_cell": {"en": "cell", "zh": "单元"},
    "col_rate": {"en": "decay rate (nats/step)", "zh": "衰减率（奈特/步）"},
    "col_horizon": {"en": "memory horizon (steps)", "zh": "记忆视界（步）"},
    "col_regime": {"en": "regime", "zh": "状态"},
    # -- page 1: the problem ---------------------------------------------------------------
    "p1_title": {"en": "Why do RNNs forget?", "zh": "RNN 为什么会“遗忘”？"},
    "p1_intro": {
        "en": "Language carries meaning over long distances. In *“**Zhang San** borrowed "
        "**a book** from the library yesterday; the reading room was crowded, the queue at "
        "the loan desk was long, and it rained on the way home — **he** thinks **it** is "
        "interesting”*, the words *he* and *it* make sense only if the reader still "
        "remembers *Zhang San* and *a book* from the very beginning. Three things depend "
        "on such long-range links:\n\n"
        "- **Meaning spread over a sentence** — the facts that matter are often far "
        "apart, and the sentence is understood only when they are put together.\n"
        "- **Reference** — pronouns (*he*, *it*, *this*) point back to names many words "
        "earlier (coreference).\n"
        "- **Coherence** — a paragraph or a story must stay consistent with what was "
        "said several sentences ago.\n\n"
        "A recurrent neural network (RNN) has to carry all of this in one hidden vector "
        "that it rewrites at every word. This page shows what happens to that "
        "information on the way, and why.",
        "zh": "语言的意义常常跨越很长的距离。在“**张三**昨天在图书馆借了**一本书**，阅览室里人很多，"
        "借书处排着长队，回家路上还下起了雨——**他**觉得**这本书**很有意思”这句话里，"
        "读者只有还记得开头的“张三”和“一本书”，才能明白“他”和“这本书”指的是谁、是什么。"
        "长程依赖体现在三个方面：\n\n"
        "- **语义分散**：关键信息往往相隔很远，只有把它们联系起来才能理解整句话。\n"
        "- **指代关系**：代词（他、它、这）指向许多词之前出现的名字（共指）。\n"
        "- **连贯性**：一段话、一个故事必须与几句之前说过的内容保持一致。\n\n"
        "循环神经网络（RNN）必须把这一切装进一个隐藏向量，并且每读一个词就把它改写一次。"
        "本页展示这些信息在传递途中发生了什么，以及为什么。",
    },
    "p1_tel_header": {"en": "The telephone game, live", "zh": "传话游戏（实时计算）"},
    "p1_tel_intro": {
        "en": "A message is whispered down a line of people. Each person hears only the "
        "previous one, mixes in a little of their own noise and passes it on — exactly "
        "how an RNN hands its hidden state from one step to the next. The curves are not "
        "a drawing: they are the fraction of the first message (a unit perturbation of "
        "the initial state) still present after each person, computed with "
        "`ld.sensitivity` for a vanilla tanh RNN and an LSTM (32 units, random inputs). "
        "Attention is the flat reference: in a Transformer every person hears the "
        "original message directly.",
        "zh": "一条消息沿着一排人悄悄传下去。每个人只听到前一个人说的话，再掺进一点自己的“噪声”后传给下一个人——"
        "这正是 RNN 把隐藏状态一步步传下去的方式。下面的曲线不是示意图：它们是第一条消息"
        "（对初始状态的单位扰动）在每个人之后仍然保留的比例，由 `ld.sensitivity` 对普通 tanh RNN "
        "和 LSTM（32 个单元、随机输入）实时算出。自注意力是一条水平的参照线："
        "在 Transformer 里，每个人都能直接听到原始消息。",
    },
    "p1_tel_slider": {"en": "Number of people in the line", "zh": "传话队伍的人数"},
    "p1_tel_x": {"en": "person in the line", "zh": "队伍中的第几个人"},
    "p1_tel_y": {
        "en": "message left (log scale)",
        "zh": "消息保留比例（对数坐标）",
    },
    "p1_model_rnn": {"en": "vanilla RNN (tanh)", "zh": "普通 RNN（tanh）"},
    "p1_model_lstm": {"en": "LSTM", "zh": "LSTM"},
    "p1_model_attention": {"en": "attention (Transformer)", "zh": "自注意力（Transformer）"},
    "p1_tel_heard": {"en": "What person {n} hears", "zh": "第 {n} 个人听到的内容"},
    "p1_tel_share": {"en": "{pct} of the message left", "zh": "消息还剩 {pct}"},
    "p1_tel_nothing": {"en": "(nothing recognisable)", "zh": "（已无法辨认）"},
    "p1_tel_caption": {
        "en": "How to read it: the vertical axis is logarithmic, each step down is ten "
        "times less. The vanilla RNN keeps only a fixed share per person, so its curve "
        "falls as a straight line — exponential forgetting. The LSTM's forget gates keep "
        "an additive memory path open and its curve falls far more slowly. Details (the "
        "time, the topic) need a large share to get through and are lost first.",
        "zh": "读图方法：纵轴是对数刻度，每向下一格表示少十倍。普通 RNN 每经过一个人只保留固定比例，"
        "因此曲线是一条直线下降——指数式遗忘。LSTM 的遗忘门保留了一条“加法”记忆通路，"
        "曲线下降得慢得多。细节（时间、主题）需要较大的保留比例才能传过去，所以最先丢失。",
    },
    "p1_hidden_header": {"en": "How an RNN passes its hidden state", "zh": "RNN 如何传递隐藏状态"},
    "p1_hidden_text": {
        "en": "At every step t the network reads one input x_t and rewrites its hidden "
        "state h_t from the previous one:",
        "zh": "在每一步 t，网络读入一个输入 x_t，并由上一步的隐藏状态改写出新的 h_t：",
    },
    "p1_hidden_after": {
        "en": "The same weights W_hh and W_ih are used at every step. Everything the "
        "network knows about the past must fit into h_t: there is no other channel from "
        "word 1 to word 100.",
        "zh": "每一步都使用同一组权重 W_hh 和 W_ih。网络对过去的全部了解都必须装进 h_t："
        "从第 1 个词到第 100 个词，没有别的通道。",
    },
    "p1_bptt_header": {
        "en": "What backpropagation through time does",
        "zh": "随时间反向传播（BPTT）做了什么",
    },
    "p1_bptt_text": {
        "en": "Training sends the error backwards along the same chain. The gradient that "
        "reaches step t from a loss at step T is a product of T − t Jacobians:",
        "zh": "训练时，误差沿着同一条链反向传回。从第 T 步的损失传到第 t 步的梯度，是 T − t 个雅可比矩阵的乘积：",
    },
    "p1_bptt_after": {
        "en": "If the typical gain of J is below 1, the product shrinks exponentially with "
        "the distance T − t: **vanishing gradients** — distant words get no say in what "
        "the network learns. If it is above 1, the product blows up: **exploding "
        "gradients** — training becomes unstable. For tanh, φ′ ≤ 1 and saturated units "
        "have φ′ ≈ 0, which pushes towards vanishing; a gain of exactly 1 for thousands "
        "of steps is a knife edge. The **Decay curves** page measures this product "
        "exactly, over up to a million steps.",
        "zh": "如果 J 的典型增益小于 1，乘积随距离 T − t 指数缩小：**梯度消失**——远处的词对网络学到什么毫无影响。"
        "如果增益大于 1，乘积会急剧膨胀：**梯度爆炸**——训练变得不稳定。对 tanh 来说 φ′ ≤ 1，"
        "饱和单元的 φ′ ≈ 0，这会把网络推向梯度消失；而让增益在成千上万步里恰好保持为 1，"
        "就像走在刀刃上。“衰减曲线”页面会精确测量这个乘积，最长可达一百万步。",
    },
    "p1_pros_header": {"en": "Plain RNN: strengths", "zh": "普通 RNN 的优点"},
    "p1_pros": {
        "en": "- **Simple**: one update rule, a few lines of code.\n"
        "- **Shared parameters**: the same weights at every step, so a small model that "
        "takes sequences of any length.\n"
        "- **Streaming**: constant memory per step, works online.\n"
        "- **Good on short sequences**: local patterns over a few steps are learned well.",
        "zh": "- **简单**：一条更新规则，几行代码即可实现。\n"
        "- **参数共享**：每一步使用同一组权重，模型小，可处理任意长度的序列。\n"
        "- **流式处理**：每一步占用的内存固定，可以在线运行。\n"
        "- **擅长短序列**：几步之内的局部模式学得很好。",
    },
    "p1_cons_header": {"en": "…and weaknesses", "zh": "……以及缺点"},
    "p1_cons": {
        "en": "- **Long-range information fades**: every step keeps only part of the past.\n"
        "- **Gradient problems limit the effective memory**: vanishing gradients mean "
        "distant dependencies are never learned; exploding ones make training unstable.\n"
        "- **Training needs tricks**: gradient clipping, careful initialisation, small "
        "learning rates.\n"
        "- **Sequential**: step t needs step t − 1, so training does not parallelise "
        "over time.",
        "zh": "- **长距离信息逐渐消失**：每一步只保留过去的一部分。\n"
        "- **梯度问题限制了有效记忆**：梯度消失让远距离依赖根本学不到，梯度爆炸让训练不稳定。\n"
        "- **训练需要技巧**：梯度裁剪、精心的初始化、较小的学习率。\n"
        "- **只能顺序计算**：第 t 步依赖第 t − 1 步，训练无法在时间维度上并行。",
    },
    "p1_impact_header": {"en": "Where it hurts in practice", "zh": "在实际应用中的影响"},
    "p1_impact_translation": {
        "en": "**Machine translation** — the subject of a long sentence is forgotten by "
        "its end: wrong pronouns, wrong agreement in gender or number.",
        "zh": "**机器翻译**——长句末尾已经忘了主语：代词用错，性、数不一致。",
    },
    "p1_impact_generation": {
        "en": "**Text generation** — the text drifts off topic; names and facts from the "
        "first paragraph are contradicted later.",
        "zh": "**文本生成**——内容逐渐跑题，后文与第一段中的人名、事实相矛盾。",
    },
    "p1_impact_qa": {
        "en": "**Question answering** — when the question and the sentence that answers "
        "it are far apart, the evidence has faded before it is needed.",
        "zh": "**问答系统**——问题与包含答案的句子相距太远时，证据在用到之前就已经淡化了。",
    },
    "p1_impact_speech": {
        "en": "**Speech recognition** — distant context (the topic, the speaker, earlier "
        "words) cannot help to resolve an ambiguous sound.",
        "zh": "**语音识别**——无法利用远处的上下文（话题、说话人、前面的词）来分辨含糊的发音。",
    },
    "p1_next": {
        "en": "Next: measure the decay yourself on **Decay curves**, then compare the "
        "fixes on **Remedies**.",
        "zh": "下一步：在“衰减曲线”页面亲手测量衰减，再到“补救方法”页面比较各种解决办法。",
    },
    # -- page 2: decay curves --------------------------------------------------------------
    "p2_title": {
        "en": "Decay curves: how fast does the gradient fade?",
        "zh": "衰减曲线：梯度衰减得有多快？",
    },
    "p2_intro": {
        "en": "The loss L = v · h_{T−1} sits at the last step (‖v‖ = 1). The chart shows "
        "‖∂L/∂h_t‖ — how strongly the hidden state t steps before the loss can still be "
        "corrected by it — computed exactly by BPTT in the log domain, so values far "
        "below 10⁻³⁰⁸ (the smallest float64) still show.",
        "zh": "损失 L = v · h_{T−1} 位于最后一步（‖v‖ = 1）。图中画的是 ‖∂L/∂h_t‖——损失还能在多大程度上"
        "修正它之前若干步的隐藏状态——由 BPTT 在对数域中精确计算，因此远低于 10⁻³⁰⁸"
        "（float64 的最小值）的数值也能显示。",
    },
    "p2_measured": {"en": "measured (exact BPTT)", "zh": "实测（精确 BPTT）"},
    "p2_theory_exact_linear": {
        "en": "theory: ρᵏ (exact for orthogonal W_hh)",
        "zh": "理论：ρᵏ（W_hh 为正交矩阵时精确）",
    },
    "p2_theory_linearised": {
        "en": "tanh linearised at h = 0: ρᵏ",
        "zh": "tanh 在 h = 0 处线性化：ρᵏ",
    },
    "p2_theory_lru": {
        "en": "theory: √(Σᵢ |λᵢ|²ᵏ / H) (exact)",
        "zh": "理论：√(Σᵢ |λᵢ|²ᵏ / H)（精确）",
    },
    "p2_caption": {
        "en": "How to read it: a straight falling line is exponential decay, and its "
        "slope is the decay rate. The dashed line is the theory: for a linear cell the "
        "norm is ρᵏ (exactly so when W_hh is orthogonal, asymptotically otherwise); for "
        "tanh it is the linearisation at h = 0, and saturation (φ′ < 1) makes the "
        "measured curve fall faster; for the LRU each eigenvalue contributes |λᵢ|ᵏ exactly.",
        "zh": "读图方法：一条下降的直线就是指数衰减，它的斜率就是衰减率。虚线是理论值：线性单元的范数为 ρᵏ"
        "（W_hh 为正交矩阵时精确成立，否则为渐近值）；tanh 单元对应在 h = 0 处的线性化，"
        "饱和（φ′ < 1）会让实测曲线下降得更快；LRU 中每个特征值精确地贡献 |λᵢ|ᵏ。",
    },
    "p2_no_theory": {
        "en": "No closed-form overlay for this cell: its Jacobian depends on the gate "
        "values or active units along the trajectory.",
        "zh": "此单元没有闭式理论曲线：它的雅可比矩阵取决于轨迹上的门控值或激活单元。",
    },
    "p2_overflow": {
        "en": "The forward pass left the floating-point range, so there is no curve for "
        "these settings. The library says: {msg}",
        "zh": "前向计算超出了浮点数范围，这组参数无法画出曲线。程序库的提示：{msg}",
    },
    "p2_heavy": {
        "en": "These settings need about {s:.0f} s of computation (H² × T work per pass). "
        "Press the button to run them; smaller H or T stay interactive.",
        "zh": "这组参数大约需要计算 {s:.0f} 秒（每次计算量约为 H² × T）。点击按钮开始计算；"
        "较小的 H 或 T 可以保持实时交互。",
    },
    "p2_heavy_go": {"en": "Compute", "zh": "开始计算"},
    "p2_slow": {
        "en": "Long sequences with large H take a second or two; results are cached, so "
        "going back to earlier settings is instant.",
        "zh": "长序列配合较大的 H 需要一两秒；结果会被缓存，回到之前的设置会立即显示。",
    },
    # -- page 3: remedies ------------------------------------------------------------------
    "p3_title": {"en": "Remedies, side by side", "zh": "补救方法对比"},
    "p3_intro": {
        "en": "One task — the same random input sequence and the same loss at the last "
        "step — and ten ways to build the recurrence. Click a name in the legend to "
        "highlight it (shift-click for several, double-click the chart to reset).",
        "zh": "同一个任务——相同的随机输入序列、最后一步上相同的损失——和十种构造循环的方式。"
        "点击图例中的名字可以突出显示该曲线（按住 Shift 可选多条，双击图表恢复）。",
    },
    "p3_table": {"en": "Memory horizons", "zh": "各方法的记忆视界"},
    "p3_how": {"en": "How each remedy works", "zh": "每种方法的原理"},
    "p3_errors": {"en": "{name}: not computed ({msg})", "zh": "{name}：未能计算（{msg}）"},
    "rem_vanilla": {"en": "vanilla tanh RNN", "zh": "普通 tanh RNN"},
    "rem_residual": {"en": "+ residual connection", "zh": "+ 残差连接"},
    "rem_layer_norm": {"en": "+ layer normalisation", "zh": "+ 层归一化"},
    "rem_orthogonal": {"en": "orthogonal init", "zh": "正交初始化"},
    "rem_identity": {"en": "identity init + ReLU (IRNN)", "zh": "单位矩阵初始化 + ReLU（IRNN）"},
    "rem_lstm": {"en": "LSTM (forget bias 1)", "zh": "LSTM（遗忘门偏置 1）"},
    "rem_lstm_chrono": {"en": "LSTM (chrono init)", "zh": "LSTM（chrono 初始化）"},
    "rem_gru": {"en": "GRU", "zh": "GRU"},
    "rem_lru": {"en": "LRU (|λ| near 1)", "zh": "LRU（|λ| 接近 1）"},
    "rem_attention": {"en": "self-attention", "zh": "自注意力"},
    "rem_vanilla_how": {
        "en": "h_t = tanh(W_hh h_{t−1} + W_ih x_t) with W_hh ~ N(0, 1/H): the baseline. "
        "Each step multiplies the gradient by diag(φ′) W_hh; saturated units cut it.",
        "zh": "h_t = tanh(W_hh h_{t−1} + W_ih x_t)，W_hh ~ N(0, 1/H)：基准模型。"
        "每一步梯度都要乘以 diag(φ′) W_hh，饱和的单元会把它切断。",
    },
    "rem_residual_how": {
        "en": "h_t = h_{t−1} + α·tanh(…) (α = 0.5): the Jacobian becomes I + α·diag(φ′) W_hh, "
        "so an identity path carries the gradient even when the units saturate — the "
        "same idea as ResNets and the Transformer's skip connections.",
        "zh": "h_t = h_{t−1} + α·tanh(…)（α = 0.5）：雅可比矩阵变为 I + α·diag(φ′) W_hh，"
        "即使单元饱和，恒等通路也能传递梯度——与 ResNet 和 Transformer 中的跳跃连接是同一思想。",
    },
    "rem_layer_norm_how": {
        "en": "tanh(LN(a)): normalising the pre-activation keeps it in tanh's sensitive "
        "range, which steadies the scale of the states. It eases optimisation but does "
        "not by itself create a long memory path.",
        "zh": "tanh(LN(a))：对激活前的值做归一化，使其保持在 tanh 的敏感区间，稳定了状态的尺度。"
        "它让优化更容易，但本身并不会产生长程记忆通路。",
    },
    "rem_orthogonal_how": {
        "en": "W_hh orthogonal: every eigenvalue has modulus 1, so the linear part of each "
        "step preserves norms exactly. What is left of the decay is the tanh saturation.",
        "zh": "W_hh 为正交矩阵：所有特征值的模都是 1，每一步的线性部分精确地保持范数不变。"
        "剩下的衰减只来自 tanh 的饱和。",
    },
    "rem_identity_how": {
        "en": "W_hh = I with ReLU (Le et al. 2015): active units pass the gradient with "
        "slope exactly 1, so at the start of training the network copies its state.",
        "zh": "W_hh = I 并使用 ReLU（Le 等，2015）：激活的单元以恰好为 1 的斜率传递梯度，"
        "因此训练开始时网络会原样复制自己的状态。",
    },
    "rem_lstm_how": {
        "en": "c_t = f ⊙ c_{t−1} + i ⊙ g: the cell state is updated additively, and along "
        "it the gradient is multiplied only by the forget gate f. A forget bias of 1 "
        "keeps f ≈ 0.73 at the start.",
        "zh": "c_t = f ⊙ c_{t−1} + i ⊙ g：细胞状态以加法方式更新，梯度沿这条路径只乘以遗忘门 f。"
        "遗忘门偏置为 1 时，训练开始时 f ≈ 0.73。",
    },
    "rem_lstm_chrono_how": {
        "en": "Chrono init (Tallec & Ollivier 2018): forget biases b_f ~ log U(1, T−1), so "
        "the units' memory times are spread up to T steps and f is close to 1 for many "
        "of them.",
        "zh": "Chrono 初始化（Tallec 和 Ollivier，2018）：遗忘门偏置 b_f ~ log U(1, T−1)，"
        "各单元的记忆时间分布到 T 步，许多单元的 f 接近 1。",
    },
    "rem_gru_how": {
        "en": "h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}: the update gate z interpolates between "
        "keeping the old state and writing a new one, an additive path like the LSTM's.",
        "zh": "h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}：更新门 z 在保留旧状态与写入新状态之间插值，"
        "与 LSTM 一样提供了加法通路。",
    },
    "rem_lru_how": {
        "en": "A linear, diagonal complex recurrence h_t = λ ⊙ h_{t−1} + γ B x_t (Orvieto "
        "et al. 2023) with |λ| in [0.9, 0.999]: no saturation, and the decay per step is "
        "set directly by |λ| — the state-space-model line of work.",
        "zh": "线性、对角的复数循环 h_t = λ ⊙ h_{t−1} + γ B x_t（Orvieto 等，2023），|λ| 取在 [0.9, 0.999]："
        "没有饱和，每一步的衰减直接由 |λ| 决定——即状态空间模型这一路线。",
    },
    "rem_attention_how": {
        "en": "Self-attention reads every earlier position directly: the path from the "
        "loss to step t is one step long whatever the distance, so nothing has to survive "
        "a long chain — everyone in the telephone game hears the original.",
        "zh": "自注意力直接读取之前的每一个位置：无论距离多远，从损失到第 t 步的路径都只有一步，"
        "信息不必穿过一条长链——传话游戏中的每个人都能听到原话。",
    },
    "rem_pretrain_how": {
        "en": "**Pre-training then fine-tuning** changes the starting weights rather than "
        "the architecture, so it is not a curve here: a model pre-trained on a large "
        "corpus starts fine-tuning with gates and weights already tuned to keep useful "
        "information. Load such a model on **Your model** to measure it.",
        "zh": "**先预训练再微调**改变的是初始权重而不是结构，所以这里没有对应曲线：在大规模语料上预训练过的模型，"
        "开始微调时门控和权重已经学会保留有用的信息。可以在“你的模型”页面加载这样的模型来测量。",
    },
    "p3_clip_header": {
        "en": "Gradient clipping: what it can and cannot do",
        "zh": "梯度裁剪：能做什么，不能做什么",
    },
    "p3_clip_text": {
        "en": "Clipping rescales the **whole** gradient when its norm exceeds a threshold "
        "c: g ← g · min(1, c / ‖g‖). That bounds an exploding gradient, so one update can "
        "no longer throw the weights far away. But every per-step contribution is "
        "multiplied by the same factor, so the **ratio** between a distant step and a "
        "recent one does not change: a signal that has vanished stays vanished. The "
        "numbers below come from the library's exact gradient norms (tanh RNN, H = {H}, "
        "T = {T}); ‖g‖ is the norm of all per-step gradients (∂L/∂h_0, …, ∂L/∂h_{{T−1}}) "
        "together.",
        "zh": "当梯度范数超过阈值 c 时，梯度裁剪把**整个**梯度按比例缩小：g ← g · min(1, c / ‖g‖)。"
        "这限制了爆炸的梯度，一次更新不会再把权重甩得很远。但每一步的贡献都乘以同一个因子，"
        "远处与近处梯度的**比值**不会改变：已经消失的信号仍然消失。下表数字来自程序库精确计算的梯度范数"
        "（tanh RNN，H = {H}，T = {T}）；‖g‖ 是所有逐步梯度 (∂L/∂h_0, …, ∂L/∂h_{{T−1}}) 合在一起的范数。",
    },
    "p3_clip_c": {"en": "Clipping threshold c", "zh": "裁剪阈值 c"},
    "p3_clip_far": {"en": "Distance k of the far step", "zh": "远处步的距离 k"},
    "clip_vanishing": {"en": "vanishing (gain 1)", "zh": "梯度消失（增益 1）"},
    "clip_exploding": {"en": "exploding (gain 3)", "zh": "梯度爆炸（增益 3）"},
    "clip_col_case": {"en": "case", "zh": "情形"},
    "clip_col_total": {"en": "‖g‖ before", "zh": "裁剪前 ‖g‖"},
    "clip_col_scale": {"en": "factor min(1, c/‖g‖)", "zh": "因子 min(1, c/‖g‖)"},
    "clip_col_total_after": {"en": "‖g‖ after", "zh": "裁剪后 ‖g‖"},
    "clip_col_recent": {"en": "recent ‖∂L/∂h‖ (k = 0) after", "zh": "裁剪后近处 ‖∂L/∂h‖（k = 0）"},
    "clip_col_far": {"en": "far ‖∂L/∂h‖ (k = {k}) after", "zh": "裁剪后远处 ‖∂L/∂h‖（k = {k}）"},
    "clip_col_ratio": {"en": "far / recent before", "zh": "裁剪前 远/近"},
    "clip_col_ratio_after": {"en": "far / recent after", "zh": "裁剪后 远/近"},
    "p3_clip_conclusion": {
        "en": "Clipping brought the exploding gradient from {total} down to {after}, but "
        "in the vanishing case the far/recent ratio is {ratio} before and {ratio_after} "
        "after: clipping cannot repair vanishing. Only the architecture or the "
        "initialisation can — compare the curves above.",
        "zh": "梯度裁剪把爆炸的梯度从 {total} 压到了 {after}，但在梯度消失的情形下，远/近比值裁剪前是 {ratio}，"
        "裁剪后仍是 {ratio_after}：梯度裁剪无法修复梯度消失。只有改变结构或初始化才行——请对比上面的曲线。",
    },
    # -- page 4: landscape -----------------------------------------------------------------
    "p4_title": {
        "en": "Landscape: order, chaos and the edge between",
        "zh": "参数全景：有序、混沌与两者之间的临界边缘",
    },
    "p4_intro": {
        "en": "Each cell of the heatmap is one tanh RNN; its colour is the decay rate (or "
        "memory horizon) of its gradient over T steps. Blue: the gradient vanishes (the "
        "ordered phase); red: it explodes (the chaotic phase). Long memory is found only "
        "near the boundary between them — the edge of chaos.",
        "zh": "热力图中的每个格子都是一个 tanh RNN，颜色表示它的梯度在 T 步内的衰减率（或记忆视界）。"
        "蓝色：梯度消失（有序相）；红色：梯度爆炸（混沌相）。只有在两者的分界附近——混沌边缘——才有长程记忆。",
    },
    "p4_mode": {"en": "Axes", "zh": "坐标轴"},
    "p4_mode_gain_input": {
        "en": "gain × input scale (H fixed)",
        "zh": "增益 × 输入尺度（H 固定）",
    },
    "p4_mode_radius_H": {
        "en": "spectral radius × hidden size",
        "zh": "谱半径 × 隐藏维度",
    },
    "p4_quantity": {"en": "Colour", "zh": "颜色表示"},
    "q_rate": {"en": "decay rate (nats/step)", "zh": "衰减率（奈特/步）"},
    "q_horizon": {"en": "memory horizon (log10 steps)", "zh": "记忆视界（log10 步）"},
    "p4_nx": {"en": "Grid points along x", "zh": "x 方向网格点数"},
    "p4_ny": {"en": "Grid points along y", "zh": "y 方向网格点数"},
    "p4_x_gain": {"en": "gain of W_hh (weight std × √H)", "zh": "W_hh 的增益（权重标准差 × √H）"},
    "p4_y_input": {"en": "input scale (std of W_ih)", "zh": "输入尺度（W_ih 的标准差）"},
    "p4_x_radius": {"en": "spectral radius ρ of W_hh", "zh": "W_hh 的谱半径 ρ"},
    "p4_y_H": {"en": "hidden size H (log scale)", "zh": "隐藏维度 H（对数刻度）"},
    "p4_edge_measured": {
        "en": "measured edge: decay rate = 0",
        "zh": "实测边缘：衰减率 = 0",
    },
    "p4_edge_theory_mf": {
        "en": "mean-field edge χ = 1 (Poole et al. 2016)",
        "zh": "平均场边缘 χ = 1（Poole 等，2016）",
    },
    "p4_edge_theory_rho": {
        "en": "ρ = 1: the edge without input",
        "zh": "ρ = 1：无输入时的边缘",
    },
    "p4_edges": {"en": "Dashed lines: {lines}.", "zh": "虚线：{lines}。"},
    "p4_caption": {
        "en": "How to read it: stronger recurrent weights (to the right) push towards "
        "chaos; stronger inputs saturate tanh and push back towards order, so the edge "
        "bends to larger gains as the inputs grow. Memory horizons are capped at T.",
        "zh": "读图方法：循环权重越强（越往右），越接近混沌；输入越强，tanh 越饱和，把网络拉回有序，"
        "所以随着输入增强，边缘向更大的增益弯曲。记忆视界的上限为 T。",
    },
    "p4_lyap_header": {"en": "Lyapunov spectrum of one point", "zh": "单个参数点的李雅普诺夫谱"},
    "p4_lyap_text": {
        "en": "The Lyapunov exponents λ₁ ≥ λ₂ ≥ … are the average log growth rates (nats "
        "per step) of small perturbations of the state along orthogonal directions, "
        "computed with `ld.lyapunov_spectrum` (QR method). λ₁ < 0: ordered, perturbations "
        "and gradients die out; λ₁ > 0: chaotic, they grow. λ₁ is the long-run decay rate "
        "of the gradient.",
        "zh": "李雅普诺夫指数 λ₁ ≥ λ₂ ≥ … 是状态的微小扰动沿各正交方向的平均对数增长率（奈特/步），"
        "由 `ld.lyapunov_spectrum`（QR 方法）计算。λ₁ < 0：有序，扰动和梯度逐渐消失；λ₁ > 0：混沌，"
        "它们不断增长。λ₁ 就是梯度长期的衰减率。",
    },
    "p4_lyap_x": {"en": "exponent index i", "zh": "指数序号 i"},
    "p4_lyap_y": {"en": "Lyapunov exponent λᵢ (nats/step)", "zh": "李雅普诺夫指数 λᵢ（奈特/步）"},
    "p4_lyap_k": {"en": "Number of exponents k", "zh": "指数个数 k"},
    "p4_lyap_point_x": {"en": "x of the point", "zh": "参数点的 x"},
    "p4_lyap_point_y": {"en": "y of the point", "zh": "参数点的 y"},
    "p4_lyap_max": {"en": "Largest exponent λ₁ (nats/step)", "zh": "最大指数 λ₁（奈特/步）"},
    "p4_lyap_phase": {"en": "Phase", "zh": "相"},
    "p4_phase_ordered": {"en": "ordered", "zh": "有序"},
    "p4_phase_chaotic": {"en": "chaotic", "zh": "混沌"},
    "p4_lyap_missing": {
        "en": "The Lyapunov spectrum needs `ld.lyapunov_spectrum`, which this version of "
        "longdep does not have.",
        "zh": "李雅普诺夫谱需要 `ld.lyapunov_spectrum`，当前版本的 longdep 中还没有这个函数。",
    },
    # -- page 5: your model ----------------------------------------------------------------
    "p5_title": {"en": "Your model", "zh": "你的模型"},
    "p5_intro": {
        "en": "Load the weights of a trained single-layer RNN, LSTM or GRU and measure how "
        "its gradient decays, or open the results of a batch sweep.",
        "zh": "加载训练好的单层 RNN、LSTM 或 GRU 的权重，测量它的梯度如何衰减；或者打开批量扫描的结果。",
    },
    "p5_tab_weights": {"en": "Weights (.npz / .safetensors)", "zh": "权重（.npz / .safetensors）"},
    "p5_tab_sweep": {"en": "Sweep results (Parquet)", "zh": "扫描结果（Parquet）"},
    "p5_upload": {"en": "Weights file", "zh": "权重文件"},
    "p5_upload_help": {
        "en": "PyTorch state_dict names: weight_ih_l0, weight_hh_l0, bias_ih_l0, "
        "bias_hh_l0 (a prefix such as 'rnn.' is fine). The cell type follows from the "
        "shape: weight_hh has H rows (RNN), 3H (GRU) or 4H (LSTM). At most 200 MB.",
        "zh": "使用 PyTorch state_dict 的参数名：weight_ih_l0、weight_hh_l0、bias_ih_l0、bias_hh_l0"
        "（可以带前缀，如 'rnn.'）。单元类型由形状判断：weight_hh 有 H 行（RNN）、3H 行（GRU）"
        "或 4H 行（LSTM）。文件不超过 200 MB。",
    },
    "p5_example": {
        "en": "Example file (LSTM, H = 32)",
        "zh": "示例文件（LSTM，H = 32）",
    },
    "p5_waiting": {
        "en": "Upload a file to measure your model.",
        "zh": "上传文件以测量你的模型。",
    },
    "p5_found": {
        "en": "Found {kind} `{prefix}` with hidden size H = {H} and input size I = {I}.",
        "zh": "找到 {kind} `{prefix}`，隐藏维度 H = {H}，输入维度 I = {I}。",
    },
    "p5_layer": {"en": "Recurrent layer", "zh": "循环层"},
    "p5_nonlinearity_help": {
        "en": "A file does not record torch.nn.RNN's nonlinearity; choose the one the model used.",
        "zh": "文件中没有记录 torch.nn.RNN 的非线性函数，请选择模型实际使用的那一个。",
    },
    "p5_curve_caption": {
        "en": "Inputs are i.i.d. N(0, s²) with the chosen input scale s; the loss is "
        "v · h_{T−1} with a unit vector v.",
        "zh": "输入为独立同分布的 N(0, s²)，s 为所选输入尺度；损失为 v · h_{T−1}，v 为单位向量。",
    },
    "p5_sweep_upload": {
        "en": "Parquet files of a sweep (one per case)",
        "zh": "扫描结果的 Parquet 文件（每个算例一个）",
    },
    "p5_sweep_dir": {
        "en": "…or the path of a results folder on this machine",
        "zh": "……或本机上结果文件夹的路径",
    },
    "p5_shown": {"en": "Curves shown", "zh": "显示的曲线"},
    "p5_sweep_loaded": {
        "en": "Loaded {cases} curves from {files} files.",
        "zh": "已从 {files} 个文件中加载 {cases} 条曲线。",
    },
    "p5_sweep_waiting": {
        "en": "Each file needs the columns `distance`, `log_norm` (natural log) and one of "
        "`case`, `name` or `params`, as `longdep sweep` writes them (one file per case).",
        "zh": "每个文件需要包含 `distance`、`log_norm`（自然对数）以及 `case`、`name`、`params` 之一，"
        "与 `longdep sweep` 的输出格式一致（每个算例一个文件）。",
    },
    # -- validation errors (page 5) --------------------------------------------------------
    "err_empty": {"en": "'{file}' is empty.", "zh": "“{file}” 是空文件。"},
    "err_too_large": {
        "en": "'{file}' is {size:.0f} MB; the limit is {limit} MB.",
        "zh": "“{file}” 有 {size:.0f} MB，超过了 {limit} MB 的上限。",
    },
    "err_ext": {
        "en": "'{file}': unsupported file type. Upload a .npz or .safetensors file.",
        "zh": "“{file}”：不支持的文件类型。请上传 .npz 或 .safetensors 文件。",
    },
    "err_npz": {
        "en": "'{file}' is not a readable .npz archive ({detail}).",
        "zh": "“{file}” 不是可读取的 .npz 压缩包（{detail}）。",
    },
    "err_pickle": {
        "en": "'{file}' contains Python objects (pickled data) in '{name}'; only plain "
        "numeric arrays are accepted.",
        "zh": "“{file}” 的 “{name}” 中含有 Python 对象（pickle 数据）；只接受普通的数值数组。",
    },
    "err_safetensors": {
        "en": "'{file}' is not a valid .safetensors file: {detail}.",
        "zh": "“{file}” 不是有效的 .safetensors 文件：{detail}。",
    },
    "err_dtype": {
        "en": "Tensor '{name}' has dtype {dtype}; only floating-point weights are supported.",
        "zh": "张量 “{name}” 的数据类型是 {dtype}；只支持浮点类型的权重。",
    },
    "err_no_weights": {
        "en": "No recurrent weights found. Expected names such as weight_ih_l0 and "
        "weight_hh_l0; the file contains: {names}.",
        "zh": "没有找到循环层权重。需要 weight_ih_l0、weight_hh_l0 这样的参数名；文件中包含：{names}。",
    },
    "err_missing": {
        "en": "Found '{have}' but not '{missing}'.",
        "zh": "找到了 “{have}”，但没有 “{missing}”。",
    },
    "err_ndim": {
        "en": "'{name}' must be a {ndim}-D array; it has shape {shape}.",
        "zh": "“{name}” 必须是 {ndim} 维数组，实际形状为 {shape}。",
    },
    "err_ratio": {
        "en": "'{name}' has shape {shape}: its number of rows must be 1×, 3× or 4× its "
        "number of columns (RNN, GRU or LSTM).",
        "zh": "“{name}” 的形状是 {shape}：行数必须是列数的 1 倍、3 倍或 4 倍（分别对应 RNN、GRU、LSTM）。",
    },
    "err_shape": {
        "en": "'{name}' has shape {shape}; a {kind} with weight_hh {hh} needs {want}.",
        "zh": "“{name}” 的形状是 {shape}；weight_hh 为 {hh} 的 {kind} 需要 {want}。",
    },
    "err_nan": {
        "en": "'{name}' contains {count} NaN or infinite values.",
        "zh": "“{name}” 含有 {count} 个 NaN 或无穷大的值。",
    },
    "err_cell": {
        "en": "The weights do not form a valid cell: {detail}",
        "zh": "这些权重无法构成有效的循环单元：{detail}",
    },
    "err_parquet": {
        "en": "'{file}' is not a readable Parquet file ({detail}).",
        "zh": "“{file}” 不是可读取的 Parquet 文件（{detail}）。",
    },
    "err_columns": {
        "en": "'{file}' lacks the columns {missing}; a sweep result needs 'distance', "
        "'log_norm' and one of 'case', 'name' or 'params'.",
        "zh": "“{file}” 缺少列 {missing}；扫描结果需要 'distance'、'log_norm' 以及 'case'、'name'、'params' 三者之一。",
    },
    "err_values": {
        "en": "'{file}': column '{column}' must be numeric without NaN in 'distance'.",
        "zh": "“{file}”：列 “{column}” 必须是数值，且 'distance' 中不能有 NaN。",
    },
    "err_dir": {
        "en": "'{path}' is not a folder on this machine.",
        "zh": "“{path}” 不是本机上的文件夹。",
    },
    "err_no_parquet": {
        "en": "No .parquet files in '{path}'.",
        "zh": "“{path}” 中没有 .parquet 文件。",
    },
}


def text(key: str, lang: str, **kwargs: object) -> str:
    """The string ``key`` in ``lang`` (English if that language lacks it), formatted."""
    entry = STRINGS[key]
    template = entry.get(lang) or entry["en"]
    return template.format(**kwargs) if kwargs else template


def _from_locale(locale: str | None) -> str:
    return "zh" if locale and locale.lower().startswith("zh") else "en"


def resolve_language() -> str:
    """Pick the language for this run: ``?lang=``, then the session's choice, then the
    browser locale. Stores it in session state and mirrors it into the URL."""
    query = st.query_params.get("lang")
    if query in LANGS:
        lang = query
    elif st.session_state.get(_STATE_KEY) in LANGS:
        lang = st.session_state[_STATE_KEY]
    else:
        lang = _from_locale(getattr(st.context, "locale", None))
    st.session_state[_STATE_KEY] = lang
    if query != lang:
        st.query_params["lang"] = lang
    return lang


def _on_select() -> None:
    choice = st.session_state[_WIDGET_KEY]
    st.session_state[_STATE_KEY] = choice
    st.query_params["lang"] = choice


def language_selector(lang: str) -> str:
    """The sidebar language switch; returns the language in force."""
    st.session_state[_WIDGET_KEY] = lang
    st.sidebar.selectbox(
        text("language", lang),
        LANGS,
        format_func=LANG_NAMES.__getitem__,
        key=_WIDGET_KEY,
        on_change=_on_select,
    )
    return lang


def current_language() -> str:
    lang = st.session_state.get(_STATE_KEY)
    return lang if lang in LANGS else "en"


def translator(lang: str | None = None) -> Translator:
    """``tr(key, **kwargs)`` bound to ``lang`` (default: the session's language)."""
    use = lang or current_language()

    def tr(key: str, **kwargs: object) -> str:
        return text(key, use, **kwargs)

    return tr
