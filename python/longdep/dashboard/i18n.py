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
    "nav_training": {"en": "Training lab", "zh": "训练实验室"},
    "sidebar_about": {
        "en": "Every number on these pages is computed live by longdep's Rust core: exact "
        "BPTT gradient norms and forward sensitivities, in the log domain.",
        "zh": "本应用中的每个数字都由 longdep 的 Rust 内核实时计算：精确的 BPTT 梯度范数与前向敏感度，"
        "全部在对数域中计算。",
    },
    "computing": {"en": "Computing…", "zh": "计算中…"},
    "form_compute": {"en": "Compute", "zh": "计算"},
    "form_compute_help": {
        "en": "Moving a control computes nothing: the new settings count when you press "
        "this button.",
        "zh": "移动控件不会触发计算：按下此按钮后新的设置才会生效。",
    },
    "p4_progress": {
        "en": "Computing the grid: {rows} rows of {cols} cells…",
        "zh": "正在计算网格：{rows} 行，每行 {cols} 个格点…",
    },
    "p5_ref_progress": {
        "en": "Reference curves: {i} of {n} computed…",
        "zh": "参考曲线：已计算 {i} / {n} 条…",
    },
    "p3_progress": {
        "en": "Computing the curves of {n} cells…",
        "zh": "正在计算 {n} 种单元的曲线…",
    },
    "seconds": {"en": "{s:.2f} s", "zh": "{s:.2f} 秒"},
    "p4_pick_hint": {
        "en": "Click a cell of the map to inspect that point's Lyapunov spectrum below.",
        "zh": "点击图中的一格，即可在下方查看该点的李雅普诺夫谱。",
    },
    "p5_compare": {"en": "Compare with reference cells", "zh": "与参考单元比较"},
    "p5_compare_help": {
        "en": "Draw the decay of standard cells with the same hidden size, over the same "
        "inputs' scale and seed, beside your model's.",
        "zh": "在你的模型旁边画出隐藏维度相同、输入尺度和随机种子相同的标准单元的衰减曲线。",
    },
    "p5_yours": {"en": "your model", "zh": "你的模型"},
    # guided scenes ------------------------------------------------------------------------
    "scene_tour": {"en": "Guided tour", "zh": "导览"},
    "scene_of": {"en": "Scene {n} of {total}", "zh": "第 {n} 幕，共 {total} 幕"},
    "scene_vanishing_title": {"en": "See vanishing", "zh": "看梯度消失"},
    "scene_vanishing_text": {
        "en": "A plain tanh RNN whose recurrent matrix has spectral radius 0.8: every step "
        "back multiplies the gradient by at most about 0.8, so the curve falls in a straight "
        "line on the log axis. Read the memory horizon: beyond it, the loss no longer hears "
        "the input.",
        "zh": "一个普通的 tanh 循环网络，循环矩阵的谱半径为 0.8：每往回一步，梯度最多乘以约 0.8，"
        "所以在对数轴上曲线沿直线下降。看记忆视界：超过它，损失就再也“听不到”那个输入了。",
    },
    "scene_chaos_title": {"en": "The edge of chaos", "zh": "混沌的边缘"},
    "scene_chaos_text": {
        "en": "Each cell of the map is one network: spectral radius across, input scale up. "
        "Below radius 1 gradients vanish, above it they explode; the longest memory lies on "
        "the boundary between the two, the edge of chaos.",
        "zh": "图中每一格是一个网络：横轴是谱半径，纵轴是输入尺度。谱半径小于 1 时梯度消失，"
        "大于 1 时梯度爆炸；最长的记忆就在两者的交界处——混沌的边缘。",
    },
    "scene_clipping_title": {
        "en": "Clipping cannot fix vanishing",
        "zh": "梯度裁剪治不了消失",
    },
    "scene_clipping_text": {
        "en": "Gradient clipping only scales a gradient down when it is too large. It tames "
        "an explosion, but a gradient that has already vanished stays vanished: compare the "
        "far step's gradient with and without clipping in the table below.",
        "zh": "梯度裁剪只在梯度过大时把它缩小。它能压住爆炸，但已经消失的梯度仍然是消失的："
        "对比下表中远处那一步在裁剪前后的梯度。",
    },
    "scene_gates_title": {"en": "Gates keep the message", "zh": "门控留住信息"},
    "scene_gates_text": {
        "en": "An LSTM at its default initialisation: the forget gate and the additive cell "
        "path let the gradient fall far more slowly than in the plain RNN of scene 1, so its "
        "memory horizon is much longer.",
        "zh": "默认初始化下的 LSTM：遗忘门和相加的记忆单元通路让梯度下降得比第 1 幕的普通循环网络"
        "慢得多，所以记忆视界长得多。",
    },
    "scene_modern_title": {"en": "2023–2025 remedies", "zh": "2023–2025 年的新方法"},
    "scene_modern_text": {
        "en": "minGRU (2024) drops the recurrent matrix: its gate depends on the input only, "
        "so the recurrence is diagonal and can be trained in parallel over time. Switch the "
        "cell to minLSTM, RG-LRU, sLSTM or the selective SSM to compare them on the same "
        "axes.",
        "zh": "minGRU（2024）去掉了循环矩阵：它的门只依赖输入，所以递推是对角的，可以沿时间并行训练。"
        "把单元切换成 minLSTM、RG-LRU、sLSTM 或选择性 SSM，在同一坐标下比较它们。",
    },
    # urlstate / export -------------------------------------------------------------------
    "url_link": {"en": "Link to this view", "zh": "本视图的链接"},
    "url_link_help": {
        "en": "This address opens this page with every control as it is now, in this language. "
        "Copy it with the button at the right of the box.",
        "zh": "打开这个地址，会以当前语言显示本页，所有控件保持现在的取值。点击框右侧的按钮即可复制。",
    },
    "ctl_y_decades": {"en": "Range of the y axis", "zh": "纵轴范围"},
    "ctl_y_decades_help": {
        "en": "Curves that span thousands of decades merge into one band. Showing only the top "
        "decades, counted down from the highest point, keeps their differences visible; "
        "curves that fall lower leave the chart at its bottom edge.",
        "zh": "跨越成千上万个数量级的曲线会挤成一条带。只显示从最高点往下的若干个数量级，"
        "曲线之间的差别就看得清；降得更低的曲线从图的下边缘离开。",
    },
    "y_all": {"en": "all decades", "zh": "全部数量级"},
    "y_top": {"en": "top {n:,} decades", "zh": "最高的 {n:,} 个数量级"},
    "dl_csv": {"en": "Data (CSV)", "zh": "数据（CSV）"},
    "dl_csv_help": {
        "en": "The plotted points: one row per point, norms as log10 and as natural logs.",
        "zh": "图中画出的点：每个点一行，范数同时给出 log10 与自然对数。",
    },
    "dl_json": {"en": "Settings (JSON)", "zh": "设置（JSON）"},
    "dl_json_help": {
        "en": "Every setting of this view, to reproduce or compare the run.",
        "zh": "本视图的全部设置，用于复现或比较。",
    },
    "dl_png": {"en": "Chart (PNG)", "zh": "图表（PNG）"},
    "dl_svg": {"en": "Chart (SVG)", "zh": "图表（SVG）"},
    "m_horizon_steps": {"en": "Horizon (steps)", "zh": "记忆视界（步）"},
    "clip_col_what": {"en": "quantity", "zh": "量"},
    "m_hz_value": {"en": "{v:,.0f}", "zh": "{v:,.0f}"},
    "m_hz_beyond": {"en": "> {T:,}", "zh": "> {T:,}"},
    "m_hz_inf": {"en": "> T", "zh": "> T"},
    "m_hz_none": {"en": "none", "zh": "无"},
    "m_hz_grows": {
        "en": "Memory horizon “none”: the gradient grows, ×10 every {n:,.0f} steps.",
        "zh": "记忆视界为“无”：梯度在增长，每 {n:,.0f} 步 ×10。",
    },
    "desc_decay": {
        "en": "Line chart, gradient norm (log scale) against distance from the loss, up to "
        "{T:,} steps: {name} changes by {rate:+.3g} decades per step; memory horizon {horizon}.",
        "zh": "折线图：梯度范数（对数刻度）随与损失的距离变化，最远 {T:,} 步：{name} 每步变化 "
        "{rate:+.3g} 个数量级；记忆视界 {horizon}。",
    },
    "desc_remedies": {
        "en": "Line chart, gradient norm (log scale) of {n} cells against distance, up to {T:,} "
        "steps. Fastest decay: {fast} ({fast_rate:+.3g} decades per step); slowest: {slow} "
        "({slow_rate:+.3g} decades per step).",
        "zh": "折线图：{n} 种单元的梯度范数（对数刻度）随距离变化，最远 {T:,} 步。衰减最快：{fast}"
        "（每步 {fast_rate:+.3g} 个数量级）；最慢：{slow}（每步 {slow_rate:+.3g} 个数量级）。",
    },
    "desc_rates": {
        "en": "Bar chart, decay rate of {n} cells in decades per step, from {fast} "
        "({fast_rate:+.3g}) to {slow} ({slow_rate:+.3g}).",
        "zh": "条形图：{n} 种单元的衰减率（数量级/步），从 {fast}（{fast_rate:+.3g}）到 {slow}"
        "（{slow_rate:+.3g}）。",
    },
    "desc_telephone": {
        "en": "Line chart, share of the first person's message (log scale) after each of {n} "
        "people: {parts}.",
        "zh": "折线图：第一个人的消息在 {n} 个人之后还剩的比例（对数刻度）：{parts}。",
    },
    "desc_heatmap": {
        "en": "Heatmap of {q} over {x} ({nx} values) and {y} ({ny} values); {share} of the "
        "grid has an exploding gradient.",
        "zh": "热力图：{q}，横轴 {x}（{nx} 个取值），纵轴 {y}（{ny} 个取值）；网格中有 {share} "
        "的点梯度爆炸。",
    },
    "desc_lyapunov": {
        "en": "Bar chart of the {k} largest Lyapunov exponents; the largest is {l1:+.3g} nats "
        "per step ({phase}).",
        "zh": "条形图：最大的 {k} 个李雅普诺夫指数；最大者为每步 {l1:+.3g} 奈特（{phase}）。",
    },
    "desc_training": {
        "en": "Line chart, {what}, of {n} runs over {steps} training steps; at the end: {finals}.",
        "zh": "折线图：{n} 个训练运行的{what}，共 {steps} 步；最后：{finals}。",
    },
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
    "cell_mingru": {"en": "minGRU (2024)", "zh": "minGRU（2024 年）"},
    "cell_minlstm": {"en": "minLSTM (2024)", "zh": "minLSTM（2024 年）"},
    "cell_rglru": {"en": "RG-LRU (Griffin, 2024)", "zh": "RG-LRU（Griffin，2024 年）"},
    "cell_slstm": {"en": "sLSTM (xLSTM, 2024)", "zh": "sLSTM（xLSTM，2024 年）"},
    "cell_ssm": {"en": "Selective SSM (Mamba, 2023)", "zh": "选择性状态空间模型（Mamba，2023 年）"},
    "p2_paper_init": {
        "en": "This cell runs with its paper's initialisation (no radius control); the "
        "RG-LRU and the selective SSM read the input through a fixed random linear encoder, as "
        "their input size is H.",
        "zh": "这个单元使用其论文中的初始化（没有半径控制）；RG-LRU 和选择性 SSM 的输入维度等于 H，"
        "因此输入先经过一个固定的随机线性编码器。",
    },
    "init_normal": {"en": "normal N(0, ρ²/H)", "zh": "正态 N(0, ρ²/H)"},
    "init_orthogonal": {"en": "orthogonal", "zh": "正交矩阵"},
    "init_identity": {"en": "identity", "zh": "单位矩阵"},
    "nl_tanh": {"en": "tanh", "zh": "tanh"},
    "nl_relu": {"en": "ReLU", "zh": "ReLU"},
    "nl_linear": {"en": "linear (none)", "zh": "线性（无）"},
    "axis_distance": {"en": "distance from the loss (steps)", "zh": "与损失的距离（步）"},
    "axis_grad": {
        "en": "‖∂L/∂h_t‖ (log₁₀ scale; 1 decade = ln 10 ≈ 2.303 nats)",
        "zh": "‖∂L/∂h_t‖（log₁₀ 刻度；1 个数量级 = ln 10 ≈ 2.303 奈特）",
    },
    "threshold": {
        "en": "memory-horizon threshold: 10⁻⁶ of the value at the loss",
        "zh": "记忆视界阈值：损失处数值的 10⁻⁶",
    },
    "m_rate": {"en": "Decay rate (nats/step)", "zh": "衰减率（奈特/步）"},
    "m_rate_value": {"en": "{v:+.4g}", "zh": "{v:+.4g}"},
    "m_rate_help": {
        "en": "Slope of ln‖∂L/∂h_t‖ per step of distance (least-squares fit), in nats (natural-log "
        "units) per step; divide by ln 10 ≈ 2.303 for decades per step, the unit of the "
        "chart's log₁₀ axis. Negative: the gradient vanishes; positive: it explodes. A rate "
        "r shrinks the gradient tenfold every ln(10)/|r| steps.",
        "zh": "ln‖∂L/∂h_t‖ 随距离变化的斜率（最小二乘拟合），单位是奈特（自然对数）"
        "/步；除以 ln 10 ≈ 2.303 即为图中 log₁₀ 纵轴的单位："
        "数量级/步。负值表示梯度消失，正值表示梯度爆炸。衰减率为 r 时，梯度每 ln(10)/|r| 步缩小十倍。",
    },
    "m_horizon": {"en": "Memory horizon", "zh": "记忆视界"},
    "m_horizon_value": {"en": "{v:,.0f} steps", "zh": "{v:,.0f} 步"},
    "m_horizon_inf": {"en": "> T steps", "zh": "> T 步"},
    "m_horizon_beyond": {"en": "> {T:,} steps", "zh": "> {T:,} 步"},
    "m_horizon_grows": {"en": "none: ×10 every {n:,.0f} steps", "zh": "无：每 {n:,.0f} 步 ×10"},
    "m_horizon_beyond_note": {
        "en": "“> {T:,} steps”: the curve never drops below the threshold (10⁻⁶ of its value at "
        "the loss) within the T = {T:,} steps computed, so the memory is at least that long.",
        "zh": "“> {T:,} 步”：在计算的 T = {T:,} 步之内，曲线始终没有降到阈值（损失处数值的 10⁻⁶）"
        "以下，所以记忆至少有这么长。",
    },
    "m_horizon_grows_note": {
        "en": "An exploding gradient never drops below the threshold, so it has no memory horizon; "
        "its growth rate is shown instead (for a rate r > 0, ×10 every ln 10 / r steps).",
        "zh": "爆炸的梯度永远不会降到阈值以下，因此没有记忆视界；这里改为给出它的增长率（衰减率 r > 0 时，"
        "每 ln 10 / r 步增大 10 倍）。",
    },
    "m_horizon_help": {
        "en": "The distance at which ‖∂L/∂h_t‖ first falls below 10⁻⁶ of its value at the loss: "
        "how far back the loss can still teach the network anything. “> T steps”: the curve "
        "never drops below that threshold within the T steps computed. An exploding gradient "
        "has no horizon; its growth is shown instead.",
        "zh": "‖∂L/∂h_t‖ 首次降到损失处数值 10⁻⁶ 以下的距离：损失最远还能把学习信号传回多少步。"
        "“> T 步”：在计算的 T 步之内，曲线始终没有降到这个阈值以下。爆炸的梯度没有记忆视界，"
        "改为显示它的增长速度。",
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
    "col_rate10": {"en": "decay rate (decades/step)", "zh": "衰减率（数量级/步）"},
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
        "en": "How to read it: a straight falling line is exponential decay, and its slope is the "
        r"decay rate. The dashed line is the theory: for a linear cell the norm is $\rho^k$ "
        "(exactly so when $W_{hh}$ is orthogonal, asymptotically otherwise); for tanh it is "
        r"the linearisation at $h = 0$, and saturation ($\varphi' < 1$) makes the measured "
        r"curve fall faster; for the LRU each eigenvalue contributes $|\lambda_i|^k$ exactly.",
        "zh": "读图方法：一条下降的直线就是指数衰减，它的斜率就是衰减率。虚线是理论值："
        r"线性单元的范数为 $\rho^k$（$W_{hh}$ 为正交矩阵时精确成立，"
        r"否则为渐近值）；tanh 单元对应在 $h = 0$ 处的线性化，饱和（$\varphi' < 1$）"
        r"会让实测曲线下降得更快；LRU 中每个特征值精确地贡献 $|\lambda_i|^k$。",
    },
    "p2_no_theory": {
        "en": "No closed-form overlay for this cell: its Jacobian depends on the gate "
        "values or active units along the trajectory.",
        "zh": "此单元没有闭式理论曲线：它的雅可比矩阵取决于轨迹上的门控值或激活单元。",
    },
    "p2_units": {
        "en": "Units: the decay rate is in nats per step (natural log), the y axis in decades "
        "(log₁₀): {r:+.4g} nats/step = {d:+.3g} decades/step (divide by ln 10 ≈ 2.303).",
        "zh": "单位：衰减率以奈特/步（自然对数）计，纵轴以数量级（log₁₀）计：{r:+.4g} 奈特/步 = {d:+.3g} 数量级/步（除以 ln 10 ≈ 2.303）。",
    },
    "p2_overflow": {
        "en": "The forward pass left the floating-point range, so there is no curve for "
        "these settings. The library says: {msg}",
        "zh": "前向计算超出了浮点数范围，这组参数无法画出曲线。程序库的提示：{msg}",
    },
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
    "p3_rate_axis": {"en": "decay rate (decades/step)", "zh": "衰减率（数量级/步）"},
    "p3_rate_grow": {"en": "growing", "zh": "增长"},
    "p3_rate_decay": {"en": "decaying", "zh": "衰减"},
    "p3_how": {"en": "How each remedy works", "zh": "每种方法的原理"},
    "p3_errors": {"en": "{name}: not computed ({msg})", "zh": "{name}：未能计算（{msg}）"},
    "p3_units": {
        "en": "Decay rates in both units: nats per step (natural log, as the library reports them) "
        "and decades per step (log₁₀, the unit of the chart's y axis); 1 decade = ln 10 ≈ "
        "2.303 nats.",
        "zh": "衰减率给出两种单位：奈特/步（自然对数，即程序库的输出）和数量级/步（log₁₀，"
        "即图中纵轴的单位）；1 个数量级 = ln 10 ≈ 2.303 奈特。",
    },
    "p3_gru_header": {
        "en": "Why the GRU forgets fastest at its default initialisation",
        "zh": "为什么默认初始化的 GRU 遗忘得最快",
    },
    "p3_gru_toggle": {
        "en": r"Chrono init for the GRU: $b_z \sim \log \mathcal{U}(1, T-1)$",
        "zh": r"GRU 使用 chrono 初始化：$b_z \sim \log \mathcal{U}(1, T-1)$",
    },
    "p3_gru_toggle_help": {
        "en": "Sets the update-gate biases so that z = σ(b_z) starts close to 1, and each step "
        "keeps most of the old state (Tallec & Ollivier 2018). The chart and the table above "
        "follow this switch.",
        "zh": "设置更新门偏置，使 z = σ(b_z) 从接近 1 的值开始，每一步都保留大部分旧状态（Tallec 和 Ollivier，"
        "2018）。上面的图表和表格会随之更新。",
    },
    "p3_gru_text": {
        "en": r"The GRU's additive path is $h_t = (1 - z_t) \odot n_t + z_t \odot h_{{t-1}}$, and "
        "along it the gradient is multiplied by the update gate $z_t$ at every step. With "
        r"all biases 0 the gate starts at $\sigma(0) = {z0:.2f}$ (over this run its mean is "
        r"$\bar z = {z:.3f}$), so each step keeps only about half of the old state: the keep "
        r"path alone would decay at $\overline{{\ln z}} = {lnz:.3f}$ nats per step. The "
        "candidate path gives some of it back; the measured decay rate is **{rate}** "
        "nats/step and the memory horizon **{horizon}**, worse than the vanilla RNN's "
        "{vrate} nats/step and {vhorizon}. That lasts until chrono init (the switch above) "
        "or training moves the gate towards 1.",
        "zh": r"GRU 的加法通路是 $h_t = (1 - z_t) \odot n_t + z_t \odot h_{{t-1}}$，"
        r"梯度沿这条路径每一步都要乘以更新门 $z_t$。所有偏置为 0 时，门从 $\sigma(0) = {z0:.2f}$ 开始（本次运行中它的均值为 $\bar z = {z:.3f}$）"
        r"，因此每一步只保留大约一半的旧状态：仅凭保留通路，衰减率就是 $\overline{{\ln z}} = {lnz:.3f}$ 奈特/步。"
        "候选通路会补回一部分；实测衰减率为 **{rate}** 奈特/步，记忆视界为 **{horizon}**，"
        "比普通 RNN 的 {vrate} 奈特/步和 {vhorizon} 更差。"
        "直到 chrono 初始化（上面的开关）或训练把门推向 1，情况才会改变。",
    },
    "p3_gru_text_chrono": {
        "en": r"With chrono init (Tallec & Ollivier 2018) the update-gate biases are $b_z \sim \log "
        r"\mathcal{{U}}(1, T-1)$ with $T = {T}$, so the gate starts at $\sigma(b_z) \approx "
        r"{z0:.3f}$ on average and each step keeps most of the old state: over this run $\bar "
        r"z = {z:.3f}$, and the keep path decays at only $\overline{{\ln z}} = {lnz:.4f}$ "
        "nats per step. The measured decay rate becomes **{rate}** nats/step and the memory "
        "horizon **{horizon}** (vanilla RNN: {vrate} nats/step, {vhorizon}).",
        "zh": "使用 chrono 初始化（Tallec 和 Ollivier，2018）"
        r"时，更新门偏置为 $b_z \sim \log \mathcal{{U}}(1, T-1)$，"
        r"其中 $T = {T}$，因此门的初值平均为 $\sigma(b_z) \approx {z0:.3f}$，"
        r"每一步都保留大部分旧状态：本次运行中 $\bar z = {z:.3f}$，"
        r"保留通路的衰减率只有 $\overline{{\ln z}} = {lnz:.4f}$ 奈特/步。"
        "实测衰减率变为 **{rate}** 奈特/步，记忆视界为 **{horizon}**（普通 RNN："
        "{vrate} 奈特/步，{vhorizon}）。",
    },
    "p3_gru_z": {"en": "old state kept per step (mean z)", "zh": "每步保留的旧状态（z 的均值）"},
    "col_group": {"en": "group", "zh": "类别"},
    "group_classic": {"en": "classic", "zh": "经典方法"},
    "group_modern": {"en": "2023–2025", "zh": "2023–2025"},
    "p3_modern": {"en": "The 2023–2025 remedies", "zh": "2023–2025 年的新方法"},
    "p3_modern_text": {
        "en": "Since 2023 the field answers the long-range dependency problem with recurrences "
        "whose forgetting the input selects, and whose gates do not read h, so that a whole "
        "sequence can be trained with a parallel scan. Each runs here with its paper's "
        "initialisation, on the same input (the RG-LRU and the selective SSM, whose input "
        "size is H, read it "
        "through a fixed random linear encoder).",
        "zh": "自 2023 年起，研究者用新的循环结构来应对长程依赖问题：遗忘多少由输入决定，"
        "门不读取 h，因此整条序列可以用并行扫描来训练。这里每种方法都使用其论文中的初始化，"
        "输入与上面相同（RG-LRU 和选择性 SSM 的输入维度等于 H，因此先经过一个固定的随机线性编码器）。",
    },
    "rem_mingru": {"en": "minGRU", "zh": "minGRU"},
    "rem_minlstm": {"en": "minLSTM", "zh": "minLSTM"},
    "rem_rglru": {"en": "RG-LRU (Griffin)", "zh": "RG-LRU（Griffin 的循环层）"},
    "rem_slstm": {"en": "sLSTM (xLSTM)", "zh": "sLSTM（xLSTM 的标量记忆单元）"},
    "rem_ssm": {"en": "selective SSM (Mamba)", "zh": "选择性 SSM（Mamba）"},
    "rem_ssm_how": {
        "en": "Input-dependent forgetting in a state-space model (Gu & Dao 2023, Mamba's S6): "
        r"$\Delta_t = \operatorname{softplus}(W_\Delta x_t + b)$, $h_t = \exp(\Delta_t A) "
        r"\odot h_{t-1} + \Delta_t B_t x_t$, $y_t = C_t h_t + D x_t$, with $B_t$ and $C_t$ "
        r"read from the input. A large $\Delta_t$ overwrites the state, a small one keeps it: "
        r"the step Jacobian is $\operatorname{diag}(\exp(\Delta_t A))$.",
        "zh": "状态空间模型中由输入决定的遗忘（Gu 与 Dao，2023，Mamba 的 S6）"
        r"：$\Delta_t = \operatorname{softplus}(W_\Delta x_t + b)$，"
        r"$h_t = \exp(\Delta_t A) \odot h_{t-1} + \Delta_t B_t x_t$，"
        "$y_t = C_t h_t + D x_t$，$B_t$ 与 $C_t$ 由输入给出。"
        r"$\Delta_t$ 大时覆盖状态，小时保留状态：单步雅可比矩阵是 $\operatorname{diag}(\exp(\Delta_t A))$。",
    },
    "rem_mingru_how": {
        "en": "Gates that do not read $h$, so training can use a parallel scan (Feng et al. 2024): "
        r"$z_t = \sigma(W_z x_t)$, $h_t = (1 - z_t) \odot h_{t-1} + z_t \odot W_h x_t$. The "
        r"step Jacobian is $\operatorname{diag}(1 - z_t)$: the input alone decides how much "
        "of each unit survives.",
        "zh": r"门不读取 $h$，因此训练可以用并行扫描（Feng 等，2024）：$z_t = \sigma(W_z x_t)$，"
        r"$h_t = (1 - z_t) \odot h_{t-1} + z_t \odot W_h x_t$。"
        r"单步雅可比矩阵是 $\operatorname{diag}(1 - z_t)$："
        "每个单元保留多少，只由输入决定。",
    },
    "rem_minlstm_how": {
        "en": "Forget and input gates that read only $x_t$ and are normalised to sum to one (Feng "
        r"et al. 2024): $h_t = f_t' \odot h_{t-1} + i_t' \odot \tilde h_t$ with $f' = f / (f "
        r"+ i)$. The gradient is multiplied by $\operatorname{diag}(f_t')$ at each step.",
        "zh": "遗忘门和输入门只读取 $x_t$，并归一化为和为一（Feng 等，2024）"
        r"：$h_t = f_t' \odot h_{t-1} + i_t' \odot \tilde h_t$，"
        r"其中 $f' = f / (f + i)$。每一步梯度乘以 $\operatorname{diag}(f_t')$。",
    },
    "rem_rglru_how": {
        "en": "Input-dependent forgetting in a diagonal linear recurrence (De et al. 2024, "
        r"Griffin): $\log a_t = -8 \sigma(W_a x_t) \operatorname{softplus}(\Lambda)$, $h_t = "
        r"a_t \odot h_{t-1} + \sqrt{1 - a_t^2} \odot (\sigma(W_x x_t) \odot x_t)$. The input "
        "picks, step by step, how close to 1 the decay is.",
        "zh": r"对角线性循环中由输入决定的遗忘（De 等，2024，Griffin）：$\log a_t = -8 \sigma(W_a x_t) \operatorname{softplus}(\Lambda)$，"
        r"$h_t = a_t \odot h_{t-1} + \sqrt{1 - a_t^2} \odot (\sigma(W_x x_t) \odot x_t)$。"
        "输入逐步决定衰减离 1 有多近。",
    },
    "rem_slstm_how": {
        "en": "Exponential gating with a normaliser (Beck et al. 2024, xLSTM): $i_t' = "
        r"\exp(\tilde\imath_t)$, $f_t' = \exp(\tilde f_t)$ stabilised by $m_t$, $c_t = f_t' "
        r"c_{t-1} + i_t' z_t$, $n_t = f_t' n_{t-1} + i_t'$, $h_t = o_t \odot c_t / n_t$. The "
        "normaliser lets a gate revise what was stored.",
        "zh": r"带归一化项的指数门控（Beck 等，2024，xLSTM）：$i_t' = \exp(\tilde\imath_t)$，"
        r"$f_t' = \exp(\tilde f_t)$，由 $m_t$ 稳定；"
        "$c_t = f_t' c_{t-1} + i_t' z_t$，$n_t = f_t' n_{t-1} + i_t'$，"
        r"$h_t = o_t \odot c_t / n_t$。归一化项让门可以修改已存储的内容。",
    },
    "rem_vanilla": {"en": "vanilla tanh RNN", "zh": "普通 tanh RNN"},
    "rem_residual": {"en": "+ residual connection", "zh": "+ 残差连接"},
    "rem_layer_norm": {"en": "+ layer normalisation", "zh": "+ 层归一化"},
    "rem_orthogonal": {"en": "orthogonal init", "zh": "正交初始化"},
    "rem_identity": {"en": "identity init + ReLU (IRNN)", "zh": "单位矩阵初始化 + ReLU（IRNN）"},
    "rem_lstm": {"en": "LSTM (forget bias 1)", "zh": "LSTM（遗忘门偏置 1）"},
    "rem_lstm_chrono": {"en": "LSTM (chrono init)", "zh": "LSTM（chrono 初始化）"},
    "rem_gru": {"en": "GRU", "zh": "GRU"},
    "rem_gru_chrono": {"en": "GRU (chrono init)", "zh": "GRU（chrono 初始化）"},
    "rem_lru": {"en": "LRU (|λ| near 1)", "zh": "LRU（|λ| 接近 1）"},
    "rem_attention": {"en": "self-attention", "zh": "自注意力"},
    "rem_vanilla_how": {
        "en": r"$h_t = \tanh(W_{hh} h_{t-1} + W_{ih} x_t)$ with $W_{hh} \sim \mathcal{N}(0, 1/H)$: "
        r"the baseline. Each step multiplies the gradient by $\operatorname{diag}(\varphi') "
        "W_{hh}$; saturated units cut it.",
        "zh": r"$h_t = \tanh(W_{hh} h_{t-1} + W_{ih} x_t)$，"
        r"$W_{hh} \sim \mathcal{N}(0, 1/H)$：基准模型。"
        r"每一步梯度都要乘以 $\operatorname{diag}(\varphi') W_{hh}$，"
        "饱和的单元会把它切断。",
    },
    "rem_residual_how": {
        "en": r"$h_t = h_{t-1} + \alpha \tanh(\dots)$ ($\alpha = 0.5$): the Jacobian becomes $I + "
        r"\alpha \operatorname{diag}(\varphi') W_{hh}$, so an identity path carries the "
        "gradient even when the units saturate — the same idea as ResNets and the "
        "Transformer's skip connections.",
        "zh": r"$h_t = h_{t-1} + \alpha \tanh(\dots)$（$\alpha = 0.5$）"
        r"：雅可比矩阵变为 $I + \alpha \operatorname{diag}(\varphi') W_{hh}$，"
        "即使单元饱和，恒等通路也能传递梯度——与 ResNet 和 Transformer 中的跳跃连接是同一思想。",
    },
    "rem_layer_norm_how": {
        "en": r"$\tanh(\mathrm{LN}(a))$: normalising the pre-activation keeps it in tanh's "
        "sensitive range, which steadies the scale of the states. It eases optimisation but "
        "does not by itself create a long memory path.",
        "zh": r"$\tanh(\mathrm{LN}(a))$：对激活前的值做归一化，使其保持在 tanh 的敏感区间，"
        "稳定了状态的尺度。它让优化更容易，但本身并不会产生长程记忆通路。",
    },
    "rem_orthogonal_how": {
        "en": "$W_{hh}$ orthogonal: every eigenvalue has modulus 1, so the linear part of each "
        "step preserves norms exactly. What is left of the decay is the tanh saturation.",
        "zh": "$W_{hh}$ 为正交矩阵：所有特征值的模都是 1，每一步的线性部分精确地保持范数不变。"
        "剩下的衰减只来自 tanh 的饱和。",
    },
    "rem_identity_how": {
        "en": "$W_{hh} = I$ with ReLU (Le et al. 2015): active units pass the gradient with slope "
        "exactly 1, so at the start of training the network copies its state.",
        "zh": "$W_{hh} = I$ 并使用 ReLU（Le 等，2015）：激活的单元以恰好为 1 的斜率传递梯度，"
        "因此训练开始时网络会原样复制自己的状态。",
    },
    "rem_lstm_how": {
        "en": r"$c_t = f_t \odot c_{t-1} + i_t \odot g_t$: the cell state is updated additively, "
        "and along it the gradient is multiplied only by the forget gate $f_t$. A forget "
        r"bias of 1 keeps $f \approx \sigma(1) = 0.73$ at the start.",
        "zh": r"$c_t = f_t \odot c_{t-1} + i_t \odot g_t$："
        "细胞状态以加法方式更新，梯度沿这条路径只乘以遗忘门 $f_t$。遗忘门偏置为 1 时，"
        r"训练开始时 $f \approx \sigma(1) = 0.73$。",
    },
    "rem_lstm_chrono_how": {
        "en": r"Chrono init (Tallec & Ollivier 2018): forget biases $b_f \sim \log \mathcal{U}(1, "
        "T-1)$, so the units' memory times are spread up to $T$ steps and $f$ is close to 1 "
        "for many of them.",
        "zh": r"Chrono 初始化（Tallec 和 Ollivier，2018）：遗忘门偏置 $b_f \sim \log \mathcal{U}(1, T-1)$，"
        "各单元的记忆时间分布到 $T$ 步，许多单元的 $f$ 接近 1。",
    },
    "rem_gru_how": {
        "en": r"$h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}$: the update gate $z_t$ interpolates "
        "between keeping the old state and writing a new one — an additive path like the "
        "LSTM's, but each step it carries only the fraction $z_t$ of the old state, and at "
        "the default init $z_t$ starts near 0.5 (see below).",
        "zh": r"$h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}$："
        "更新门 $z_t$ 在保留旧状态与写入新状态之间插值——与 LSTM 一样是加法通路，"
        "但每一步只带过旧状态的 $z_t$ 这一部分，而默认初始化时 $z_t$ 从 0.5 附近开始（见下文）。",
    },
    "rem_lru_how": {
        "en": r"A linear, diagonal complex recurrence $h_t = \lambda \odot h_{t-1} + \gamma B x_t$ "
        r"(Orvieto et al. 2023) with $|\lambda| \in [0.9, 0.999]$: no saturation, and the "
        r"decay per step is set directly by $|\lambda|$ — the state-space-model line of work.",
        "zh": r"线性、对角的复数循环 $h_t = \lambda \odot h_{t-1} + \gamma B x_t$（Orvieto 等，"
        r"2023），$|\lambda| \in [0.9, 0.999]$：没有饱和，"
        r"每一步的衰减直接由 $|\lambda|$ 决定——即状态空间模型这一路线。",
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
        "en": "Clipping rescales the **whole** gradient when its norm exceeds a threshold $c$: $g "
        r"\leftarrow g \cdot \min(1, c / \lVert g \rVert)$. That bounds an exploding "
        "gradient, so one update can no longer throw the weights far away. But every "
        "per-step contribution is multiplied by the same factor, so the **ratio** between a "
        "distant step and a recent one does not change: a signal that has vanished stays "
        "vanished. The numbers below come from the library's exact gradient norms (tanh RNN, "
        r"H = {H}, T = {T}); $\lVert g \rVert$ is the norm of all per-step gradients "
        r"$(\partial L / \partial h_0, \dots, \partial L / \partial h_{{T-1}})$ together.",
        "zh": r"当梯度范数超过阈值 $c$ 时，梯度裁剪把**整个**梯度按比例缩小：$g \leftarrow g \cdot \min(1, c / \lVert g \rVert)$。"
        "这限制了爆炸的梯度，一次更新不会再把权重甩得很远。但每一步的贡献都乘以同一个因子，"
        "远处与近处梯度的**比值**不会改变：已经消失的信号仍然消失。下表数字来自程序库精确计算的梯度范数（tanh RNN，"
        r"H = {H}，T = {T}）；$\lVert g \rVert$ 是所有逐步梯度 $(\partial L / \partial h_0, \dots, \partial L / \partial h_{{T-1}})$ 合在一起的范数。",
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
    "q_horizon": {"en": "memory horizon (steps, log scale)", "zh": "记忆视界（步，对数刻度）"},
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
        "en": "How to read it: stronger recurrent weights (to the right) push towards chaos; "
        "stronger inputs saturate tanh and push back towards order, so the edge bends to "
        "larger gains as the inputs grow. Memory horizons are capped at T; where the "
        "gradient explodes there is no horizon, and the cell is left blank.",
        "zh": "读图方法：循环权重越强（越往右），越接近混沌；输入越强，tanh 越饱和，"
        "把网络拉回有序，所以随着输入增强，边缘向更大的增益弯曲。记忆视界的上限为 T；"
        "梯度爆炸的格子没有记忆视界，留为空白。",
    },
    "p4_units": {
        "en": "Decay rates and Lyapunov exponents are in nats per step (natural log); divide by ln "
        "10 ≈ 2.303 for decades per step.",
        "zh": "衰减率和李雅普诺夫指数以奈特/步（自然对数）计；除以 ln 10 ≈ 2.303 即为数量级/步。",
    },
    "p4_lyap_header": {"en": "Lyapunov spectrum of one point", "zh": "单个参数点的李雅普诺夫谱"},
    "p4_lyap_text": {
        "en": r"The Lyapunov exponents $\lambda_1 \ge \lambda_2 \ge \dots$ are the average log "
        "growth rates (nats per step) of small perturbations of the state along orthogonal "
        r"directions, computed with `ld.lyapunov_spectrum` (QR method). $\lambda_1 < 0$: "
        r"ordered, perturbations and gradients die out; $\lambda_1 > 0$: chaotic, they grow. "
        r"$\lambda_1$ is the long-run decay rate of the gradient.",
        "zh": r"李雅普诺夫指数 $\lambda_1 \ge \lambda_2 \ge \dots$ 是状态的微小扰动沿各正交方向的平均对数增长率（奈特/步）"
        r"，由 `ld.lyapunov_spectrum`（QR 方法）计算。$\lambda_1 < 0$："
        r"有序，扰动和梯度逐渐消失；$\lambda_1 > 0$：混沌，它们不断增长。"
        r"$\lambda_1$ 就是梯度长期的衰减率。",
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
    # -- page 5: your model ----------------------------------------------------------------
    "p5_title": {"en": "Your model", "zh": "你的模型"},
    "p5_intro": {
        "en": "Load the weights of a trained RNN, LSTM or GRU (any number of layers) or of a "
        "2023–2025 cell and measure how the gradient decays in every layer, or open the "
        "results of a batch sweep.",
        "zh": "加载训练好的 RNN、LSTM 或 GRU（任意层数）或 2023–2025 年新单元的权重，"
        "测量每一层的梯度如何衰减；或者打开批量扫描的结果。",
    },
    "p5_tab_weights": {"en": "Weights (.npz / .safetensors)", "zh": "权重（.npz / .safetensors）"},
    "p5_tab_sweep": {"en": "Sweep results (Parquet)", "zh": "扫描结果（Parquet）"},
    "p5_upload": {"en": "Weights file", "zh": "权重文件"},
    "upload_help_limit": {
        "en": "Drag a file onto the box or press **Upload**. At most {limit} MB per file.",
        "zh": "把文件拖到下方的框里，或点击 **Upload** 按钮选择文件。每个文件不超过 {limit} MB。"
        "（框内的 “Upload”“{limit}MB per file” 等英文字样由 Streamlit 提供，无法翻译。）",
    },
    "p5_upload_help": {
        "en": "PyTorch state_dict names: weight_ih_l0, weight_hh_l0, bias_ih_l0, "
        "bias_hh_l0 (a prefix such as 'rnn.' is fine). The cell type follows from the "
        "shape: weight_hh has H rows (RNN), 3H (GRU) or 4H (LSTM).",
        "zh": "使用 PyTorch state_dict 的参数名：weight_ih_l0、weight_hh_l0、bias_ih_l0、bias_hh_l0"
        "（可以带前缀，如 'rnn.'）。单元类型由形状判断：weight_hh 有 H 行（RNN）、3H 行（GRU）"
        "或 4H 行（LSTM）。",
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
    "p5_sweep_root_dir": {
        "en": "…or a results folder on the server, as a path relative to its results root "
        "(e.g. radius-scan)",
        "zh": "……或服务器上的结果文件夹：填写相对于结果根目录的路径（例如 radius-scan）",
    },
    "folder_disabled": {
        "en": "Opening results folders on the server is turned off. To turn it on, start "
        "the dashboard with `longdep dashboard --results DIR`: the folders below DIR can then "
        "be opened here by their path relative to DIR. Uploading the files works either way.",
        "zh": "打开服务器上结果文件夹的功能目前已关闭。若要开启，请用 `longdep dashboard --results DIR` "
        "启动仪表盘，之后即可在这里按相对于 DIR 的路径打开 DIR 下的文件夹。无论是否开启，都可以直接上传文件。",
    },
    "err_folder": {
        "en": "No results folder of that name can be opened. Give the path of a folder below "
        "the results root, relative to it (e.g. radius-scan); absolute paths, `..` and "
        "symbolic links are refused.",
        "zh": "无法打开这个名字的结果文件夹。请填写结果根目录下某个文件夹相对于根目录的路径"
        "（例如 radius-scan）；绝对路径、`..` 和符号链接都会被拒绝。",
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
    # -- page 6: training lab --------------------------------------------------------------
    "p6_title": {
        "en": "Training lab: do the remedies make the network learn?",
        "zh": "训练实验室：补救方法真的能让网络学会吗？",
    },
    "p6_intro": {
        "en": "The other pages measure the gradients of untrained networks. Here networks are "
        "trained — with exact backpropagation through time in longdep's Rust core, Adam or "
        "SGD and optional gradient clipping — on classic long-range benchmarks, so you can "
        "see whether a vanishing gradient really means that a dependency is never learned, "
        "and what gradient clipping and pre-training change. The runs are small enough to "
        "finish in seconds; nothing is trained until you press a button, and finished runs "
        "are cached.",
        "zh": "其他页面测量的是未经训练的网络的梯度。这里则真正训练网络——在 longdep 的 Rust 内核中用精确的"
        "随时间反向传播（BPTT），配合 Adam 或 SGD 以及可选的梯度裁剪——在经典的长程依赖基准任务上，"
        "看看梯度消失是否真的意味着远距离依赖学不会，以及梯度裁剪和预训练会带来什么变化。"
        "这些实验规模很小，几秒钟就能完成；只有按下按钮才会开始训练，训练完成的结果会被缓存。",
    },
    "p6_tab_live": {"en": "Live experiment", "zh": "实时实验"},
    "p6_tab_clip": {"en": "Gradient clipping", "zh": "梯度裁剪"},
    "p6_tab_pretrain": {"en": "Pre-training", "zh": "预训练"},
    "p6_tab_folder": {"en": "Results of longdep train", "zh": "longdep train 的结果"},
    "p6_task": {"en": "Task", "zh": "任务"},
    "p6_task_adding": {"en": "adding problem (MSE)", "zh": "加法问题（均方误差）"},
    "p6_task_copy": {"en": "copy task (cross-entropy)", "zh": "复制任务（交叉熵）"},
    "p6_task_subject": {
        "en": "remember the subject (cross-entropy)",
        "zh": "记住主语（交叉熵）",
    },
    "p6_T": {"en": "Length T (steps)", "zh": "长度 T（步）"},
    "p6_T_help": {
        "en": "Adding and subject tasks: the sequence length. Copy task: the delay between "
        "the symbols and the delimiter; the sequence is T + 20 steps long.",
        "zh": "加法任务和主语任务：序列长度。复制任务：符号与分隔符之间的间隔；整个序列长 T + 20 步。",
    },
    "p6_steps": {"en": "Training steps", "zh": "训练步数"},
    "p6_models": {"en": "Models to compare", "zh": "参与比较的模型"},
    "p6_models_help": {
        "en": "The models of `longdep train`, each followed by a linear readout and trained "
        "from the same seed on the same batches. Vanilla: tanh RNN with W_hh ~ N(0, 1/H); "
        "orthogonal RNN: tanh with an orthogonal W_hh; IRNN: ReLU with W_hh = I (Le et al. "
        "2015); LSTM: forget-gate bias 1; chrono: gate biases spread so that memories last "
        "up to T steps (Tallec & Ollivier 2018); LRU: a linear recurrence with "
        "|λ| in [0.9, 0.999] behind a ReLU encoder of width 32.",
        "zh": "即 `longdep train` 中的模型，每个后面接一个线性读出层，使用相同的随机种子、在相同的批次数据上训练。"
        "普通：W_hh ~ N(0, 1/H) 的 tanh RNN；正交 RNN：W_hh 为正交矩阵的 tanh RNN；IRNN：W_hh = I 的 "
        "ReLU RNN（Le 等，2015）；LSTM：遗忘门偏置为 1；chrono：把门控偏置分散开，使记忆最长可保持 T 步"
        "（Tallec 与 Ollivier，2018）；LRU：|λ| 位于 [0.9, 0.999] 的线性循环，前面接一个宽度为 32 的 "
        "ReLU 编码层。",
    },
    "p6_lr": {"en": "Learning rate", "zh": "学习率"},
    "p6_optimizer": {"en": "Optimiser", "zh": "优化器"},
    "p6_opt_adam": {"en": "Adam", "zh": "Adam"},
    "p6_opt_sgd": {"en": "SGD (plain)", "zh": "SGD（无动量）"},
    "p6_clip_on": {"en": "Gradient clipping", "zh": "梯度裁剪"},
    "p6_clip_c": {
        "en": "Clipping threshold c (global norm)",
        "zh": "裁剪阈值 c（全局范数）",
    },
    "p6_clip_c_help": {
        "en": "Used when clipping is on: if the norm of all parameter gradients together "
        "exceeds c, the whole gradient is scaled down to norm c.",
        "zh": "开启梯度裁剪时生效：所有参数梯度合起来的范数超过 c 时，把整个梯度按比例缩小到范数为 c。",
    },
    "p6_train": {"en": "Train", "zh": "开始训练"},
    "p6_waiting": {
        "en": "Choose the settings and press **Train**. Nothing is trained until you do; "
        "with the defaults the four models take about ten seconds.",
        "zh": "选好设置后按 **开始训练**。按下之前不会训练；使用默认设置时，四个模型大约需要十秒钟。",
    },
    "p6_no_models": {
        "en": "Choose at least one model to train.",
        "zh": "请至少选择一个要训练的模型。",
    },
    "p6_training": {
        "en": "Training {model} ({i} of {n})…",
        "zh": "正在训练 {model}（第 {i} 个，共 {n} 个）…",
    },
    "p6_settings": {
        "en": "{task}, T = {T}, H = {H}, {steps} steps of {batch} sequences, {opt} with "
        "learning rate {lr:g}, {clip}, seed {seed}.",
        "zh": "{task}，T = {T}，H = {H}，{steps} 步、每步 {batch} 条序列，{opt}，学习率 {lr:g}，{clip}，"
        "随机种子 {seed}。",
    },
    "p6_clip_at": {"en": "clipping at c = {c:g}", "zh": "裁剪阈值 c = {c:g}"},
    "p6_no_clip": {"en": "no clipping", "zh": "不裁剪"},
    "p6_axis_step": {"en": "training step", "zh": "训练步数"},
    "p6_axis_loss": {"en": "loss (log scale)", "zh": "损失（对数坐标）"},
    "p6_axis_grad": {
        "en": "‖g‖ before clipping (log scale)",
        "zh": "裁剪前的 ‖g‖（对数坐标）",
    },
    "p6_baseline": {"en": "memoryless baseline {v:.3g}", "zh": "无记忆基线 {v:.3g}"},
    "p6_baseline_of": {
        "en": "baseline {task} T = {T}: {v:.3g}",
        "zh": "基线 {task} T = {T}：{v:.3g}",
    },
    "p6_threshold": {"en": "clipping threshold c = {c:g}", "zh": "裁剪阈值 c = {c:g}"},
    "p6_diverged_at": {
        "en": "{model}: diverged at step {step}",
        "zh": "{model}：在第 {step} 步发散",
    },
    "p6_loss_caption": {
        "en": "How to read it: thin lines are the loss of each batch, thick lines a running "
        "geometric mean. The dashed line is the loss of the best predictor that remembers "
        "nothing; a model below it has learned to use information from far back in the "
        "sequence. A red mark is where a run's loss or gradient left the float range.",
        "zh": "读图方法：细线是每个批次的损失，粗线是滑动几何平均。虚线是什么都不记得的最佳预测器的损失；"
        "低于虚线的模型学会了利用序列中远处的信息。红色标记表示该次训练的损失或梯度超出了浮点数范围。",
    },
    "p6_grad_caption": {
        "en": "The norm of the gradient of all parameters together at every step, measured "
        "before clipping. Steady growth or spikes are exploding gradients; clipping caps "
        "the update, not this measurement.",
        "zh": "每一步所有参数梯度合在一起的范数，在裁剪之前测量。持续增长或尖峰就是梯度爆炸；"
        "梯度裁剪限制的是参数更新，而不是这里的测量值。",
    },
    "p6_ratio": {"en": "baseline ÷ loss = {r:.3g}×", "zh": "基线 ÷ 损失 = {r:.3g} 倍"},
    "p6_ratio_help": {
        "en": "Final loss: the mean over the last fifth of the run (at most 50 steps). Above "
        "1× the model beats a predictor without memory; the full experiment counts 10× or "
        "more as learned.",
        "zh": "最终损失：训练最后五分之一步数（最多 50 步）的平均损失。比值大于 1 表示模型优于没有记忆的预测器；"
        "在完整实验中，达到 10 倍以上才算学会。",
    },
    "p6_diverged": {"en": "diverged", "zh": "发散"},
    "p6_diverged_delta": {"en": "at step {step}", "zh": "第 {step} 步"},
    "p6_preset_time": {
        "en": "Training time: {s:.1f} s (cached: it appears instantly from now on).",
        "zh": "训练耗时：{s:.1f} 秒（已缓存：之后会立即显示）。",
    },
    "p6_total_time": {
        "en": "Training time: {s:.1f} s (a cached run appears instantly; press Train with "
        "other settings for a new run).",
        "zh": "训练耗时：{s:.1f} 秒（已缓存的结果会立即显示；更改设置后再按“开始训练”即可重新训练）。",
    },
    "p6_model_vanilla": {"en": "vanilla tanh RNN", "zh": "普通 tanh RNN"},
    "p6_model_vanilla_orthogonal": {"en": "orthogonal RNN", "zh": "正交 RNN"},
    "p6_model_irnn": {"en": "IRNN", "zh": "IRNN"},
    "p6_model_lstm": {"en": "LSTM", "zh": "LSTM"},
    "p6_model_lstm_chrono": {"en": "LSTM chrono", "zh": "LSTM（chrono）"},
    "p6_model_gru": {"en": "GRU", "zh": "GRU"},
    "p6_model_gru_chrono": {"en": "GRU chrono", "zh": "GRU（chrono）"},
    "p6_model_lru": {"en": "LRU + encoder", "zh": "LRU + 编码层"},
    "p6_run_pretrain": {"en": "pre-training", "zh": "预训练"},
    "p6_run_finetune": {"en": "fine-tuned", "zh": "微调"},
    "p6_run_scratch": {"en": "from scratch", "zh": "从头训练"},
    "p6_tasks_header": {"en": "What the three tasks test", "zh": "三个任务分别考察什么"},
    "p6_task_adding_text": {
        "en": "**Adding problem** (Hochreiter & Schmidhuber 1997). Two input channels: "
        "random numbers in [0, 1] and a marker that is 1 at exactly two positions, one in "
        "each half of the sequence. At the last step the network must output the sum of "
        "the two marked numbers, so the first one has to be kept for up to T steps while "
        "everything else is ignored.\n\n**Baseline:** always answering 1, the mean of the "
        "sum, scores an MSE equal to its variance, 1/6 ≈ 0.167.",
        "zh": "**加法问题**（Hochreiter 与 Schmidhuber，1997）。两个输入通道：[0, 1] 内的随机数，"
        "以及一个标记通道——恰好在两个位置为 1，前后半段各一个。网络必须在最后一步输出这两个被标记数字之和，"
        "因此第一个数字要保存最多 T 步，同时忽略其他所有输入。\n\n**基线**：始终回答 1（和的均值），"
        "均方误差等于和的方差，即 1/6 ≈ 0.167。",
    },
    "p6_task_copy_text": {
        "en": "**Copy task** (Arjovsky et al. 2016). Ten symbols out of 8 are shown, then "
        "T − 1 blanks and a delimiter; after it the network must reproduce the ten "
        "symbols in order. It tests storing a lot of information exactly over T "
        "steps.\n\n**Baseline:** emitting blanks where they are due and guessing uniformly "
        "in the last ten steps gives a cross-entropy of 10 ln 8 / (T + 20) per step, T + 20 "
        "being the length of the whole sequence.",
        "zh": "**复制任务**（Arjovsky 等，2016）。先给出 10 个符号（共 8 种），接着是 T − 1 个空白和一个分隔符；"
        "分隔符之后，网络必须按顺序复现这 10 个符号。它考察的是把大量信息原样保存 T 步。\n\n"
        "**基线**：在该输出空白的位置输出空白，在最后 10 步均匀地猜，每步交叉熵为 10 ln 8 / (T + 20)，"
        "其中 T + 20 是整个序列的长度。",
    },
    "p6_task_subject_text": {
        "en": "**Remember the subject**, a toy form of pronoun reference. The first token "
        "names one of 8 subjects, T − 2 distractor words follow, and the last token asks "
        "“who?”. The answer is the very first token, T − 1 steps back — like *he* "
        "pointing back to *Zhang San* on **The problem** page.\n\n**Baseline:** guessing one "
        "of the 8 subjects uniformly gives a cross-entropy of ln 8 ≈ 2.08.",
        "zh": "**记住主语**：代词指代的简化版本。第一个词是 8 个主语之一，随后是 T − 2 个干扰词，"
        "最后一个词发问“是谁？”。答案就是第一个词，在 T − 1 步之前——就像“问题是什么”页面中"
        "“他”指回“张三”一样。\n\n**基线**：在 8 个主语中均匀地猜，交叉熵为 ln 8 ≈ 2.08。",
    },
    "p6_meaning": {
        "en": "**What the results mean.** A model whose loss stays on the dashed baseline "
        "has learned nothing that needs memory: it answers as if the sequence had no "
        "beginning. For the vanilla tanh RNN this happens because the gradient from the "
        "answer back to the cue vanishes (see **Decay curves**), so the loss cannot tell "
        "the weights which distant input mattered. Gated cells (LSTM, GRU) and the LRU keep "
        "a nearly linear memory path whose gain is close to 1; the same gradient arrives, "
        "and their loss falls far below the baseline. Short sequences are easy for "
        "everyone: increase T to watch the vanilla RNN fall behind. Small runs are noisy, "
        "so compare models at the same seed, or try several seeds.",
        "zh": "**结果说明了什么**。损失一直停在虚线基线上的模型，没有学到任何需要记忆的东西："
        "它的回答就好像序列没有开头一样。对普通 tanh RNN 来说，原因是从答案传回线索的梯度消失了"
        "（见“衰减曲线”页面），损失无法告诉权重究竟是哪个远处的输入重要。门控单元（LSTM、GRU）和 LRU "
        "保留了一条近似线性、增益接近 1 的记忆通路；同样的梯度能够传回来，它们的损失就会远低于基线。"
        "短序列对所有模型都很容易：增大 T，就能看到普通 RNN 掉队。小规模实验的波动较大，"
        "请在相同的随机种子下比较模型，或多试几个种子。",
    },
    "p6_full": {
        "en": "The full experiment runs on the command line: `longdep train "
        "examples/train-adding.toml --out results/train-adding` (adding problem, T = 200, "
        "H = 128, 1200 steps, Adam, clipping at 1; minutes on two cores). Measured: the "
        "vanilla RNN stays at the baseline (0.17), while the chrono-initialised LSTM "
        "reaches an MSE of 0.0003, the GRU 0.0005 and the LRU 0.001. Open the folder in the "
        "tab **Results of longdep train**.",
        "zh": "完整实验在命令行中运行：`longdep train examples/train-adding.toml --out "
        "results/train-adding`（加法问题，T = 200，H = 128，1200 步，Adam，裁剪阈值 1；在两个 CPU "
        "核心上需要几分钟）。实测结果：普通 RNN 停留在基线（0.17），而 chrono 初始化的 LSTM 达到 0.0003 的"
        "均方误差，GRU 为 0.0005，LRU 为 0.001。可以在“longdep train 的结果”标签页中打开结果文件夹。",
    },
    "p6_clip_header": {
        "en": "Exploding gradients: what clipping does to a diverging run",
        "zh": "梯度爆炸：梯度裁剪对发散的训练起什么作用",
    },
    "p6_clip_intro": {
        "en": "A tanh RNN with H = {H} whose recurrent matrix is orthogonal, scaled to "
        "spectral radius {rho}, amplifies perturbations at every step. It is trained on the "
        "adding problem with T = {T} by plain SGD with learning rate {lr} for {steps} steps, "
        "once without clipping and once with global-norm clipping at c = {c:g} (the rule of "
        "`torch.nn.utils.clip_grad_norm_`), from the same weights on the same batches. "
        "Both runs together take a few seconds.",
        "zh": "一个 H = {H} 的 tanh RNN，其循环矩阵为正交矩阵并缩放到谱半径 {rho}，每一步都会放大扰动。"
        "用学习率 {lr} 的普通 SGD 在 T = {T} 的加法问题上训练 {steps} 步：一次不裁剪，一次按全局范数在 "
        "c = {c:g} 处裁剪（与 `torch.nn.utils.clip_grad_norm_` 的规则相同），两次从相同的权重出发、"
        "使用相同的批次数据。两次训练总共需要几秒钟。",
    },
    "p6_clip_run": {"en": "Run the clipping comparison", "zh": "运行梯度裁剪对比"},
    "p6_clip_caption": {
        "en": "Both vertical axes stop (the loss at 10³, ‖g‖ at 10⁴) so that the clipped run "
        "stays readable: the run without clipping leaves them within a few steps and keeps "
        "growing exponentially until it overflows.",
        "zh": "两个纵轴都有上限（损失为 10³，‖g‖ 为 10⁴），以便看清裁剪后的训练：不裁剪的训练几步之内就"
        "冲出图外，并持续指数增长，直到数值溢出。",
    },
    "p6_clip_caption_finite": {
        "en": "Both vertical axes stop: the loss at 10³, ‖g‖ at 10⁴.",
        "zh": "两个纵轴都有上限：损失为 10³，‖g‖ 为 10⁴。",
    },
    "p6_clip_none": {"en": "no clipping", "zh": "不裁剪"},
    "p6_clip_with": {"en": "clipping at c = {c:g}", "zh": "裁剪阈值 c = {c:g}"},
    "p6_clip_result": {
        "en": "Without clipping the gradient norm grows to {gmax} and the loss overflows at "
        "step {step}: the run is lost. With clipping the largest gradient measured is "
        "{gclip}, but no update is longer than lr × c, so the run stays finite to its last "
        "step. {verdict}",
        "zh": "不裁剪时，梯度范数增长到 {gmax}，损失在第 {step} 步溢出：这次训练彻底失败。裁剪时，"
        "测得的最大梯度为 {gclip}，但每次更新的步长都不超过 lr × c，因此训练直到最后一步都保持有限。"
        "{verdict}",
    },
    "p6_clip_result_finite": {
        "en": "Neither run overflowed: without clipping the final loss is {none:.3g}. {verdict}",
        "zh": "两次训练都没有溢出：不裁剪时，最终损失为 {none:.3g}。{verdict}",
    },
    "p6_clip_verdict_diverged": {
        "en": "The clipped run diverged too, at step {step}.",
        "zh": "裁剪后的训练也在第 {step} 步发散了。",
    },
    "p6_clip_verdict_below": {
        "en": "The clipped run ends at a loss of {final:.3g}, below the memoryless baseline "
        "{base:.3g}: it has learned to use information from far back in the sequence.",
        "zh": "裁剪后的训练最终损失为 {final:.3g}，低于无记忆基线 {base:.3g}：它学会了利用序列中远处的信息。",
    },
    "p6_clip_verdict_near": {
        "en": "The clipped run ends at a loss of {final:.3g}, about the memoryless baseline "
        "{base:.3g}: it stays finite, but has learned no more than a predictor that "
        "remembers nothing.",
        "zh": "裁剪后的训练最终损失为 {final:.3g}，与无记忆基线 {base:.3g} 相当：训练保持有限，"
        "但学到的并不比一个什么都不记的预测器多。",
    },
    "p6_clip_verdict_above": {
        "en": "The clipped run ends at a loss of {final:.3g}, above the memoryless baseline "
        "{base:.3g}: it stays finite, but has not learned the task — a predictor that "
        "remembers nothing does better. Clipping keeps the run alive; it does not make the "
        "network learn.",
        "zh": "裁剪后的训练最终损失为 {final:.3g}，高于无记忆基线 {base:.3g}：训练保持有限，但并没有学会"
        "这个任务——一个什么都不记的预测器都比它好。梯度裁剪能让训练继续下去，却不能让网络学会。",
    },
    "p6_clip_why": {
        "en": "**Why clipping tames explosion but cannot fix vanishing.** Clipping looks at "
        "a single number, the norm of the whole gradient, and when it exceeds c multiplies "
        "*every* component by the same factor c / ‖g‖. An exploding gradient is a problem "
        "of size: terms from far back grow exponentially, and one step along them throws "
        "the weights to where the activations saturate or overflow. Capping the length of "
        "the step prevents that and keeps its direction. Vanishing is a problem of "
        "*proportion*: the contributions of distant steps are exponentially smaller than "
        "those of recent ones. Scaling all of them by one factor leaves that ratio exactly "
        "as it was, and clipping never scales up. So a clipped vanilla RNN can train stably "
        "and still fail to learn a dependency T steps back; whether the run above has learned "
        "anything shows in its final loss compared with the baseline. Vanishing needs another "
        "architecture (gates, linear recurrences) or initialisation: compare the models in the live "
        "experiment and on **Remedies**.",
        "zh": "**为什么梯度裁剪能驯服梯度爆炸，却治不了梯度消失**。梯度裁剪只看一个数——整个梯度的范数；"
        "超过 c 时，就把*每一个*分量都乘以同一个因子 c / ‖g‖。梯度爆炸是“大小”问题：来自远处的项指数增长，"
        "沿着它走一步，就会把权重甩到激活饱和或数值溢出的区域。限制步长可以防止这种情况，同时保留更新的方向。"
        "梯度消失则是“比例”问题：远处各步的贡献比近处的小指数倍。所有分量乘以同一个因子，这个比例丝毫不变，"
        "而且裁剪从不放大梯度。所以经过裁剪的普通 RNN 可以稳定地训练，却仍然可能学不会 T 步之前的依赖："
        "上面的训练有没有学到东西，要看它的最终损失与基线的比较。解决梯度消失需要换一种结构（门控、线性循环）或初始化："
        "请在实时实验和“补救方法”页面中比较各个模型。",
    },
    "p6_pre_header": {
        "en": "Pre-training on short sequences, then fine-tuning on long ones",
        "zh": "先在短序列上预训练，再在长序列上微调",
    },
    "p6_pre_intro": {
        "en": "A GRU with H = {H} learns the adding problem at T = {short} for {pre} steps and "
        "is then fine-tuned at T = {long} for {fine} steps. The comparison is the same "
        "initial GRU trained from scratch at T = {long} for the same {fine} steps. Adam with "
        "learning rate {lr:g}, clipping at 1, the same seed; several seconds in all.",
        "zh": "一个 H = {H} 的 GRU 先在 T = {short} 的加法问题上训练 {pre} 步，再在 T = {long} 上微调 {fine} 步。"
        "作为对照，同一个初始 GRU 直接在 T = {long} 上从头训练同样的 {fine} 步。Adam，学习率 {lr:g}，"
        "裁剪阈值 1，相同的随机种子；总共需要几秒钟。",
    },
    "p6_pre_run": {"en": "Run the pre-training comparison", "zh": "运行预训练对比"},
    "p6_pre_pretrain": {"en": "pre-training at T = {T}", "zh": "预训练（T = {T}）"},
    "p6_pre_finetune": {"en": "fine-tuning at T = {T}", "zh": "微调（T = {T}）"},
    "p6_pre_scratch": {"en": "from scratch at T = {T}", "zh": "从头训练（T = {T}）"},
    "p6_pre_switch": {"en": "switch to T = {T}", "zh": "切换到 T = {T}"},
    "p6_pre_axis": {
        "en": "training step at T = {T} (negative: pre-training)",
        "zh": "在 T = {T} 上的训练步数（负值：预训练阶段）",
    },
    "p6_pre_col_steps": {"en": "steps at T = {T}", "zh": "在 T = {T} 上的步数"},
    "p6_pre_col_fine": {"en": "loss, fine-tuned", "zh": "损失（微调）"},
    "p6_pre_col_scratch": {"en": "loss, from scratch", "zh": "损失（从头训练）"},
    "p6_pre_table_caption": {
        "en": "Mean loss over the 20 steps before each mark.",
        "zh": "每个节点之前 20 步的平均损失。",
    },
    "p6_pre_text": {
        "en": "**Why it helps.** At short T the first marker is close to the answer, and even "
        "a short memory finds it while the gradient is still strong; the GRU learns *what* "
        "to store (the marked numbers) and how to add them. Those weights carry over: at "
        "long T the fine-tuned model drops below the baseline within a few dozen steps, "
        "while the model from scratch must discover the cue through a weak long-range "
        "gradient and waits at the baseline. Pre-training does not remove vanishing; it starts the optimisation where "
        "the long gradient is no longer needed to find the solution. The short steps are "
        "also cheap: {pre} steps at T = {short} cost about as much as {equiv} steps at "
        "T = {long}.",
        "zh": "**为什么有效**。T 较短时，第一个标记离答案很近，在梯度还很强的时候，即使很短的记忆也能找到它；"
        "GRU 学会了*该存什么*（被标记的数字）以及如何相加。这些权重可以迁移：在长 T 上，微调的模型"
        "几十步之内就降到基线以下，而从头训练的模型必须通过微弱的长程梯度去发现线索，只能在基线上等待。"
        "预训练并没有消除梯度消失；它让优化从一个不再需要长程梯度也能找到解的地方开始。"
        "短序列的训练步也很便宜：T = {short} 上的 {pre} 步，计算量大约只相当于 T = {long} 上的 {equiv} 步。",
    },
    "p6_folder_intro": {
        "en": "Longer runs belong on the command line: `longdep train CONFIG --out DIR` "
        "writes one Parquet history per model (columns `step`, `loss`, `model`, `run`, "
        "`task`, `length`, …) and `summary.csv`. Open such a folder here, or upload its "
        "files.",
        "zh": "更长的训练应在命令行中运行：`longdep train CONFIG --out DIR` 为每个模型写出一个 Parquet "
        "训练记录（包含 `step`、`loss`、`model`、`run`、`task`、`length` 等列）以及 `summary.csv`。"
        "可以在这里打开这样的文件夹，或者上传其中的文件。",
    },
    "p6_folder_dir": {
        "en": "Path of a longdep train results folder on this machine",
        "zh": "本机上 longdep train 结果文件夹的路径",
    },
    "p6_root_dir": {
        "en": "A longdep train results folder on the server, as a path relative to its "
        "results root (e.g. train-adding)",
        "zh": "服务器上的 longdep train 结果文件夹：填写相对于结果根目录的路径（例如 train-adding）",
    },
    "p6_folder_upload": {
        "en": "…or upload its .parquet files (and summary.csv)",
        "zh": "……或者上传其中的 .parquet 文件（以及 summary.csv）",
    },
    "p6_folder_loaded": {
        "en": "Loaded {runs} runs from {files} files.",
        "zh": "已从 {files} 个文件中加载 {runs} 次训练。",
    },
    "p6_shown": {"en": "Runs shown", "zh": "显示的训练"},
    "p6_summary": {"en": "summary.csv", "zh": "汇总表 summary.csv"},
    "p6_no_summary": {
        "en": "No summary.csv next to the histories.",
        "zh": "训练记录旁边没有 summary.csv。",
    },
    # budget (cost estimate, queue) ---------------------------------------------------------
    "budget_confirm": {
        "en": "These settings need about {s:.0f} s of computation and {mem} of memory, "
        "estimated before computing (the work grows as H² × T × the number of cells). "
        "Press the button to run them; smaller settings stay interactive.",
        "zh": "这组参数估计需要约 {s:.0f} 秒的计算和 {mem} 内存（计算前估算；计算量随 "
        "H² × T × 单元数增长）。点击按钮开始计算；较小的参数可以保持实时交互。",
    },
    "budget_go": {"en": "Compute", "zh": "开始计算"},
    "budget_refuse_time": {
        "en": "Not computed: these settings need about {s:.0f} s of computation ({mem} of "
        "memory), estimated before computing from H² × T × the number of cells. This server "
        "allows at most {cap:.0f} s per request, so that every visitor still gets answers.",
        "zh": "未计算：这组参数估计需要约 {s:.0f} 秒的计算（{mem} 内存），由 H² × T × 单元数"
        "在计算前估算。本服务器每次请求最多允许 {cap:.0f} 秒，以便每位访问者都能得到响应。",
    },
    "budget_refuse_memory": {
        "en": "Not computed: these settings need about {mem} of memory (the input sequence, "
        "the curves and the stored steps of the backward pass), estimated before computing. "
        "This server allows at most {cap} per request.",
        "zh": "未计算：这组参数估计需要约 {mem} 内存（输入序列、曲线以及反向传播保存的各步），"
        "这是计算前的估算。本服务器每次请求最多允许 {cap}。",
    },
    "budget_lower_decay": {
        "en": "Lower H or T, or turn float64 off.",
        "zh": "请减小 H 或 T，或者关闭 float64。",
    },
    "budget_lower_grid": {
        "en": "Use fewer grid points, a smaller H or a shorter T.",
        "zh": "请减少网格点数、减小 H 或缩短 T。",
    },
    "budget_lower_remedies": {"en": "Lower H or T.", "zh": "请减小 H 或 T。"},
    "budget_lower_upload": {
        "en": "Use a shorter T: H and the input size come from the file.",
        "zh": "请缩短 T：H 和输入维度由文件决定。",
    },
    "budget_lower_train": {
        "en": "Choose fewer models or steps, a smaller H or a shorter T.",
        "zh": "请选择更少的模型或训练步数、更小的 H 或更短的 T。",
    },
    "budget_queue": {
        "en": "Waiting: {pos} in line for a computation slot (this server runs {slots} heavy "
        "computations at once; the others wait their turn).",
        "zh": "排队中：第 {pos} 位，正在等待计算槽（本服务器同时运行 {slots} 个繁重计算，"
        "其余的依次等待）。",
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
    "err_npz_not_zip": {
        "en": "'{file}' is not a valid .npz file: an .npz file is a zip archive of NumPy "
        "arrays, and this file is not a zip archive.",
        "zh": "“{file}” 不是有效的 .npz 文件：.npz 文件是由 NumPy 数组打包成的 zip 压缩包，"
        "而这个文件不是 zip 压缩包。",
    },
    "err_npz_damaged": {
        "en": "'{file}' is a zip archive, but a damaged one: it cannot be read as an .npz file.",
        "zh": "“{file}” 虽然是 zip 压缩包，但已经损坏，无法作为 .npz 文件读取。",
    },
    "err_npz_entry": {
        "en": "'{file}': the entry '{name}' of the archive is not a readable NumPy array.",
        "zh": "“{file}”：压缩包中的 “{name}” 不是可读取的 NumPy 数组。",
    },
    "err_pickle": {
        "en": "'{file}' contains Python objects (pickled data) in '{name}'; only plain "
        "numeric arrays are accepted.",
        "zh": "“{file}” 的 “{name}” 中含有 Python 对象（pickle 数据）；只接受普通的数值数组。",
    },
    "err_st_short": {
        "en": "'{file}' is not a valid .safetensors file: it is shorter than the 8 bytes that "
        "give the length of its header.",
        "zh": "“{file}” 不是有效的 .safetensors 文件：它连记录头部长度的 8 个字节都不到。",
    },
    "err_st_header_size": {
        "en": "'{file}' is not a valid .safetensors file: it gives its header a length of {n} "
        "bytes, but the whole file has only {size} bytes.",
        "zh": "“{file}” 不是有效的 .safetensors 文件：它声明的头部长度为 {n} 字节，但整个文件只有 {size} 字节。",
    },
    "err_st_header_limit": {
        "en": "'{file}': the header of this .safetensors file is {n} bytes long; at most "
        "{limit} MB are accepted.",
        "zh": "“{file}”：这个 .safetensors 文件的头部长达 {n} 字节，超过了 {limit} MB 的上限。",
    },
    "err_st_json": {
        "en": "'{file}' is not a valid .safetensors file: its header is not valid JSON text.",
        "zh": "“{file}” 不是有效的 .safetensors 文件：它的头部不是有效的 JSON 文本。",
    },
    "err_st_object": {
        "en": "'{file}' is not a valid .safetensors file: its header is not a JSON object.",
        "zh": "“{file}” 不是有效的 .safetensors 文件：它的头部不是 JSON 对象。",
    },
    "err_st_entry": {
        "en": "'{file}' is not a valid .safetensors file: the entry '{name}' lacks dtype, "
        "shape or data_offsets.",
        "zh": "“{file}” 不是有效的 .safetensors 文件：条目 “{name}” 缺少 dtype、shape 或 data_offsets。",
    },
    "err_st_shape": {
        "en": "'{file}' is not a valid .safetensors file: the entry '{name}' has an invalid "
        "shape {shape}.",
        "zh": "“{file}” 不是有效的 .safetensors 文件：条目 “{name}” 的形状 {shape} 无效。",
    },
    "err_st_offsets": {
        "en": "'{file}' is not a valid .safetensors file: the entry '{name}' has data_offsets "
        "{offsets}, outside the {size} bytes of data.",
        "zh": "“{file}” 不是有效的 .safetensors 文件：条目 “{name}” 的 data_offsets 为 {offsets}，"
        "超出了 {size} 字节的数据范围。",
    },
    "err_st_dtype": {
        "en": "'{file}' is not a valid .safetensors file: the entry '{name}' has an unknown "
        "data type {dtype}.",
        "zh": "“{file}” 不是有效的 .safetensors 文件：条目 “{name}” 的数据类型 {dtype} 无法识别。",
    },
    "err_st_bytes": {
        "en": "'{file}' is not a valid .safetensors file: the entry '{name}' has {have} bytes "
        "of data, but shape {shape} of {dtype} needs {want}.",
        "zh": "“{file}” 不是有效的 .safetensors 文件：条目 “{name}” 有 {have} 字节的数据，"
        "但形状为 {shape} 的 {dtype} 张量需要 {want} 字节。",
    },
    # -- bounded uploads (issue 15): sizes are checked from headers before unpacking ----
    "err_st_overlap": {
        "en": "'{file}' is not a valid .safetensors file: the data of the entry '{name}' "
        "overlaps the data of '{have}'.",
        "zh": "“{file}” 不是有效的 .safetensors 文件：条目 “{name}” 的数据与 “{have}” 的数据重叠。",
    },
    "err_tensors": {
        "en": "'{file}' holds {n} tensors; at most {limit} are accepted.",
        "zh": "“{file}” 含有 {n} 个张量，最多只接受 {limit} 个。",
    },
    "err_npz_nested": {
        "en": "'{file}': the entry '{name}' is itself a zip archive; archives inside the "
        ".npz file are not opened.",
        "zh": "“{file}”：条目 “{name}” 本身又是一个 zip 压缩包；不会打开 .npz 文件中嵌套的压缩包。",
    },
    "err_npz_members": {
        "en": "'{file}' has too many entries; at most {limit} arrays are accepted.",
        "zh": "“{file}” 中的条目太多，最多只接受 {limit} 个数组。",
    },
    "err_npz_no_arrays": {
        "en": "'{file}' holds no NumPy arrays (entries named `*.npy`); it contains: {names}.",
        "zh": "“{file}” 中没有 NumPy 数组（名为 `*.npy` 的条目）；其中包含：{names}。",
    },
    "err_bad_shape": {
        "en": "'{file}': the entry '{name}' declares an invalid shape {shape} (at most 8 "
        "non-negative whole numbers).",
        "zh": "“{file}”：条目 “{name}” 声明的形状 {shape} 无效（最多 8 个非负整数）。",
    },
    "err_unpacked": {
        "en": "'{file}': unpacked, the arrays up to '{name}' would take {size:.0f} MB; at "
        "most {limit} MB are accepted.",
        "zh": "“{file}”：解压后，到 “{name}” 为止的数组将占用 {size:.0f} MB，超过了 {limit} MB 的上限。",
    },
    "err_hidden_limit": {
        "en": "'{name}' gives a hidden size H = {n}; at most H = {limit} is accepted.",
        "zh": "“{name}” 的隐藏维度 H = {n}，最多只接受 H = {limit}。",
    },
    "err_input_limit": {
        "en": "'{name}' gives an input size I = {n}; at most I = {limit} is accepted.",
        "zh": "“{name}” 的输入维度 I = {n}，最多只接受 I = {limit}。",
    },
    "err_rows": {
        "en": "'{file}' has {n} rows, more than the {limit} rows accepted for all files together.",
        "zh": "“{file}” 有 {n} 行，超过了所有文件合计 {limit} 行的上限。",
    },
    "err_parquet_unpacked": {
        "en": "'{file}': unpacked, its columns would take {size:.0f} MB; at most {limit} MB "
        "are accepted.",
        "zh": "“{file}”：解压后，它的各列将占用 {size:.0f} MB，超过了 {limit} MB 的上限。",
    },
    "err_too_many_files": {
        "en": "'{path}' holds more than {limit} files and folders; open a smaller folder.",
        "zh": "“{path}” 中的文件和文件夹超过 {limit} 个；请打开一个更小的文件夹。",
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
    "err_named": {
        "en": "These arrays do not form a {kind} cell: it needs {names} with shapes that fit "
        "together; the file has {have}.",
        "zh": "这些数组无法构成 {kind} 单元：它需要形状相互匹配的 {names}；文件中是 {have}。",
    },
    "err_cell": {
        "en": "These weights do not form a valid {kind} cell.",
        "zh": "这些权重无法构成有效的 {kind} 单元。",
    },
    "err_unexpected": {
        "en": "Something unexpected went wrong while reading or measuring this input; the "
        "details are in the server's log.",
        "zh": "读取或测量这些输入时发生了意外错误，详细信息已记录在服务器日志中。",
    },
    "err_parquet": {
        "en": "'{file}' is not a readable Parquet file.",
        "zh": "“{file}” 不是可读取的 Parquet 文件。",
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
    "err_dir_read": {
        "en": "'{path}' cannot be read on this machine (no permission, or not a valid path).",
        "zh": "无法读取本机上的 “{path}”（没有访问权限，或者路径无效）。",
    },
    "err_no_parquet": {
        "en": "No .parquet files in '{path}'.",
        "zh": "“{path}” 中没有 .parquet 文件。",
    },
    "err_train_columns": {
        "en": "'{file}' lacks the columns {missing}; a longdep train history needs 'step', "
        "'loss' and 'model' (and usually 'run', 'task', 'length').",
        "zh": "“{file}” 缺少列 {missing}；longdep train 的训练记录需要 'step'、'loss' 和 'model'"
        "（通常还有 'run'、'task'、'length'）。",
    },
    "err_train_values": {
        "en": "'{file}': column '{column}' must be numeric (and 'step' without NaN).",
        "zh": "“{file}”：列 “{column}” 必须是数值（且 'step' 中不能有 NaN）。",
    },
    "err_csv": {
        "en": "'{file}' is not a readable CSV file.",
        "zh": "“{file}” 不是可读取的 CSV 文件。",
    },
    # hear page -------------------------------------------------------------------------
    "nav_hear": {"en": "Which words are heard?", "zh": "还听得见哪些词？"},
    "p7_title": {
        "en": "Which words does the model still hear?",
        "zh": "模型还能“听见”哪些词？",
    },
    "p7_intro": {
        "en": "Who is “he”? To answer, a model reading the sentence word by word must still "
        "hold the name when it reaches the pronoun, many words later. Five small models were "
        "trained here, in a few seconds, on made-up sentences in which a pronoun refers to a "
        "name further back. Now they read the sentence below, and we measure exactly how much "
        "each word still reaches each later word.",
        "zh": "“他”是谁？模型逐词阅读句子，读到代词时，必须还记得很多个词之前出现的名字才能回答。"
        "这里用几秒钟训练了五个小模型，训练数据是自动生成的句子：句中的代词指向前面的某个名字。"
        "现在让它们读下面这句话，并精确测量每个词还能在多大程度上影响后面的词。",
    },
    "p7_extra": {
        "en": "Extra words between the name and the pronoun",
        "zh": "在名字和代词之间再插入的词数",
    },
    "p7_extra_help": {
        "en": "Inserts words before the pronoun, so that it stands further from the name.",
        "zh": "在代词前插入词语，让代词离名字更远。",
    },
    "p7_seed": {"en": "Training seed", "zh": "训练随机种子"},
    "p7_seed_help": {
        "en": "Another seed trains the five models again from a different start (a few seconds).",
        "zh": "换一个种子，就从另一个起点重新训练这五个模型（需要几秒钟）。",
    },
    "p7_training": {
        "en": "Training the five models (a few seconds, once)…",
        "zh": "正在训练五个模型（只需几秒钟，仅训练一次）……",
    },
    "p7_model_rnn": {"en": "vanilla RNN", "zh": "普通 RNN"},
    "p7_model_lstm": {"en": "LSTM", "zh": "LSTM"},
    "p7_model_gru": {"en": "GRU", "zh": "GRU"},
    "p7_model_mingru": {"en": "minGRU (2024)", "zh": "minGRU（2024 年）"},
    "p7_model_attention": {"en": "attention", "zh": "自注意力"},
    "p7_share_header": {
        "en": "How much of “{pronoun}” still comes from “{name}”?",
        "zh": "“{pronoun}”里还有多少来自“{name}”？",
    },
    "p7_share_axis": {
        "en": "share of what “{pronoun}” depends on that is “{name}”",
        "zh": "“{pronoun}”所依赖的内容中“{name}”所占的比例",
    },
    "p7_metric_help": {
        "en": "The connectivity ‖∂h_t/∂x_k‖ of the pronoun's row (t = “{pronoun}”) on the name "
        "(k = “{name}”), divided by the sum of that row over all words up to the pronoun.",
        "zh": "代词所在行（t = “{pronoun}”）在名字（k = “{name}”）上的连通度 ‖∂h_t/∂x_k‖，"
        "除以这一行从句首到代词的所有词的连通度之和。",
    },
    "p7_answer": {
        "en": "answers “{name}”: {p}",
        "zh": "回答“{name}”的概率：{p}",
    },
    "p7_summary": {
        "en": "“{pronoun}” is {distance} words after “{name}”. Here “{pronoun}” hears “{name}” "
        "most clearly in **{best}** ({best_share} of what it depends on) and least in "
        "**{worst}** ({worst_share}). A model that listened to all {n} words up to "
        "“{pronoun}” equally would give each {even}.",
        "zh": "“{pronoun}”在“{name}”之后 {distance} 个词。在这里，“{pronoun}”最清楚地“听见”"
        "“{name}”的是 **{best}**（占它所依赖内容的 {best_share}），最弱的是 **{worst}**"
        "（{worst_share}）。如果模型对到“{pronoun}”为止的 {n} 个词一视同仁，每个词会各占 {even}。",
    },
    "p7_map_header": {
        "en": "Which word listens to which: the connectivity map",
        "zh": "哪个词在听哪个词：连通度图",
    },
    "p7_model": {"en": "Model", "zh": "模型"},
    "p7_axis_k": {"en": "word read earlier (k)", "zh": "先前读到的词（k）"},
    "p7_axis_t": {"en": "where the model is now (t)", "zh": "模型当前所在的词（t）"},
    "p7_color": {"en": "share of the row", "zh": "占该行的比例"},
    "p7_map_caption": {
        "en": "Each row is a moment while reading; each square in it, a word read so far. A "
        "darker square: that word still shapes the model's memory more. The red row is "
        "“{pronoun}”, the square with the black frame is “{name}”. Each row adds up to 100 %.",
        "zh": "每一行是阅读过程中的一个时刻；行中的每个方块是到那时为止读过的一个词。方块越深，"
        "说明那个词对模型记忆的影响越大。红框的一行是“{pronoun}”，黑框的方块是“{name}”。"
        "每一行加起来是 100 %。",
    },
    "p7_teacher_header": {"en": "How to read this in class", "zh": "课堂上怎么讲"},
    "p7_teacher": {
        "en": "- **The question.** To know who “{pronoun}” is, the model must still carry "
        "“{name}” when it reaches “{pronoun}”. The number above says how much of what the model "
        "holds at “{pronoun}” still comes from “{name}”.\n"
        "- **Vanilla RNN.** Every word passes its memory on through one multiplication. Over "
        "many words this fades like a whispered message in the telephone game: the row of "
        "“{pronoun}” is dark only near the diagonal, and “{name}” is almost white.\n"
        "- **LSTM, GRU and minGRU.** Gates let the model keep a note and decide when to "
        "overwrite it, so the name can travel further. The share is usually larger, and it "
        "falls more slowly when you insert more words with the slider.\n"
        "- **Attention.** At “{pronoun}” it can look back at every word directly, with no chain "
        "in between: in the telephone game, everyone hears the original message.\n"
        "- **What is measured.** The exact sensitivity ‖∂h_t/∂x_k‖ of the model's state at "
        "word t to word k (the “connectivity”, Madsen 2019), not a guess. The small line under "
        "each number is what the model answers: how sure it is that “{pronoun}” means “{name}”.",
        "zh": "- **问题。** 要知道“{pronoun}”是谁，模型读到“{pronoun}”时必须还带着“{name}”。"
        "上面的数字表示：模型在“{pronoun}”处的记忆中，还有多少来自“{name}”。\n"
        "- **普通 RNN。** 每读一个词，记忆都要经过一次矩阵乘法才能传下去。经过很多个词之后，"
        "信息就像“传话游戏”里悄悄传递的话一样逐渐消失：“{pronoun}”那一行只有对角线附近是深色，"
        "“{name}”几乎是白色。\n"
        "- **LSTM、GRU 和 minGRU。** 门控让模型可以把信息记下来，并决定什么时候覆盖它，"
        "所以名字能传得更远。它们的比例通常更大，用滑块插入更多词时下降得也更慢。\n"
        "- **自注意力。** 在“{pronoun}”处它可以直接回看每一个词，中间没有传递链条："
        "就像传话游戏里每个人都能听到原话。\n"
        "- **测量的是什么。** 模型在第 t 个词处的状态对第 k 个词的精确敏感度 ‖∂h_t/∂x_k‖"
        "（即“连通度”，Madsen 2019），而不是估计。每个数字下面的小字是模型的回答："
        "它有多确定“{pronoun}”指的是“{name}”。",
    },
    "p7_how": {
        "en": "Each model: hidden size {H}, {steps} Adam steps on generated sentences of {length} "
        "words (a name among the first few words, the pronoun 2 to {gap} words later, the "
        "answer read at the pronoun). No external data.",
        "zh": "每个模型：隐藏维度 {H}，在自动生成的 {length} 词句子上用 Adam 训练 {steps} 步"
        "（名字出现在前几个词中，代词在它之后 2 到 {gap} 个词处，在代词处读出答案）。"
        "不使用任何外部数据。",
    },
    # your model layers -----------------------------------------------------------------
    "p5_kind_stack": {
        "en": "a stack of {n} {kind} layers",
        "zh": "{n} 层堆叠的 {kind}",
    },
    "p5_kind_bidir": {
        "en": "a bidirectional {kind} with {n} layers",
        "zh": "{n} 层双向 {kind}",
    },
    "p5_found_many": {
        "en": "Found {n} recurrent models in the file; each one's decay is drawn below.",
        "zh": "在文件中找到 {n} 个循环模型；下面分别画出每个模型的梯度衰减。",
    },
    "p5_col_name": {"en": "name in the file", "zh": "文件中的名称"},
    "p5_col_kind": {"en": "kind", "zh": "类型"},
    "p5_col_layers": {"en": "recurrent layers", "zh": "循环层数"},
    "p5_models_shown": {"en": "Models shown", "zh": "显示的模型"},
    "p5_map_layer": {"en": "layer", "zh": "层"},
    "p5_map_caption_stack": {
        "en": "The depth × time map: each row is one layer (l0 at the bottom reads the input), "
        "each column a distance from the loss on the top layer's last output. The colour is "
        "‖∂L/∂h^l_t‖ on a log scale, through every path (the layer's own recurrence and every "
        "layer above it), as ld.Stack.grad_norms computes it.",
        "zh": "深度 × 时间图：每一行是一层（最下面的 l0 读取输入），每一列是到损失的距离，"
        "损失取在最上层的最后一个输出上。颜色表示 ‖∂L/∂h^l_t‖（对数刻度），包含所有路径"
        "（本层自身的循环以及上面的每一层），与 ld.Stack.grad_norms 的计算一致。",
    },
    "p5_map_caption_bidir": {
        "en": "Each row is one cell of the bidirectional model (l0 forward, l0_reverse "
        "backward, …), measured on its own: its gradient norm ‖∂L/∂h_t‖ on a log scale, "
        "against the distance from a loss on its last output.",
        "zh": "每一行是双向模型中的一个单元（l0 为正向，l0_reverse 为反向，……），单独测量："
        "颜色表示它的梯度范数 ‖∂L/∂h_t‖（对数刻度），横轴是到其最后一个输出上的损失的距离。",
    },
    "err_load": {
        "en": "The recurrent layers in this file cannot be put together: for example stacked "
        "layers whose sizes do not chain, a layer with a missing direction, or an LSTM with "
        "proj_size. Its tensors: {names}",
        "zh": "无法把这个文件中的循环层组合成模型：例如堆叠的各层尺寸对不上、某一层缺少一个方向，"
        "或者 LSTM 使用了 proj_size。文件中的张量：{names}",
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
